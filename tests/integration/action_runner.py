"""What the action-script tests share: executable stand-ins and a venv the scripts accept."""

from __future__ import annotations

import hashlib
import stat
import sys
from pathlib import Path

from tests.conftest import ROOT


def executable(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (parents made) and make it executable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def ready_venv(action: Path) -> None:
    """A venv stand-in the scripts accept: this interpreter, and the stamp they compute."""
    executable(action / ".venv" / "bin" / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    digest = hashlib.sha256(sys.version.encode())
    for name in ("requirements/runtime.lock", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    (action / ".venv" / ".envsecops-stamp").write_text(digest.hexdigest() + "\n", "utf-8")
