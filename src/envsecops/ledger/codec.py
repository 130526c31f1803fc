"""The stored form of a ledger entry: canonical JSON bytes, parsed back only if exact."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from envsecops.canonical import canonical_json, digest_bytes
from envsecops.ledger.interface import LedgerError
from envsecops.model.bag import ModelError
from envsecops.model.ledger import EntryKind, LedgerEntry

MAX_ENTRY_BYTES = 16 * 1024 * 1024
"""The largest stored entry: a decision is kilobytes; anything near this is a bug or an attack."""

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and a `Z`, the `recorded_at` form."""
    if moment.tzinfo is None:
        raise LedgerError("the ledger clock returned a naive datetime; it must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Parse a `recorded_at` value; ModelError when it is not ISO 8601 with a zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ModelError(f"`recorded_at` {text!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise ModelError(f"`recorded_at` {text!r} has no time zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Stored:
    """An entry, its digest, and the exact bytes that store it (one line, no newline)."""

    entry: LedgerEntry
    digest: str
    data: bytes


def serialise(entry: LedgerEntry) -> tuple[str, bytes]:
    """The entry's digest and stored bytes, `canonical_json(entry.to_json())`, body serialised once.

    RFC 8785 writes an object's members sorted, without whitespace, joined by commas. The
    body sorts first and `digest` second, before every other member, so both the digested
    content and the stored line are the body's serialisation spliced between the same
    small pieces. If the entry ever gains a member that sorts before `digest`, this falls
    back to serialising the whole entry twice.
    """
    content = entry.content()
    body = content.pop("body")
    if not content or min(content) <= "digest":  # pragma: no cover - guards a model change
        return entry.digest, canonical_json(entry.to_json())
    head = b'{"body":' + canonical_json(body)
    rest = b"," + canonical_json(content)[1:]
    value = digest_bytes(head + rest)
    return value, head + b',"digest":' + canonical_json(value) + rest


def encode(
    ledger: str,
    kind: EntryKind | str,
    body: Mapping[str, Any],
    recorded_at: str,
    seq: int | None = None,
    prev: str | None = None,
) -> Stored:
    """Build an entry and its stored bytes, or raise LedgerError naming ``ledger``."""
    try:
        kind = EntryKind(kind)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in EntryKind)
        raise LedgerError(f"{ledger}: entry kind {kind!r} is not one of {kinds}") from exc
    if not isinstance(body, Mapping):
        raise LedgerError(
            f"{ledger}: an entry body must be a JSON object, not {type(body).__name__}"
        )
    entry = LedgerEntry(kind, dict(body), recorded_at, seq, prev)
    try:
        value, data = serialise(entry)
    except (ValueError, TypeError, RecursionError) as exc:
        raise LedgerError(
            f"{ledger}: the entry body cannot be written as canonical JSON ({exc}); "
            "nothing was recorded",
            fix="bodies hold only strings, integers within ±2^53, booleans, null, lists, objects",
        ) from exc
    if len(data) > MAX_ENTRY_BYTES:
        raise LedgerError(
            f"{ledger}: the entry is {len(data):,} bytes, over the {MAX_ENTRY_BYTES:,}-byte "
            "limit; nothing was recorded",
            fix="record a digest of large evidence, not the evidence itself",
        )
    return Stored(entry, value, data)


def decode(raw: bytes) -> Stored:
    """Parse stored bytes; ModelError unless they are exactly what `encode` would write.

    Re-serialising and comparing byte for byte rejects reformatting, duplicate keys (which
    `json.loads` would silently resolve to the last one), unknown members and non-canonical
    numbers, so the bytes a reader checked are the bytes the digest names.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelError(f"not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"not JSON ({exc.msg} at column {exc.colno})") from exc
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"not usable JSON ({type(exc).__name__})") from exc
    if not isinstance(data, dict) or "digest" not in data:
        raise ModelError("not a ledger entry (a JSON object with a `digest`)")
    stated = data.pop("digest")
    entry = LedgerEntry.from_json(data)
    try:
        value, expected = serialise(entry)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ModelError(f"not canonical JSON ({exc})") from exc
    if value != stated:
        raise ModelError(f"ledger entry {entry.seq} does not match its digest")
    if expected != raw:
        raise ModelError(
            "not in canonical form (reformatted, reordered, duplicate or unknown members)"
        )
    parse_timestamp(entry.recorded_at)
    return Stored(entry, value, raw)
