"""Ledger entries: what is appended, how entries chain, and their digests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from envsecops.canonical import digest
from envsecops.model.bag import ModelError

ENTRY_VERSION = "1"


class EntryKind(StrEnum):
    """What an entry records (DESIGN §2)."""

    DECISION = "decision"
    MINT_INTENT = "mint-intent"
    MINT_ISSUED = "mint-issued"
    MINT_FAILED = "mint-failed"
    DRIFT = "drift"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One appended record.

    ``seq`` and ``prev`` chain a file ledger (monotonic counter; digest of the previous
    entry, None for the first). A store without a global order (S3: one locked object per
    entry) leaves them None and relies on content addressing and retention instead.
    ``digest`` is computed over everything else, so it names the entry.
    """

    kind: EntryKind
    body: Mapping[str, Any]
    recorded_at: str
    seq: int | None = None
    prev: str | None = None

    def content(self) -> dict[str, Any]:
        """The canonical content the digest covers."""
        return {
            "version": ENTRY_VERSION,
            "seq": self.seq,
            "prev": self.prev,
            "kind": self.kind.value,
            "recorded_at": self.recorded_at,
            "body": dict(self.body),
        }

    @property
    def digest(self) -> str:
        """`sha256:<hex>` of the canonical content."""
        return digest(self.content())

    def to_json(self) -> dict[str, Any]:
        """The content plus its digest."""
        return {**self.content(), "digest": self.digest}

    @classmethod
    def from_json(cls, data: Any) -> LedgerEntry:
        """Parse an entry; a stated digest that does not match is a ModelError."""
        if not isinstance(data, Mapping) or data.get("version") != ENTRY_VERSION:
            raise ModelError("not a version-1 ledger entry")
        seq, prev, body = data.get("seq"), data.get("prev"), data.get("body")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            raise ModelError("ledger `seq` must be a non-negative integer")
        if prev is not None and not isinstance(prev, str):
            raise ModelError("ledger `prev` must be a digest string")
        if not isinstance(body, Mapping) or not isinstance(data.get("recorded_at"), str):
            raise ModelError("ledger entry needs an object `body` and a string `recorded_at`")
        try:
            kind = EntryKind(str(data.get("kind")))
        except ValueError as exc:
            raise ModelError(str(exc)) from exc
        entry = cls(kind, dict(body), data["recorded_at"], seq, prev)
        if "digest" in data and data["digest"] != entry.digest:
            raise ModelError(f"ledger entry {seq} does not match its digest")
        return entry
