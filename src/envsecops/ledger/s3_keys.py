"""Where an S3 ledger entry lives: its content-addressed key, built and parsed back."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from envsecops.canonical import PREFIX as DIGEST_PREFIX
from envsecops.ledger.codec import parse_timestamp
from envsecops.model.ledger import LedgerEntry

UNKNOWN_REPOSITORY = "unknown"
DEFAULT_PREFIX = "ledger"
_REPOSITORY_ID = re.compile(r"[0-9]{1,20}")
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9._=-]{1,128}")
_REPOSITORY_PATHS: tuple[tuple[str, ...], ...] = (
    ("repository_id",),
    ("principal", "claims", "repository_id"),
    ("decision", "principal", "claims", "repository_id"),
)


@dataclass(frozen=True, slots=True)
class EntryKey:
    """The parts of `<prefix>/<repository id>/<yyyy>/<mm>/<dd>/<digest hex>.json`."""

    prefix: str
    repository: str
    day: str  # yyyy/mm/dd
    digest_hex: str

    @property
    def key(self) -> str:
        """The object key."""
        return f"{self.prefix}/{self.repository}/{self.day}/{self.digest_hex}.json"

    @property
    def digest(self) -> str:
        """The entry digest the key names."""
        return DIGEST_PREFIX + self.digest_hex


def normalise_prefix(prefix: str) -> str:
    """A key prefix of safe segments without leading or trailing slashes; ValueError otherwise."""
    segments = [s for s in prefix.strip("/").split("/") if s] or [DEFAULT_PREFIX]
    for segment in segments:
        if segment in {".", ".."} or not _PREFIX_SEGMENT.fullmatch(segment):
            raise ValueError(
                f"ledger prefix segment {segment!r} must be 1-128 of [A-Za-z0-9._=-], not . or .."
            )
    return "/".join(segments)


def repository_of(body: Mapping[str, Any]) -> str:
    """The numeric GitHub repository id an entry is about, or `unknown`.

    Looked up at `repository_id`, `principal.claims.repository_id` (a Decision) or
    `decision.principal.claims.repository_id`; anything that is not 1-20 digits is `unknown`,
    so no body can steer a key outside its prefix.
    """
    for path in _REPOSITORY_PATHS:
        value: Any = body
        for part in path:
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str) and _REPOSITORY_ID.fullmatch(value):
            return value
    return UNKNOWN_REPOSITORY


def key_for(prefix: str, entry: LedgerEntry, digest: str | None = None) -> EntryKey:
    """The key an entry is stored under (date from its `recorded_at`, in UTC).

    Pass ``digest`` when it is already known, to spare serialising the entry again.
    """
    moment = parse_timestamp(entry.recorded_at).astimezone(UTC)
    return EntryKey(
        prefix,
        repository_of(entry.body),
        moment.strftime("%Y/%m/%d"),
        (digest or entry.digest).removeprefix(DIGEST_PREFIX),
    )


def parse_key(prefix: str, key: str) -> EntryKey | None:
    """The parts of a ledger key under ``prefix``, or None when the key is not one."""
    pattern = (
        re.escape(prefix)
        + r"/([0-9]{1,20}|unknown)/([0-9]{4}/[0-9]{2}/[0-9]{2})/([0-9a-f]{64})\.json"
    )
    match = re.fullmatch(pattern, key)
    if match is None:
        return None
    try:
        datetime.strptime(match.group(2), "%Y/%m/%d")
    except ValueError:
        return None
    return EntryKey(prefix, match.group(1), match.group(2), match.group(3))
