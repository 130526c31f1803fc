"""The ledger entries a mint appends: drift, mint-intent, then mint-issued or mint-failed.

Every entry has the body `envsecops record` writes (:func:`record_body`: the decision id, the
whole decision) plus the ``intent`` (provider, target, audience, duration, run) and, by kind,
the ``credential`` issued (never a secret), the ``error`` or the ``drift``. The intent is
appended to every configured ledger before any provider call; when that fails part-way, the
ledgers that did take it get a mint-failed entry (best effort), so no intent stands alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envsecops.errors import InfraError
from envsecops.model.ledger import EntryKind

if TYPE_CHECKING:
    from envsecops.ledger.interface import Ledger, Receipt
    from envsecops.model.bag import BagDiff
    from envsecops.model.decision import Credential, Decision


class NotRecorded(InfraError):
    """An entry did not reach every configured ledger (exit 3)."""

    def __init__(self, message: str, *, fix: str | None, recorded: Sequence[Receipt]) -> None:
        super().__init__(message, fix=fix)
        self.recorded = tuple(recorded)


def held(receipts: Sequence[Receipt]) -> str:
    """``ledger (location)`` for each receipt, or "no ledger"."""
    return ", ".join(f"{r.ledger} ({r.location})" for r in receipts) or "no ledger"


@dataclass(frozen=True, slots=True)
class Written:
    """The receipts of one entry, and what went wrong when it is not in every ledger."""

    kind: EntryKind
    receipts: tuple[Receipt, ...]
    problem: str | None = None


class MintLedger:
    """Appends this mint's entries about ``decision`` to every ledger in ``ledgers``."""

    def __init__(
        self, ledgers: Sequence[Ledger], decision: Decision, intent: Mapping[str, str]
    ) -> None:
        self.ledgers = list(ledgers)
        self.decision = decision
        self.intent_fields = dict(intent)
        self.intent_receipts: tuple[Receipt, ...] = ()
        self.written: list[Written] = []

    @property
    def names(self) -> list[str]:
        """The configured ledgers, in order."""
        return [ledger.name for ledger in self.ledgers]

    def body(self, **parts: Any) -> dict[str, Any]:
        """The entry body: the decision, the intent, and ``parts``."""
        from envsecops.ledger.audit import record_body

        return record_body(self.decision, intent=self.intent_fields, **parts)

    def _append(
        self, kind: EntryKind, body: Mapping[str, Any], ledgers: Sequence[Ledger]
    ) -> Written:
        from envsecops.ledger.registry import PartialWrite, append_all

        try:
            written = Written(kind, tuple(append_all(ledgers, kind, body)))
        except PartialWrite as exc:
            written = Written(kind, exc.recorded, exc.diagnostics())
        except InfraError as exc:
            written = Written(kind, (), exc.diagnostics())
        self.written.append(written)
        return written

    def intent(self) -> tuple[Receipt, ...]:
        """mint-intent in every ledger, or NotRecorded (and no token is to be requested)."""
        written = self._append(EntryKind.MINT_INTENT, self.body(), self.ledgers)
        if written.problem is None:
            self.intent_receipts = written.receipts
            return written.receipts
        if written.receipts:  # those ledgers must not hold an intent without an outcome
            taken = {r.ledger for r in written.receipts}
            self._append(
                EntryKind.MINT_FAILED,
                self.body(error="abandoned before any provider call: " + _first(written.problem)),
                [ledger for ledger in self.ledgers if ledger.name in taken],
            )
        raise NotRecorded(
            "the intent to mint could not be recorded in every configured ledger, so no token "
            f"was requested and nothing was minted: {written.problem}",
            fix="make every ledger the policy names reachable and writable, then run verify "
            "and mint again",
            recorded=written.receipts,
        )

    def failed(self, error: str) -> Written:
        """mint-failed in every ledger that holds the intent (never raises)."""
        taken = {r.ledger for r in self.intent_receipts}
        return self._append(
            EntryKind.MINT_FAILED,
            self.body(error=error),
            [ledger for ledger in self.ledgers if ledger.name in taken],
        )

    def issued(self, credential: Credential) -> Written:
        """mint-issued in every ledger; the caller fails loudly when ``problem`` is set."""
        return self._append(EntryKind.MINT_ISSUED, self.body(credential=credential), self.ledgers)

    def drift(self, diff: BagDiff | None, error: str) -> Written:
        """A drift entry in every ledger (never raises): the diff when known, else the why."""
        if diff is not None:
            return self._append(EntryKind.DRIFT, self.body(drift=diff, error=error), self.ledgers)
        return self._append(EntryKind.DRIFT, self.body(error=error), self.ledgers)


def _first(text: str) -> str:
    return text.splitlines()[0] if text else text
