"""Hashing one file safely: never block, never follow a link, say why when there is no digest."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from envsecops.model.bag import Status

CHUNK = 1 << 20  # bytes per read: one reusable buffer per worker thread
FADVISE_FROM = 8 << 20  # files at least this large get POSIX_FADV_SEQUENTIAL
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

PathLike = str | bytes
StepHook = Callable[[str, PathLike], None]
"""Test seam: called with ("stat", path) before the open and ("read", path) after each chunk."""
Row = tuple[str, str | None, int, int, str]
"""What a worker sends back for one file: status, digest, size, mode, detail."""

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_STATUS = {status.value: status for status in Status}
_OK = Status.OK.value
_local = threading.local()


@dataclass(frozen=True, slots=True)
class FileHash:
    """The outcome for one file: a digest when ``status`` is OK, otherwise why not."""

    status: Status
    digest: str | None
    size: int
    mode: int
    detail: str = ""

    @classmethod
    def from_row(cls, row: Row) -> FileHash:
        """The outcome a worker reported."""
        return cls(_STATUS[row[0]], row[1], row[2], row[3], row[4])


def special_kind(mode: int) -> str | None:
    """'a FIFO', 'a socket', ... for a mode that is neither a file, a directory nor a link."""
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), None)


def _buffer() -> tuple[bytearray, memoryview]:
    pair: tuple[bytearray, memoryview] | None = getattr(_local, "buffer", None)
    if pair is None:
        data = bytearray(CHUNK)
        pair = (data, memoryview(data))
        _local.buffer = pair
    return pair


def _row(status: Status, detail: str, size: int = 0, mode: int = 0) -> Row:
    return (status.value, None, size, mode, detail)


def _not_regular(mode: int) -> Row | None:
    """Why a file of this mode is never opened, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return _row(Status.CHANGED, "became a symbolic link", mode=mode)
    if stat.S_ISDIR(mode):
        return _row(Status.UNREADABLE, "is a directory, not a file", mode=mode)
    return _row(Status.SPECIAL, f"{special_kind(mode) or 'not a file'}: never opened", mode=mode)


def hash_one(
    path: PathLike,
    hook: StepHook | None = None,
    keep: bytearray | None = None,
    limit: int = 0,
    *,
    listed: bool = False,
) -> Row:
    """Hash ``path``: the protocol every file goes through (see `Hasher` for the outcomes).

    ``listed`` means the caller just read the name from its directory as a regular file, so
    the ``lstat`` before the open is skipped (a bench showed it costs ~12% on small files); a
    name that is something else by the time it is opened is CHANGED and is never read.
    """
    before = None
    if not listed:
        try:
            before = os.lstat(path)
        except FileNotFoundError:
            return _row(Status.VANISHED, "no longer exists")
        except OSError as exc:
            return _row(Status.UNREADABLE, f"cannot stat: {exc.strerror}")
        refused = _not_regular(before.st_mode)
        if refused is not None:
            return refused
    if hook is not None:
        hook("stat", path)
    try:
        fd = os.open(path, OPEN_FLAGS)
    except FileNotFoundError:
        return _row(Status.VANISHED, "removed before it was opened")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _row(Status.CHANGED, "replaced by a symbolic link before it was opened")
        if exc.errno == errno.ENXIO:  # a socket
            return _row(Status.CHANGED, "no longer a regular file when opened")
        return _row(Status.UNREADABLE, f"cannot open: {exc.strerror}")
    try:
        return _read_open(fd, path, before, hook, keep, limit)
    except OSError as exc:
        return _row(Status.UNREADABLE, f"read failed: {exc.strerror}")
    finally:
        os.close(fd)


def _read_open(
    fd: int,
    path: PathLike,
    before: os.stat_result | None,
    hook: StepHook | None,
    keep: bytearray | None,
    limit: int,
) -> Row:
    opened = os.fstat(fd)
    mode = opened.st_mode
    if before is not None and (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
        return _row(Status.CHANGED, "replaced between stat and open", mode=mode)
    if not stat.S_ISREG(mode):
        return _row(Status.CHANGED, "no longer a regular file when opened", mode=mode)
    size = opened.st_size
    if size < CHUNK:  # most files: one read of one byte more than fstat said (growth shows)
        content = os.read(fd, size + 1)
        sha = hashlib.sha256(content)
        total = len(content)
        if keep is not None and total <= limit:
            keep += content
        if hook is not None:
            hook("read", path)
    else:
        sha, total = _stream(fd, path, size, hook, keep, limit)
    after = os.fstat(fd)
    if after.st_nlink == 0:  # its last name went: unlinked, or another file renamed over it
        return _row(Status.CHANGED, "removed or replaced while it was read", total, mode)
    moved = (after.st_size, after.st_mtime_ns, after.st_ctime_ns, after.st_nlink) != (
        opened.st_size,
        opened.st_mtime_ns,
        opened.st_ctime_ns,
        opened.st_nlink,
    )
    if moved or total != size:
        detail = "changed while it was read (size, mtime, ctime or link count moved)"
        return _row(Status.CHANGED, detail, total, mode)
    return (_OK, "sha256:" + sha.hexdigest(), total, mode, "")


def _stream(
    fd: int, path: PathLike, size: int, hook: StepHook | None, keep: bytearray | None, limit: int
) -> tuple[hashlib._Hash, int]:
    """Read a large file in chunks into one reused buffer: memory stays at one chunk."""
    if size >= FADVISE_FROM:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
    data, view = _buffer()
    sha = hashlib.sha256()
    total = 0
    while True:
        count = os.readv(fd, [data])
        if not count:
            break
        sha.update(view[:count])
        total += count
        if keep is not None and total <= limit:
            keep += view[:count]
        if hook is not None:
            hook("read", path)
        if count < CHUNK and total >= size:
            break  # a short read at the size fstat reported is the end of a regular file
    return sha, total


def hash_batch(paths: Sequence[PathLike], hook: StepHook | None, listed: bool) -> list[Row]:
    """Worker entry point: one row per path, in order; never raises for a file's problem."""
    return [hash_one(path, hook, listed=listed) for path in paths]
