"""Signers and verifiers of DSSE payloads, apart, each behind a one-verb interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from envsecops.errors import EnvsecopsError, ExitCode, InfraError


class SigningError(InfraError):
    """The signer could not sign (key unreadable, Fulcio or Rekor unreachable, no token)."""


class VerificationError(EnvsecopsError):
    """A signature, certificate identity, log entry or payload did not verify: a deny."""

    exit_code = ExitCode.FINDINGS


@dataclass(frozen=True, slots=True)
class SignedAttestation:
    """What a signer produced: the bytes to write, their media type and file suffix."""

    media_type: str  # application/vnd.dev.sigstore.bundle.v0.3+json or application/vnd.dsse+json
    content: bytes
    suffix: str  # ".sigstore.json" or ".dsse.json"
    signer: str  # "key:<key id>" or "sigstore:<identity>"


@dataclass(frozen=True, slots=True)
class VerifiedPayload:
    """A payload whose signature verified, and who signed it."""

    payload_type: str
    payload: bytes
    signer: str


class Signer(ABC):
    """Signs a DSSE payload."""

    @abstractmethod
    def sign(self, payload_type: str, payload: bytes) -> SignedAttestation:
        """Sign and return the envelope or bundle; raise SigningError on failure."""


class Verifier(ABC):
    """Verifies what a Signer produced."""

    @abstractmethod
    def verify(self, content: bytes) -> VerifiedPayload:
        """Return the verified payload; raise VerificationError on any defect."""
