"""`envsecops verify` against bad attestations and bag files: each one a deny, never an allow.

The attestations are built with the real signer and statement code (verify_support), then
taken apart where the case needs it: a payload changed after signing, a signature from
another key or another envelope, none, two, another predicate type, a bag.json that is not
the subject, or one whose env_hash lies. Every case runs the real CLI in-process over a tiny
runner tree and reads the decision.json it wrote.
"""

from __future__ import annotations

import json

import pytest

from envsecops.attest.encoding import MAX_DOCUMENT_BYTES
from envsecops.attest.statement import PREDICATE_TYPE, STATEMENT_TYPE, statement_bytes
from envsecops.canonical import canonical_json
from tests.conftest import shared_dir
from tests.integration.verify_scene_fixtures import keys_fixture, scene_fixture  # noqa: F401
from tests.integration.verify_support.builder import (
    encode_payload,
    envelope,
    payload_of,
    rebuilt,
    sign_statement,
)
from tests.integration.verify_support.scene import (
    RunCli,
    Scene,
    assert_allowed,
    assert_denied,
    run_verify,
)

SIGNATURE = "attestation.signature"


def test_control_the_untouched_attestation_is_allowed(scene: Scene, run_cli: RunCli) -> None:
    """Every case below changes one thing in this scene; unchanged, it is an allow."""
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_allowed(outcome)
    assert outcome.decision is not None
    assert outcome.decision["env_hash"] == scene.bag.env_hash


def test_a_payload_changed_after_signing_is_denied(scene: Scene, run_cli: RunCli) -> None:
    statement = payload_of(scene.attested.attestation)
    statement["predicate"]["binding"]["run_id"] = "1"
    tampered = rebuilt(scene.attested.attestation, payload=encode_payload(statement))
    scene.attested.with_attestation(tampered)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE, contains="does not verify")


def test_a_payload_type_changed_after_signing_is_denied(scene: Scene, run_cli: RunCli) -> None:
    tampered = rebuilt(scene.attested.attestation, payloadType="application/json")
    scene.attested.with_attestation(tampered)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE)


def test_an_attestation_signed_by_another_key_is_denied(scene: Scene, run_cli: RunCli) -> None:
    from envsecops.attest.binding import Binding

    bound = Binding.from_json(scene.attested.statement["predicate"]["binding"])
    foreign = scene.attest(bound, key=scene.other_key, name="foreign")
    outcome = run_verify(run_cli, scene.args(attested=foreign), scene.out)
    assert_denied(outcome, SIGNATURE, contains="does not verify with any trusted key")


def test_a_signature_swapped_in_from_another_envelope_is_denied(
    scene: Scene, run_cli: RunCli
) -> None:
    """Same trusted key, another statement: the signature is genuine but not over this PAE."""
    other_statement = payload_of(scene.attested.attestation)
    other_statement["predicate"]["binding"]["run_attempt"] = "1"
    donor = envelope(sign_statement(other_statement, scene.key.signer))
    swapped = rebuilt(scene.attested.attestation, signatures=donor["signatures"])
    scene.attested.with_attestation(swapped)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE, contains="does not verify")


def test_an_envelope_with_no_signature_is_denied(scene: Scene, run_cli: RunCli) -> None:
    scene.attested.with_attestation(rebuilt(scene.attested.attestation, signatures=[]))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE, contains="no signature")


def test_an_envelope_without_a_signatures_field_is_denied(scene: Scene, run_cli: RunCli) -> None:
    scene.attested.with_attestation(rebuilt(scene.attested.attestation, signatures=None))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE, "attestation.unreadable")


@pytest.mark.parametrize("second", ["duplicate", "stranger"])
def test_two_signatures_are_denied_even_when_one_verifies(
    scene: Scene, run_cli: RunCli, second: str
) -> None:
    """attest/dsse.py: envsecops accepts exactly one signature; an extra is never ignored."""
    signatures = envelope(scene.attested.attestation)["signatures"]
    if second == "duplicate":
        extra = signatures[0]
    else:
        statement = payload_of(scene.attested.attestation)
        extra = envelope(sign_statement(statement, scene.other_key.signer))["signatures"][0]
    for order in ([*signatures, extra], [extra, *signatures]):
        scene.attested.with_attestation(rebuilt(scene.attested.attestation, signatures=order))
        outcome = run_verify(run_cli, scene.args(), scene.out)
        assert_denied(outcome, SIGNATURE, contains="2 signatures")


def test_an_unknown_predicate_type_is_denied(scene: Scene, run_cli: RunCli) -> None:
    statement = dict(scene.attested.statement)
    statement["predicateType"] = "https://slsa.dev/provenance/v1"
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.predicate", contains="https://slsa.dev/provenance/v1")
    assert SIGNATURE not in outcome.codes, "the signature itself is good"


def test_a_statement_of_another_type_is_denied(scene: Scene, run_cli: RunCli) -> None:
    statement = dict(scene.attested.statement)
    statement["_type"] = "https://in-toto.io/Statement/v0.1"
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.predicate")
    assert SIGNATURE not in outcome.codes


def test_a_bag_json_that_is_not_the_subject_is_denied(scene: Scene, run_cli: RunCli) -> None:
    """The same JSON written with other whitespace is other bytes: the digest must not match."""
    pretty = json.dumps(json.loads(scene.attested.bag_json), indent=2).encode()
    scene.attested.with_bag_json(pretty)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.subject")
    assert SIGNATURE not in outcome.codes


def test_a_subject_naming_another_bag_is_denied(scene: Scene, run_cli: RunCli) -> None:
    statement = dict(scene.attested.statement)
    statement["subject"] = [{"name": "bag.json", "digest": {"sha256": "ab" * 32}}]
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.subject")


@pytest.mark.parametrize(
    "content", [b"", b"not json at all\n", b'{"components": [', b"[]"], ids=repr
)
def test_a_bag_json_that_is_truncated_or_not_json_is_denied(
    scene: Scene, run_cli: RunCli, content: bytes
) -> None:
    scene.attested.with_bag_json(content)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", "attestation.subject")


def test_a_bag_json_cut_in_half_is_denied(scene: Scene, run_cli: RunCli) -> None:
    whole = scene.attested.bag_json
    scene.attested.with_bag_json(whole[: len(whole) // 2])
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", "attestation.subject")


@pytest.mark.parametrize("content", [b"", b"{", b"<html>502</html>", b'{"payload": 1}'], ids=repr)
def test_an_attestation_that_is_not_an_envelope_is_denied(
    scene: Scene, run_cli: RunCli, content: bytes
) -> None:
    scene.attested.with_attestation(content)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", SIGNATURE)


def test_a_missing_attestation_file_is_a_deny_naming_it(scene: Scene, run_cli: RunCli) -> None:
    """attestation.unreadable: a written deny, so record-decision can record it."""
    scene.attested.attestation_path.unlink()
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", contains=str(scene.attested.attestation_path))


def test_a_missing_bag_file_is_a_deny_naming_it(scene: Scene, run_cli: RunCli) -> None:
    """attestation.unreadable: a written deny, so record-decision can record it."""
    scene.attested.bag_path.unlink()
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", contains=str(scene.attested.bag_path))


def test_a_bag_json_whose_env_hash_lies_is_denied(scene: Scene, run_cli: RunCli) -> None:
    """Edited after attest: bag.json no longer is the signed subject."""
    manifest = json.loads(scene.attested.bag_json)
    manifest["env_hash"] = "sha256:" + "0" * 64
    scene.attested.with_bag_json(canonical_json(manifest))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.subject")


def test_a_signed_bag_json_whose_env_hash_lies_is_denied(scene: Scene, run_cli: RunCli) -> None:
    """Even signed by the trusted key, a bag whose stated env_hash is not the hash of its
    components is not a bag, and its hash is not what a fresh inventory finds."""
    lie = "sha256:" + "0" * 64
    manifest = json.loads(scene.attested.bag_json)
    manifest["env_hash"] = lie
    bag_json = canonical_json(manifest)
    statement = json.loads(json.dumps(scene.attested.statement))
    statement["predicate"]["bag"]["env_hash"] = lie
    statement["subject"][0]["digest"]["sha256"] = _sha256(bag_json)
    scene.attested.with_bag_json(bag_json)
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", "drift.env-hash")
    assert SIGNATURE not in outcome.codes


def test_a_statement_summary_that_does_not_describe_the_bag_is_denied(
    scene: Scene, run_cli: RunCli
) -> None:
    statement = json.loads(json.dumps(scene.attested.statement))
    statement["predicate"]["bag"]["components"]["total"] += 1
    statement["predicate"]["bag"]["components"]["by_kind"]["binary"] += 1
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.predicate", "attestation.subject")


def test_a_predicate_with_an_unknown_field_is_denied(scene: Scene, run_cli: RunCli) -> None:
    """A field v1 does not know could carry meaning a verifier would ignore: refused."""
    statement = json.loads(json.dumps(scene.attested.statement))
    statement["predicate"]["allow"] = True
    assert statement["_type"] == STATEMENT_TYPE
    assert statement["predicateType"] == PREDICATE_TYPE
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.predicate")


def test_an_envelope_with_two_payloads_is_denied(scene: Scene, run_cli: RunCli) -> None:
    """Duplicate keys: Go keeps the last, other parsers the first; two readers could disagree
    on what was signed, so the envelope is refused before any signature is checked."""
    statement = payload_of(scene.attested.attestation)
    statement["predicate"]["binding"]["repository"] = "evil-org/octo-repo"
    text = scene.attested.attestation.decode()
    doubled = text.replace('"payload":', f'"payload": "{encode_payload(statement)}", "payload":', 1)
    scene.attested.with_attestation(doubled.encode())
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", SIGNATURE, contains="duplicate key")


def test_an_oversized_attestation_is_denied_unread(scene: Scene, run_cli: RunCli) -> None:
    scene.attested.with_attestation(b" " * (MAX_DOCUMENT_BYTES + 1))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.unreadable", contains=f"{MAX_DOCUMENT_BYTES:,}")


def test_a_keyid_hint_naming_another_key_is_denied(scene: Scene, run_cli: RunCli) -> None:
    """The hint decides nothing, but a hint that lies about a good signature is tampering."""
    signatures = envelope(scene.attested.attestation)["signatures"]
    signatures[0]["keyid"] = scene.other_key.signer.key_id
    scene.attested.with_attestation(rebuilt(scene.attested.attestation, signatures=signatures))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE, contains="names another key")


def test_a_statement_signed_under_another_payload_type_is_denied(
    scene: Scene, run_cli: RunCli
) -> None:
    """A genuine signature over PAE("application/json", statement): not an in-toto payload."""
    payload = statement_bytes(scene.attested.statement)
    signed = scene.key.signer.sign("application/json", payload).content
    scene.attested.with_attestation(signed)
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.predicate", contains="application/json")
    assert SIGNATURE not in outcome.codes


@pytest.mark.parametrize("shape", ["second-subject", "other-name", "extra-digest"])
def test_a_subject_list_that_is_not_exactly_bag_json_is_denied(
    scene: Scene, run_cli: RunCli, shape: str
) -> None:
    statement = json.loads(json.dumps(scene.attested.statement))
    subject = statement["subject"][0]
    if shape == "second-subject":
        statement["subject"].append({"name": "extra.json", "digest": {"sha256": "cd" * 32}})
    elif shape == "other-name":
        subject["name"] = "sbom.cdx.json"
    else:
        subject["digest"]["sha512"] = "ef" * 64
    scene.attested.with_attestation(sign_statement(statement, scene.key.signer))
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, "attestation.subject")
    assert SIGNATURE not in outcome.codes


def test_a_sigstore_bundle_in_key_mode_is_a_signature_deny(scene: Scene, run_cli: RunCli) -> None:
    """A real, valid keyless bundle is not signed by any trusted key."""
    bundle = shared_dir("sigstore-assets") / "pass-dsse-intoto-gha-prod" / "bundle.sigstore.json"
    scene.attested.with_attestation(bundle.read_bytes())
    outcome = run_verify(run_cli, scene.args(), scene.out)
    assert_denied(outcome, SIGNATURE, contains="Sigstore bundle")


def test_an_attestation_path_that_is_a_directory_is_denied(scene: Scene, run_cli: RunCli) -> None:
    argv = scene.args()
    argv[argv.index("--attestation") + 1] = scene.tmp
    outcome = run_verify(run_cli, argv, scene.out)
    assert_denied(outcome, "attestation.unreadable", contains=str(scene.tmp))


def test_a_tree_changed_after_attest_is_drift(scene: Scene, run_cli: RunCli) -> None:
    """Attested, then a binary changed: the fresh inventory's env hash differs."""
    scene.attested  # noqa: B018 - attest before the change
    binary = scene.root / "usr/bin/true"
    binary.write_bytes(binary.read_bytes() + b"\0")
    outcome = run_verify(run_cli, scene.args(), scene.out)
    found = assert_denied(outcome, "drift.env-hash")
    assert "1 changed" in found[0]["message"], found
    assert (scene.out / "drift.json").is_file()


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
