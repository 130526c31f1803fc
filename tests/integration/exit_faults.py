"""Faulty backends for the exit-path tests: real subclasses of each interface that fail.

Each one raises the injected exception (an anticipated one such as ``OSError``, or an
unexpected one such as ``ZeroDivisionError``) at the point the interface is used: a
:class:`Signer` when signing, a :class:`Verifier` when verifying, a :class:`Cataloger` after
yielding one component, a :class:`Ledger` on append (or answering garbage), while iterating its
entries or when verifying itself, a :class:`Provider` when minting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar, cast

from envsecops.attest.interface import SignedAttestation, Signer, VerifiedPayload, Verifier
from envsecops.attest.key import KeySigner
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.creds.interface import IssuedCredential, MintRequest, Provider
from envsecops.ledger.interface import Ledger, Problem, Receipt
from envsecops.model.bag import Component, ComponentKind
from envsecops.model.ledger import EntryKind, LedgerEntry
from envsecops.policy.model import ProviderSettings

FAULTS: dict[str, Callable[[], Exception]] = {
    "RuntimeError": lambda: RuntimeError("injected fault: the backend broke"),
    "OSError": lambda: OSError(5, "injected fault: input/output error"),
    "ZeroDivisionError": lambda: ZeroDivisionError("injected fault: division by zero"),
}
"""The exceptions injected, by name: anticipated ones and one nothing anticipates."""
GARBAGE = "garbage"
"""Not an exception: the backend answers with a value of the wrong type."""


T = TypeVar("T")
REACHED: list[str] = []
"""The injected faults that fired (or garbage answers given), in order: a test clears it first
and checks it after, so a case that failed for another reason (a usage error) is noticed."""


def fault(name: str) -> Exception:
    """A fresh instance of the injected exception ``name`` (noted in :data:`REACHED`)."""
    REACHED.append(name)
    return FAULTS[name]()


def garbage(value: object, _posing_as: type[T]) -> T:
    """``value``, posing as a ``T``: the wrong-typed answer of a backend (noted in REACHED)."""
    REACHED.append(GARBAGE)
    return cast("T", value)


class RaisingSigner(Signer):
    """A signer whose every signature fails."""

    def __init__(self, name: str) -> None:
        self.fault = name

    def sign(self, payload_type: str, payload: bytes) -> SignedAttestation:
        if self.fault == GARBAGE:
            return garbage(b"not an attestation", SignedAttestation)
        raise fault(self.fault)


class RaisingVerifier(Verifier):
    """A verifier that fails on whatever it is given."""

    def __init__(self, name: str) -> None:
        self.fault = name

    def verify(self, content: bytes) -> VerifiedPayload:
        if self.fault == GARBAGE:
            return garbage({"payload": "garbage"}, VerifiedPayload)
        raise fault(self.fault)


class RaisingCataloger(Cataloger):
    """A cataloger that yields one component, then fails mid-iteration."""

    id = "injected-fault"

    def __init__(self, name: str) -> None:
        self.fault = name

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        yield Component(ComponentKind.CONFIG, "injected", self.id, path="/etc/injected")
        if self.fault == GARBAGE:
            yield garbage("not a component", Component)
            return
        raise fault(self.fault)


class FaultyLedger(Ledger):
    """A real ledger wrapped so that one operation fails (``where``: append/entries/verify)."""

    def __init__(self, real: Ledger, where: str, name: str) -> None:
        self.real, self.where, self.fault = real, where, name
        self.name = real.name

    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        if self.where != "append":
            return self.real.append(kind, body)
        if self.fault == GARBAGE:
            return garbage({"ledger": None, "seq": "x"}, Receipt)
        raise fault(self.fault)

    def entries(self) -> Iterator[LedgerEntry]:
        if self.where != "entries":
            yield from self.real.entries()
            return
        for entry in self.real.entries():
            yield entry
            break
        if self.fault == GARBAGE:
            yield garbage(["not", "an", "entry"], LedgerEntry)
            return
        raise fault(self.fault)

    def verify(self) -> list[Problem]:
        if self.where != "verify":
            return self.real.verify()
        if self.fault == GARBAGE:
            return garbage("garbage", list)
        raise fault(self.fault)


class RaisingProvider(Provider):
    """A provider that asks for a real provider's audience, then fails the exchange."""

    name: ClassVar[str] = "aws"

    def __init__(self, real: Provider, name: str) -> None:
        self.real, self.fault = real, name

    def audience(self, settings: ProviderSettings) -> str:
        return self.real.audience(settings)

    def mint(self, request: MintRequest, token: str) -> IssuedCredential:
        if self.fault == GARBAGE:
            return garbage({"AWS_SECRET_ACCESS_KEY": "garbage"}, IssuedCredential)
        raise fault(self.fault)


class RaisingKeySigner(KeySigner):
    """The key signer of a real key, whose every signature fails (key id and public key work)."""

    def __init__(self, real: KeySigner, name: str) -> None:
        super().__init__(real._key)
        self.fault = name

    def sign(self, payload_type: str, payload: bytes) -> SignedAttestation:
        if self.fault == GARBAGE:
            return garbage(b"not an attestation", SignedAttestation)
        raise fault(self.fault)
