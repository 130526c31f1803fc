"""Check 1: each way an attestation fails maps to its reason code; nothing raises."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from envsecops.attest.interface import VerificationError, VerifiedPayload, Verifier
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key
from envsecops.attest.sigstore_verify import SigstoreIdentity, SigstoreVerifier
from envsecops.errors import InputError
from envsecops.model.bag import Bag, Component, ComponentKind
from envsecops.verify.attestation import check_attestation, explain
from tests.conftest import shared_dir
from tests.unit.attest.samples import (
    b64,
    bag_bytes,
    envelope_json,
    sample_statement,
    sign_statement,
)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[KeySigner, KeyVerifier]:
    made = generate_key(tmp_path / "k.pem")
    return KeySigner.from_file(made.private_path), KeyVerifier.from_files([made.public_path])


def _codes(content: bytes, bag_json: bytes, verifier: Verifier) -> list[str]:
    check = check_attestation(content, bag_json, lambda: verifier, display="att.dsse.json")
    assert (check.verified is None) == bool(check.reasons)
    for reason in check.reasons:
        assert reason.subject == "attestation att.dsse.json"
        assert reason.message
    return [reason.code for reason in check.reasons]


def test_a_good_attestation_has_no_reasons(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    bag, raw, statement = sample_statement()
    check = check_attestation(sign_statement(signer, statement), raw, lambda: verifier, display="a")
    assert check.reasons == ()
    assert check.verified is not None
    assert check.verified.env_hash == bag.env_hash


def test_unreadable_attestations(keys: tuple[KeySigner, KeyVerifier]) -> None:
    _, verifier = keys
    _, raw, _ = sample_statement()
    assert _codes(b"not json", raw, verifier) == ["attestation.unreadable"]
    assert _codes(b'{"hello": 1}', raw, verifier) == ["attestation.unreadable"]


def test_signature_failures(keys: tuple[KeySigner, KeyVerifier], tmp_path: Path) -> None:
    signer, verifier = keys
    _, raw, statement = sample_statement()
    content = sign_statement(signer, statement)
    tampered = envelope_json(content)
    tampered["payload"] = b64(json.dumps({**statement, "predicateType": "x"}).encode())
    assert _codes(json.dumps(tampered).encode(), raw, verifier) == ["attestation.signature"]
    stranger = KeySigner.from_file(generate_key(tmp_path / "s.pem").private_path)
    assert _codes(sign_statement(stranger, statement), raw, verifier) == ["attestation.signature"]
    twice = envelope_json(content)
    twice["signatures"] = twice["signatures"] * 2
    assert _codes(json.dumps(twice).encode(), raw, verifier) == ["attestation.signature"]
    none = envelope_json(content)
    none["signatures"] = []
    assert _codes(json.dumps(none).encode(), raw, verifier) == ["attestation.signature"]


def test_a_foreign_predicate_type_is_a_predicate_reason(
    keys: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keys
    _, raw, statement = sample_statement()
    statement["predicateType"] = "https://slsa.dev/provenance/v1"
    assert _codes(sign_statement(signer, statement), raw, verifier) == ["attestation.predicate"]
    signed = signer.sign("text/plain", b"hello").content
    assert _codes(signed, raw, verifier) == ["attestation.predicate"]


def test_a_statement_about_another_bag_is_a_subject_reason(
    keys: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keys
    bag, raw, statement = sample_statement()
    content = sign_statement(signer, statement)
    extra = Component(ComponentKind.BINARY, "implant", "path", path="/usr/local/bin/implant")
    other = Bag.build(bag.runner, [*bag.components, extra], created_at=bag.created_at)
    assert _codes(content, bag_bytes(other), verifier) == ["attestation.subject"]
    statement["subject"].append({"name": "other", "digest": {"sha256": "0" * 64}})
    assert _codes(sign_statement(signer, statement), raw, verifier) == ["attestation.subject"]


def test_a_signed_but_invalid_bag_is_unreadable(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    bag, raw, statement = sample_statement()
    broken = raw.replace(bag.env_hash.encode(), b"sha256:" + b"0" * 64)
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(broken).hexdigest()
    assert _codes(sign_statement(signer, statement), broken, verifier) == ["attestation.unreadable"]


def test_a_verifier_that_cannot_be_built_or_crashes_is_a_signature_reason() -> None:
    _, raw, _ = sample_statement()

    def unbuildable() -> Verifier:
        raise InputError("is not a PEM public key", path="pub.pem", fix="pass a PEM key")

    check = check_attestation(b"{}", raw, unbuildable, display="a")
    assert [r.code for r in check.reasons] == ["attestation.signature"]
    assert "pub.pem: is not a PEM public key (fix: pass a PEM key)" in check.reasons[0].message

    class Crashing(Verifier):
        def verify(self, content: bytes) -> VerifiedPayload:
            raise RuntimeError("boom")

    envelope = b'{"payload": "", "payloadType": "x", "signatures": []}'
    check = check_attestation(envelope, raw, Crashing, display="a")
    assert [r.code for r in check.reasons] == ["attestation.signature"]
    assert "RuntimeError: boom" in check.reasons[0].message


def test_explain_puts_message_and_fix_on_one_line() -> None:
    assert explain(VerificationError("bad\nthing", fix="do x")) == "bad thing (fix: do x)"
    assert explain(ValueError()) == "ValueError"


def _sigstore(case: str, identity: str | None = None) -> tuple[bytes, Verifier]:
    folder = shared_dir("sigstore-assets") / case
    meta = json.loads((folder / "case.json").read_text())
    verifier = SigstoreVerifier(
        SigstoreIdentity(identity or meta["identity"], meta["issuer"]),
        trusted_root=folder / "trusted_root.json",
    )
    return (folder / "bundle.sigstore.json").read_bytes(), verifier


def test_real_sigstore_bundles_fail_for_their_stated_reason() -> None:
    _, raw, _ = sample_statement()
    content, verifier = _sigstore("pass-dsse-intoto-gha-prod")
    assert _codes(content, raw, verifier) == ["attestation.predicate"], "signed, not a bag"
    for case in ("fail-dsse-mismatch-sig", "fail-dsse-envelope-not-logged"):
        content, verifier = _sigstore(case)
        assert _codes(content, raw, verifier) == ["attestation.signature"], case
    wrong = "https://github.com/octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main"
    content, verifier = _sigstore("pass-dsse-intoto-gha-prod", wrong)
    assert _codes(content, raw, verifier) == ["attestation.signature"]
