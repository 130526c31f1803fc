"""Verify an attestation file end to end: signature, payload type, statement, subject, predicate.

The one entry point the later stages call. It detects whether the bytes are a DSSE
envelope (key mode) or a Sigstore bundle (keyless), has the configured verifier check the
signature and signer, then checks what no signature library checks: the payload type is
in-toto, the statement parses, its predicate type is the expected one, its subject is the
sha256 of the exact bag.json bytes, and the summary it states is the summary of that bag.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from envsecops.attest.binding import Binding
from envsecops.attest.dsse import INTOTO_PAYLOAD_TYPE
from envsecops.attest.encoding import EncodingError, load_json_object
from envsecops.attest.interface import VerificationError, Verifier
from envsecops.attest.predicate import PREDICATE_TYPE, BagPredicate, BagSummary
from envsecops.attest.sigstore_verify import BUNDLE_MEDIA_PREFIX
from envsecops.attest.statement import (
    SUBJECT_NAME,
    Statement,
    StatementError,
    parse_bag_predicate,
    parse_statement,
)
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Bag, ModelError

KNOWN_PREDICATES = (PREDICATE_TYPE,)


class AttestationFormat(StrEnum):
    """The two containers an attestation comes in."""

    DSSE = "dsse"  # a bare DSSE envelope, key mode
    SIGSTORE_BUNDLE = "sigstore-bundle"  # a Sigstore bundle, keyless


def detect_format(content: bytes) -> AttestationFormat:
    """Which container ``content`` is; anything else is a VerificationError."""
    try:
        data = load_json_object(content, "the attestation")
    except EncodingError as exc:
        raise VerificationError(exc.message) from exc
    media_type = data.get("mediaType")
    if isinstance(media_type, str) and media_type.startswith(BUNDLE_MEDIA_PREFIX):
        return AttestationFormat.SIGSTORE_BUNDLE
    if {"payload", "payloadType", "signatures"} <= data.keys():
        return AttestationFormat.DSSE
    raise VerificationError(
        "the attestation is neither a DSSE envelope nor a Sigstore bundle",
        fix="pass the .dsse.json or .sigstore.json file that `envsecops attest` wrote",
    )


@dataclass(frozen=True, slots=True)
class VerifiedInToto:
    """A statement whose signature, signer, payload type and subject verified."""

    statement: Statement
    signer: str
    format: AttestationFormat
    attestation_digest: str  # sha256:<hex> of the attestation file's bytes


@dataclass(frozen=True, slots=True)
class VerifiedStatement:
    """A verified bag statement: the predicate, who signed it, and which file it was."""

    statement: Statement
    predicate: BagPredicate
    signer: str
    format: AttestationFormat
    attestation_digest: str

    @property
    def binding(self) -> Binding:
        """The job the attestation is bound to."""
        return self.predicate.binding

    @property
    def env_hash(self) -> str:
        """The attested env hash."""
        return self.predicate.bag.env_hash


def verify_intoto(
    content: bytes,
    artifact: bytes,
    verifier: Verifier,
    *,
    expected_predicate: str,
    subject_name: str | None = None,
) -> VerifiedInToto:
    """Verify an in-toto attestation about ``artifact`` with the given predicate type."""
    form = detect_format(content)
    verified = verifier.verify(content)
    if verified.payload_type != INTOTO_PAYLOAD_TYPE:
        raise StatementError(
            f"the signed payload type is {verified.payload_type!r}, not {INTOTO_PAYLOAD_TYPE!r}"
        )
    statement = parse_statement(verified.payload)
    if statement.predicate_type != expected_predicate:
        raise StatementError(
            f"the predicate type is {statement.predicate_type!r}, expected {expected_predicate!r}"
        )
    statement.subject_for(artifact, name=subject_name)
    return VerifiedInToto(statement, verified.signer, form, digest_bytes(content))


def verify_attestation(
    content: bytes,
    bag_json: bytes,
    verifier: Verifier,
    *,
    expected_predicate: str = PREDICATE_TYPE,
    parsed: Bag | None = None,
) -> VerifiedStatement:
    """Verify a bag attestation against the bag.json bytes it must be about.

    ``parsed``, when given, must be ``Bag.from_json`` of exactly ``bag_json`` (which checked
    its stated env hash): a caller that already parsed the manifest passes it on rather than
    paying for a second parse of a large bag.

    Raises VerificationError (a deny) for any defect: bad signature or signer, another
    payload or predicate type, a malformed statement or predicate, a bag.json that is not
    the subject, or a summary that does not match the bag.
    """
    if expected_predicate not in KNOWN_PREDICATES:
        raise VerificationError(
            f"unknown predicate type {expected_predicate!r}; this version knows {KNOWN_PREDICATES}"
        )
    result = verify_intoto(
        content,
        bag_json,
        verifier,
        expected_predicate=expected_predicate,
        subject_name=SUBJECT_NAME,
    )
    predicate = parse_bag_predicate(result.statement)
    bag = parsed
    if bag is None:
        try:
            # recomputes the env hash and checks the stated one
            bag = Bag.from_json(load_json_object(bag_json, SUBJECT_NAME, max_bytes=None))
        except (EncodingError, ModelError) as exc:
            raise VerificationError(
                f"{SUBJECT_NAME} is signed but not a valid bag manifest: {exc}"
            ) from exc
    if BagSummary.of(bag, env_hash=bag.env_hash) != predicate.bag:
        raise StatementError(
            "the attested summary does not describe the signed bag.json (env hash, counts or "
            "runner facts differ): the attestation was made inconsistently",
            fix="attest again with `envsecops attest`",
        )
    return VerifiedStatement(
        result.statement, predicate, result.signer, result.format, result.attestation_digest
    )
