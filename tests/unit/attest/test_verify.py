"""The verification facade end to end with real keys: every defect is a VerificationError."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from envsecops.attest.dsse import Envelope
from envsecops.attest.interface import VerificationError
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key
from envsecops.attest.statement import PAYLOAD_TYPE, StatementError, statement_bytes
from envsecops.attest.verify import AttestationFormat, detect_format, verify_attestation
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Bag, Component, ComponentKind
from tests.unit.attest.samples import bag_bytes, sample_binding, sample_statement, sign_statement


@pytest.fixture
def keys(tmp_path: Path) -> tuple[KeySigner, KeyVerifier]:
    made = generate_key(tmp_path / "k.pem")
    return KeySigner.from_file(made.private_path), KeyVerifier.from_files([made.public_path])


def test_a_good_attestation_verifies(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    bag, raw, statement = sample_statement()
    content = sign_statement(signer, statement)
    result = verify_attestation(content, raw, verifier)
    assert result.signer == f"key:{signer.key_id}"
    assert result.env_hash == bag.env_hash
    assert result.binding == sample_binding()
    assert result.format is AttestationFormat.DSSE
    assert result.attestation_digest == digest_bytes(content)
    assert result.statement.subjects[0].name == "bag.json"


def test_a_changed_bag_json_is_not_the_subject(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    bag, raw, statement = sample_statement()
    content = sign_statement(signer, statement)
    extra = Component(ComponentKind.BINARY, "implant", "path", path="/usr/local/bin/implant")
    other = Bag.build(bag.runner, [*bag.components, extra], created_at=bag.created_at)
    with pytest.raises(StatementError, match="no subject of the statement matches") as caught:
        verify_attestation(content, bag_bytes(other), verifier)
    assert caught.value.fix is not None
    with pytest.raises(StatementError):
        verify_attestation(content, raw + b" ", verifier)


def test_unknown_predicate_types_are_refused(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    _, raw, statement = sample_statement()
    statement["predicateType"] = "https://envsecops.dev/bag/v2"
    with pytest.raises(StatementError, match=re.escape("expected 'https://envsecops.dev/bag/v1'")):
        verify_attestation(sign_statement(signer, statement), raw, verifier)
    with pytest.raises(VerificationError, match="unknown predicate type"):
        verify_attestation(
            b"{}", raw, verifier, expected_predicate="https://slsa.dev/provenance/v1"
        )


def test_other_payload_types_are_refused_even_when_signed(
    keys: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keys
    _, raw, statement = sample_statement()
    content = signer.sign("application/json", statement_bytes(statement)).content
    with pytest.raises(StatementError, match="payload type is 'application/json'"):
        verify_attestation(content, raw, verifier)


def test_a_signed_but_inconsistent_summary_is_refused(
    keys: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keys
    _, raw, statement = sample_statement()
    statement["predicate"]["bag"]["problems"] = {
        "total": 0,
        "by_status": dict.fromkeys(statement["predicate"]["bag"]["problems"]["by_status"], 0),
    }
    with pytest.raises(StatementError, match="does not describe the signed bag"):
        verify_attestation(sign_statement(signer, statement), raw, verifier)


def test_a_subject_that_is_not_a_bag_is_refused(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    _, _, statement = sample_statement()
    junk = b'{"not":"a bag"}'
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(junk).hexdigest()
    with pytest.raises(VerificationError, match="signed but not a valid bag manifest"):
        verify_attestation(sign_statement(signer, statement), junk, verifier)


def test_tampered_envelopes_fail_before_any_statement_is_read(
    keys: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keys
    _, raw, statement = sample_statement()
    envelope = Envelope.from_json(sign_statement(signer, statement))
    forged = statement_bytes({**statement, "predicateType": "x"})
    tampered = Envelope(PAYLOAD_TYPE, forged, envelope.signatures).to_json()
    with pytest.raises(VerificationError, match="does not verify"):
        verify_attestation(tampered, raw, verifier)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"not json", "not JSON"),
        (b'{"hello": 1}', "neither a DSSE envelope nor a Sigstore bundle"),
        (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}', "Sigstore bundle"),
    ],
)
def test_unrecognised_or_mismatched_containers(
    keys: tuple[KeySigner, KeyVerifier], content: bytes, needle: str
) -> None:
    _, verifier = keys
    with pytest.raises(VerificationError, match=needle):
        verify_attestation(content, b"{}", verifier)


def test_detect_format() -> None:
    bundle = json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.3"})
    assert detect_format(bundle.encode()) is AttestationFormat.SIGSTORE_BUNDLE
    envelope = b'{"payload":"","payloadType":"t","signatures":[]}'
    assert detect_format(envelope) is AttestationFormat.DSSE
