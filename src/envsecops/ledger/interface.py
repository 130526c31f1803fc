"""The ledger interface: `append` and `entries`, no update, no delete."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from envsecops.errors import InfraError
from envsecops.model.ledger import EntryKind, LedgerEntry


class LedgerError(InfraError):
    """The ledger could not be written or read: nothing is assumed recorded."""


class LedgerConflict(LedgerError):
    """A create-only write met different content under the same key."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where an entry now lives: ledger name, location (path or s3 URI/key), seq, digest."""

    ledger: str
    location: str
    digest: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect `audit verify` found: where, and what."""

    where: str
    message: str


class Ledger(ABC):
    """An append-only store of LedgerEntry records."""

    name: str

    @abstractmethod
    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        """Durably record one entry or raise LedgerError; never a partial success."""

    @abstractmethod
    def entries(self) -> Iterator[LedgerEntry]:
        """Every entry, oldest first where the store has an order."""

    @abstractmethod
    def verify(self) -> list[Problem]:
        """Integrity problems (chain, gaps, torn lines, retention); empty when sound."""
