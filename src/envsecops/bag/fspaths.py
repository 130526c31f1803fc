"""File names in the bag: deterministic escaping, and symbolic links resolved under a root."""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from envsecops.model.bag import Status

MAX_LINK_HOPS = 40  # the Linux kernel's limit (ELOOP beyond it)
_PLAIN = re.compile(r"[^%\x00-\x1f\x7f]*\Z")
_ESCAPES: dict[int, str] = {
    **{0xDC00 + byte: f"%{byte:02X}" for byte in range(0x80, 0x100)},
    **{code: f"%{code:02X}" for code in [*range(0x20), 0x25, 0x7F]},
}


def escape_name(raw: bytes | str) -> str:
    """A file name or path as printable, JSON-safe UTF-8 text, the same on every machine.

    Valid UTF-8 is kept as it is, except three things, which are written as ``%XX`` (upper-case
    hex of the byte, as in RFC 3986): every byte that is not part of valid UTF-8, every control
    character (0x00-0x1F, 0x7F), and ``%`` itself. The mapping is one-to-one, so two different
    names never print alike, and a name with no such byte prints unchanged: ``caf\\xe9.txt``
    (Latin-1 bytes) becomes ``caf%E9.txt``, ``100%.txt`` becomes ``100%25.txt``.
    """
    data = raw if isinstance(raw, bytes) else os.fsencode(raw)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
    else:
        if _PLAIN.match(text):
            return text
    return text.translate(_ESCAPES)


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a runner path leads once every symbolic link on the way is followed under the root.

    ``path`` is the runner path reached (best effort when ``status`` is not OK), ``links`` the
    runner paths of every symbolic link followed, ``detail`` what went wrong.
    """

    path: bytes
    status: Status
    links: tuple[bytes, ...] = ()
    detail: str = ""


class RootResolver:
    """Follows symbolic links as the runner would, but inside ``root`` (like ``chroot``).

    Absolute link targets restart at ``root`` and ``..`` stops at it, so a test tree resolves
    exactly like the machine it stands for, and nothing is ever read from outside ``root``.
    """

    def __init__(self, root: Path) -> None:
        self.root = os.fsencode(root.resolve())

    def host(self, runner_path: bytes | str) -> bytes:
        """The host path of a runner path."""
        raw = runner_path if isinstance(runner_path, bytes) else os.fsencode(runner_path)
        if self.root == b"/":
            return b"/" + raw.lstrip(b"/")
        return self.root + b"/" + raw.lstrip(b"/")

    def resolve(self, runner_path: bytes | str) -> Resolved:
        """Follow every link in ``runner_path``; never loops, never leaves the root."""
        raw = runner_path if isinstance(runner_path, bytes) else os.fsencode(runner_path)
        pending = [part for part in reversed(raw.split(b"/")) if part]
        done: list[bytes] = []
        links: list[bytes] = []
        while pending:
            part = pending.pop()
            if part == b".":
                continue
            if part == b"..":
                if done:
                    done.pop()
                continue
            current = b"/" + b"/".join([*done, part])
            try:
                info = os.lstat(self.host(current))
            except OSError as exc:
                rest = b"/".join(reversed(pending))
                where = current + (b"/" + rest if rest else b"")
                return self._failed(where, exc, tuple(links))
            if not stat.S_ISLNK(info.st_mode):
                done.append(part)
                continue
            links.append(current)
            if len(links) > MAX_LINK_HOPS:
                detail = f"more than {MAX_LINK_HOPS} symbolic links (a loop)"
                return Resolved(current, Status.LOOP, tuple(links), detail)
            try:
                target = os.readlink(self.host(current))  # noqa: PTH115 - raw bytes
            except OSError as exc:
                return self._failed(current, exc, tuple(links))
            if target.startswith(b"/"):
                done = []
            pending.extend(part for part in reversed(target.split(b"/")) if part)
        return Resolved(b"/" + b"/".join(done), Status.OK, tuple(links))

    @staticmethod
    def _failed(where: bytes, exc: OSError, links: tuple[bytes, ...]) -> Resolved:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return Resolved(where, Status.VANISHED, links, "no such file (a dangling link?)")
        if exc.errno == errno.ELOOP:
            return Resolved(where, Status.LOOP, links, "symbolic link loop")
        return Resolved(where, Status.UNREADABLE, links, exc.strerror or str(exc))


def is_within(path: bytes, tree: bytes) -> bool:
    """Whether runner path ``path`` is ``tree`` or below it."""
    tree = tree.rstrip(b"/") or b"/"
    return path == tree or path.startswith(tree if tree == b"/" else tree + b"/")
