"""The embedded default ledger: hash-chained JSON lines, locked, fsynced, safe across processes.

One entry per line, each the canonical JSON of `LedgerEntry.to_json()` with `seq` counting
from 0 and `prev` the digest of the entry before it. A writer takes an exclusive `flock` on
the ledger file itself, reads only the last entry, appends one line with a single write loop
and `fsync`s (`F_FULLFSYNC` on macOS) before it returns a receipt, and the directory too when
it created the file. `flock` is advisory and local: every writer must be envsecops, and the
file must live on a local filesystem (not NFS or SMB, where `flock` may not be shared between
hosts). Reading the last entry costs the same however long the ledger grows.

A torn tail — bytes after the last newline that are not a complete entry, left by a writer
that died mid-write — was never acknowledged (its `append` never returned), so no credential
depends on it. The next append keeps those bytes where they are, starts a new line after
them and chains to the last complete entry: nothing is lost or rewritten, and `verify()`
reports the torn line by number for as long as the file exists. A *complete* last line that
does not parse or match its digest is not a crash artefact but damage or tampering, and every
append is refused until an operator has looked (`envsecops audit verify`).
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envsecops.ledger.codec import (
    MAX_ENTRY_BYTES,
    Clock,
    Stored,
    decode,
    encode,
    timestamp,
    utc_now,
)
from envsecops.ledger.file_read import Record, read_records
from envsecops.ledger.interface import Ledger, LedgerError, Problem, Receipt
from envsecops.model.bag import ModelError
from envsecops.model.ledger import EntryKind, LedgerEntry

CHUNK = 64 * 1024
FILE_MODE = 0o644


@dataclass(frozen=True, slots=True)
class _Tail:
    """What the next append builds on: its seq, its prev, and bytes to write first."""

    seq: int
    prev: str | None
    separator: bytes


class FileLedger(Ledger):
    """A JSON-lines ledger at ``path``; appends from any number of processes interleave safely."""

    def __init__(self, path: Path | str, *, clock: Clock = utc_now) -> None:
        self.path = Path(path).absolute()
        self.name = f"file:{self.path}"
        self._clock = clock

    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        """Lock, chain to the last entry, write one line, fsync; the receipt means it is durable."""
        fd = self._open_for_append()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            tail = self._tail(fd, os.fstat(fd).st_size)
            stored = encode(self.name, kind, body, timestamp(self._clock()), tail.seq, tail.prev)
            _write_all(fd, tail.separator + stored.data + b"\n")
            _sync(fd)
        except OSError as exc:
            raise LedgerError(
                f"{self.path}: could not append ({exc.strerror or exc}); the entry is not "
                "recorded (a partial line, if any, stays and `audit verify` names it)",
                fix="check free space, permissions and the filesystem, then run the step again",
            ) from exc
        finally:
            os.close(fd)  # also releases the lock
        return Receipt(self.name, str(self.path), stored.digest, stored.entry.seq)

    def entries(self) -> Iterator[LedgerEntry]:
        """Every entry in file order; a line that is not a valid entry raises LedgerError.

        This checks each line on its own (canonical form, digest); `verify()` checks the
        chain. Use `records()` to read past damaged lines while seeing them.
        """
        for record in self.records():
            if record.problem is not None:
                raise LedgerError(
                    f"{record.where}: {record.problem}",
                    fix=f"run `envsecops audit verify --ledger {self.name}` for the whole report",
                )
            if record.entry is not None:
                yield record.entry

    def records(self) -> Iterator[Record]:
        """Every line in order, each with its entry or the problem that stops it parsing."""
        return read_records(self.path)

    def verify(self) -> list[Problem]:
        """Torn, unparseable or altered lines, seq gaps or duplicates, and broken `prev` links.

        Every damaged line is one problem. The entry after damaged lines may continue the
        chain from the last sound entry (a torn write stepped over) or take the seqs the
        damaged lines held up (an altered entry), whose digests are unknown: then its
        `prev` cannot be checked, and only the damage itself is reported.
        """
        problems: list[Problem] = []
        last: Record | None = None
        damaged = 0
        for record in self.records():
            entry = record.entry
            if entry is None or entry.seq is None:
                why = record.problem or "entry has no `seq`: not a file-ledger entry"
                problems.append(Problem(record.where, why))
                damaged += 1
                continue
            problems.extend(_chain_problems(last, record, entry, entry.seq, damaged))
            last, damaged = record, 0
        return problems

    def _open_for_append(self) -> int:
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
            except FileExistsError:
                fd = os.open(self.path, flags)
            else:
                _fsync_directory(self.path.parent)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise LedgerError(f"{self.path}: not a regular file; nothing was recorded")
        except OSError as exc:
            raise LedgerError(
                f"{self.path}: cannot open the ledger for appending ({exc.strerror or exc}); "
                "nothing was recorded",
                fix="point the ledger at a writable file on a local filesystem",
            ) from exc
        return fd

    def _tail(self, fd: int, size: int) -> _Tail:
        """Find the last complete entry without reading the whole file."""
        if size == 0:
            return _Tail(0, None, b"")
        if os.pread(fd, 1, size - 1) == b"\n":
            return self._after(fd, _line_start(fd, size - 1, self.path), size - 1, b"")
        start = _line_start(fd, size, self.path)
        try:  # a complete entry whose newline never made it: finish its line and chain to it
            return self._built_on(decode(os.pread(fd, size - start, start)), b"\n")
        except ModelError:
            pass  # torn: the bytes stay; the new line starts after them
        if start == 0:
            return _Tail(0, None, b"\n")
        return self._after(fd, _line_start(fd, start - 1, self.path), start - 1, b"\n")

    def _after(self, fd: int, start: int, end: int, separator: bytes) -> _Tail:
        try:
            return self._built_on(decode(os.pread(fd, end - start, start)), separator)
        except ModelError as exc:
            line = _line_number(fd, start)
            raise LedgerError(
                f"{self.path}:{line}: the last complete line is not a valid entry ({exc}); "
                "refusing to chain to it, nothing was recorded",
                fix=(
                    f"run `envsecops audit verify --ledger {self.name}`: the file was altered "
                    "or damaged outside envsecops. Keep it as evidence and configure a new "
                    "ledger file; do not edit this one"
                ),
            ) from exc

    def _built_on(self, stored: Stored, separator: bytes) -> _Tail:
        if stored.entry.seq is None:
            raise ModelError("the entry has no `seq`")
        return _Tail(stored.entry.seq + 1, stored.digest, separator)


def _chain_problems(
    last: Record | None, record: Record, entry: LedgerEntry, seq: int, damaged: int
) -> list[Problem]:
    if last is None or last.entry is None or last.entry.seq is None:
        expected_seq, expected_prev, after = 0, None, "at the start of the ledger"
    else:
        expected_seq, expected_prev = last.entry.seq + 1, last.digest
        after = f"after seq {last.entry.seq} ({last.where})"
    if expected_seq < seq <= expected_seq + damaged:
        return []  # the damaged lines held the seqs between; they are reported already
    problems = []
    if seq < expected_seq:
        problems.append(Problem(record.where, f"duplicate or reordered seq {seq} {after}"))
    elif seq > expected_seq:
        missing = f"seq {expected_seq}" + (f"..{seq - 1}" if seq - 1 > expected_seq else "")
        problems.append(Problem(record.where, f"gap: {missing} missing {after}"))
    if entry.prev != expected_prev:
        problems.append(
            Problem(
                record.where,
                f"`prev` {entry.prev} does not chain: expected {expected_prev} {after} "
                "(an entry was removed, altered or inserted)",
            )
        )
    return problems


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync(fd: int) -> None:
    """Flush to stable storage (macOS: `F_FULLFSYNC`; its `fsync` stops at the drive cache)."""
    full = getattr(fcntl, "F_FULLFSYNC", None)
    if full is None:
        os.fsync(fd)
    else:  # pragma: no cover - macOS
        fcntl.fcntl(fd, full)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _sync(fd)
    finally:
        os.close(fd)


def _line_start(fd: int, end: int, path: Path) -> int:
    """The offset just after the last newline before ``end`` (0 when there is none)."""
    position = end
    while position > 0:
        if end - position > MAX_ENTRY_BYTES + CHUNK:
            raise LedgerError(
                f"{path}: the last line is longer than {MAX_ENTRY_BYTES:,} bytes, longer than "
                "any entry; refusing to append, nothing was recorded",
                fix="run `envsecops audit verify`; keep the file as evidence and start a new one",
            )
        begin = max(0, position - CHUNK)
        found = os.pread(fd, position - begin, begin).rfind(b"\n")
        if found >= 0:
            return begin + found + 1
        position = begin
    return 0


def _line_number(fd: int, offset: int) -> int:
    """The 1-based number of the line starting at ``offset`` (an error path: reads the prefix)."""
    count, position = 1, 0
    while position < offset:
        chunk = os.pread(fd, min(CHUNK, offset - position), position)
        if not chunk:
            break
        count += chunk.count(b"\n")
        position += len(chunk)
    return count
