"""Streaming reader of a file ledger: each line with its entry or its problem, up to a snapshot."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from envsecops.ledger.codec import MAX_ENTRY_BYTES, decode
from envsecops.ledger.interface import LedgerError
from envsecops.model.bag import ModelError
from envsecops.model.ledger import LedgerEntry

SKIP_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Record:
    """One line: where it is, and either the entry it holds or why it holds none."""

    where: str
    line: int
    entry: LedgerEntry | None
    problem: str | None = None
    digest: str | None = None


def read_records(path: Path) -> Iterator[Record]:
    """Yield every line of the ledger as it was when reading began.

    The size is taken under a shared lock, when no append is half-written, and nothing past
    it is read: a reader never mistakes a concurrent writer's line in progress for a torn one,
    and a long read never holds writers up.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise LedgerError(
            f"{path}: no such ledger file",
            fix="check the --ledger path (file:PATH); a ledger exists once something is recorded",
        ) from exc
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the ledger ({exc.strerror or exc})") from exc
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
            size = os.fstat(handle.fileno()).st_size
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            yield from _records(handle, size, path)
        except OSError as exc:
            raise LedgerError(f"{path}: cannot read the ledger ({exc.strerror or exc})") from exc


def _records(handle: BinaryIO, size: int, path: Path) -> Iterator[Record]:
    remaining, number = size, 0
    while remaining > 0:
        number += 1
        where = f"{path}:{number}"
        raw = handle.readline(min(remaining, MAX_ENTRY_BYTES + 1))
        if not raw:
            yield Record(where, number, None, "the file shrank while it was read (truncated?)")
            return
        remaining -= len(raw)
        if not raw.endswith(b"\n") and remaining > 0:
            remaining -= _skip_line(handle, remaining)
            yield Record(where, number, None, f"line longer than {MAX_ENTRY_BYTES:,} bytes")
            continue
        terminated = raw.endswith(b"\n")
        content = raw[:-1] if terminated else raw
        try:
            stored = decode(content)
        except ModelError as exc:
            yield Record(where, number, None, _why(exc, content, terminated))
            continue
        if stored.entry.seq is not None:
            where = f"{where} (seq {stored.entry.seq})"
        yield Record(where, number, stored.entry, None, stored.digest)


def _why(exc: ModelError, content: bytes, terminated: bool) -> str:
    if not terminated:
        return (
            f"torn last line ({len(content):,} bytes, no newline): a writer stopped mid-append; "
            "that entry was never acknowledged, and the entries before it are intact"
        )
    if not content:
        return "empty line: not a valid entry"
    return (
        f"not a valid entry: {exc} — a torn write that a later append stepped over, "
        "or damage or tampering"
    )


def _skip_line(handle: BinaryIO, remaining: int) -> int:
    """Consume the rest of an overlong line; return how many bytes that took."""
    skipped = 0
    while skipped < remaining:
        chunk = handle.readline(min(SKIP_CHUNK, remaining - skipped))
        if not chunk:
            break
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped
