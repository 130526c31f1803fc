"""Real-filesystem helpers for the bag tests: world-traversable temp trees, dropped privileges."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NOBODY = 65534


@contextmanager
def open_tree() -> Iterator[Path]:
    """A short, world-traversable temp dir (pytest's tmp_path is 0700 and its paths are long).

    Short paths keep AF_UNIX socket names under their 108-byte limit; world-traversable lets a
    test drop to ``nobody`` and still reach the files, so that only the file under test is
    unreadable.
    """
    base = Path(tempfile.mkdtemp(prefix="esx-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block without the power to read files that deny access.

    Tests run as root in CI containers, and root reads a mode-000 file anyway; so when the
    effective uid is 0 the block runs with the effective uid and gid of ``nobody`` (the real
    and saved ids stay root, so they are restored afterwards). As another user, mode 000
    already denies access and nothing changes.
    """
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def write(path: Path, data: bytes | str, mode: int = 0o644) -> Path:
    """Create ``path`` (and its parents) with ``data`` and ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)
    return path
