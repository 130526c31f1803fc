"""Check 1, the attestation: signature and signer, payload and predicate, subject, as deny reasons.

It wraps :func:`envsecops.attest.verify.verify_attestation` (the one implementation of what a
valid bag attestation is) and only adds the mapping of a failure to its reason code. The
verifier is observed through a recording proxy, so a failure is placed without verifying the
signature twice: before the signature check it is ``attestation.unreadable``, inside it
``attestation.signature``; after it, the verified payload is re-read cheaply to tell a foreign
payload or predicate (``attestation.predicate``) from a statement about another file
(``attestation.subject``). Nothing raised by a verifier (sigstore's or the key verifier) escapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envsecops.attest.dsse import INTOTO_PAYLOAD_TYPE
from envsecops.attest.encoding import load_json_object
from envsecops.attest.interface import VerificationError, VerifiedPayload, Verifier
from envsecops.attest.predicate import PREDICATE_TYPE
from envsecops.attest.statement import SUBJECT_NAME, StatementError, parse_statement
from envsecops.attest.verify import VerifiedStatement, verify_attestation
from envsecops.errors import EnvsecopsError
from envsecops.model.bag import Bag
from envsecops.model.decision import Reason

__all__ = ["AttestationCheck", "check_attestation", "explain"]


def explain(exc: BaseException) -> str:
    """One line for a reason message: the error's message and, when it has one, its fix."""
    if isinstance(exc, EnvsecopsError):
        text = exc.message + (f" (fix: {exc.fix})" if exc.fix else "")
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class AttestationCheck:
    """The verified statement (None when anything failed) and the reasons it failed."""

    verified: VerifiedStatement | None
    reasons: tuple[Reason, ...]


class _Recorder(Verifier):
    """Passes ``verify`` to the real verifier and remembers whether it ran and how it ended."""

    def __init__(self, inner: Verifier) -> None:
        self.inner = inner
        self.called = False
        self.failure: BaseException | None = None
        self.result: VerifiedPayload | None = None

    def verify(self, content: bytes) -> VerifiedPayload:
        self.called = True
        try:
            self.result = self.inner.verify(content)
        except Exception as exc:
            self.failure = exc
            if isinstance(exc, VerificationError):
                raise
            raise VerificationError(f"the verifier failed: {explain(exc)}") from exc
        return self.result


def check_attestation(
    content: bytes,
    bag_json: bytes,
    build_verifier: Callable[[], Verifier],
    *,
    display: str,
    parsed: Bag | None = None,
) -> AttestationCheck:
    """Verify the attestation ``content`` about ``bag_json``; every failure becomes a reason.

    ``build_verifier`` is called here so that a verifier that cannot even be built (an
    unreadable public key, a trusted root that does not load, no expected identity) is a
    ``attestation.signature`` reason too. ``display`` names the attestation file in subjects;
    ``parsed`` is the bag already parsed from ``bag_json``, if any (it is not parsed twice).
    """
    subject = f"attestation {display}"
    try:
        verifier = build_verifier()
    except Exception as exc:  # noqa: BLE001 - a verifier that cannot be built verifies nothing
        return AttestationCheck(
            None,
            (
                Reason(
                    "attestation.signature",
                    subject,
                    f"the attestation cannot be verified: {explain(exc)}",
                ),
            ),
        )
    recorder = _Recorder(verifier)
    try:
        verified = verify_attestation(content, bag_json, recorder, parsed=parsed)
    except Exception as exc:  # noqa: BLE001 - every defect is a deny reason, never a traceback
        return AttestationCheck(None, (_classify(exc, recorder, bag_json, subject),))
    return AttestationCheck(verified, ())


def _classify(exc: BaseException, recorder: _Recorder, bag_json: bytes, subject: str) -> Reason:
    """The reason for a failed verification, by the stage it failed in."""
    if not recorder.called:
        return Reason(
            "attestation.unreadable",
            subject,
            f"the attestation is not a readable DSSE envelope or Sigstore bundle: {explain(exc)}",
        )
    if recorder.failure is not None or recorder.result is None:
        return Reason(
            "attestation.signature",
            subject,
            f"the signature or the signer did not verify: {explain(exc)}",
        )
    code = _stage_after_signature(recorder.result, bag_json)
    lead = {
        "attestation.predicate": "the signed statement is not a valid envsecops bag statement",
        "attestation.subject": f"the signed statement is not about this {SUBJECT_NAME}",
        "attestation.unreadable": f"the signed {SUBJECT_NAME} is not a valid bag manifest",
    }[code]
    return Reason(code, subject, f"{lead}: {explain(exc)}")


def _stage_after_signature(result: VerifiedPayload, bag_json: bytes) -> str:
    """Which check failed once the signature verified (cheap re-reads, no cryptography)."""
    if result.payload_type != INTOTO_PAYLOAD_TYPE:
        return "attestation.predicate"
    try:
        statement = parse_statement(result.payload)
    except Exception:  # noqa: BLE001 - whatever the parser refuses is not our statement
        return "attestation.predicate"
    if statement.predicate_type != PREDICATE_TYPE:
        return "attestation.predicate"
    try:
        statement.subject_for(bag_json, name=SUBJECT_NAME)
    except StatementError:
        return "attestation.subject"
    only = statement.subjects[0] if len(statement.subjects) == 1 else None
    if only is None or [alg for alg, _ in only.digest] != ["sha256"]:
        return "attestation.subject"
    try:
        Bag.from_json(load_json_object(bag_json, SUBJECT_NAME, max_bytes=None))
    except Exception:  # noqa: BLE001 - a manifest that does not parse, for whatever reason
        return "attestation.unreadable"
    return "attestation.predicate"
