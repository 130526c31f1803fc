"""The decision record: built from reasons, signed as a statement, verified back (mint-creds)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from envsecops.attest.interface import VerificationError
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key
from envsecops.attest.statement import PAYLOAD_TYPE, statement_bytes
from envsecops.canonical import canonical_json
from envsecops.model.decision import Reason, Verdict
from envsecops.policy.reasons import CODES, MAX_REASONS
from envsecops.verify.decision import (
    build_decision,
    decision_bytes,
    decision_statement,
    finish_reasons,
    unsigned,
    verify_decision,
)
from tests.unit.attest.samples import sample_statement, sign_statement
from tests.unit.verify.decision_samples import sample_facts

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
FACTS = sample_facts(policy_source="local")


@pytest.fixture
def keys(tmp_path: Path) -> tuple[KeySigner, KeyVerifier]:
    made = generate_key(tmp_path / "k.pem")
    return KeySigner.from_file(made.private_path), KeyVerifier.from_files([made.public_path])


def _signed(signer: KeySigner, reasons: tuple[Reason, ...] = ()) -> tuple[bytes, bytes]:
    decision = build_decision(reasons, FACTS, now=NOW)
    content = decision_bytes(decision)
    statement = decision_statement(decision, content)
    return signer.sign(PAYLOAD_TYPE, statement_bytes(statement)).content, content


def test_no_reason_is_an_allow_that_expires_after_the_age_limit() -> None:
    decision = build_decision([], FACTS, now=NOW, decision_id="dec_x")
    assert decision.verdict is Verdict.ALLOW
    assert (decision.issued_at, decision.expires_at) == (
        "2026-03-01T12:00:00Z",
        "2026-03-01T12:10:00Z",
    )
    assert build_decision([], FACTS, now=NOW).decision_id.startswith("dec_")
    deny = build_decision([Reason("binding.run", "binding run_id", "m")], FACTS, now=NOW)
    assert deny.verdict is Verdict.DENY


def test_reasons_are_sorted_deduplicated_and_capped() -> None:
    a, b = Reason("b.code", "s", "m"), Reason("a.code", "s", "m")
    assert finish_reasons([a, b, a]) == (b, a)
    many = [Reason("binary.unlisted", f"binary /x/{i:05}", "m") for i in range(MAX_REASONS + 5)]
    kept = finish_reasons(many)
    assert len(kept) == MAX_REASONS
    assert kept[-1].code == "reasons.truncated"
    assert f"binary.unlisted {MAX_REASONS + 5}" in kept[-1].message


def test_unsigned_turns_any_decision_into_a_deny_that_says_so() -> None:
    allow = build_decision([], FACTS, now=NOW)
    denied = unsigned(allow, "Fulcio is down")
    assert denied.verdict is Verdict.DENY
    assert [r.code for r in denied.reasons] == ["decision.unsigned"]
    assert denied.decision_id == allow.decision_id
    assert "decision.unsigned" in CODES


def test_a_signed_decision_verifies_back(keys: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keys
    signed, content = _signed(signer, (Reason("drift.env-hash", "bag env-hash", "m"),))
    decision = verify_decision(signed, content, verifier)
    assert decision.verdict is Verdict.DENY
    assert decision_bytes(decision) == content


def test_a_changed_decision_or_statement_does_not_verify(
    keys: tuple[KeySigner, KeyVerifier], tmp_path: Path
) -> None:
    signer, verifier = keys
    signed, content = _signed(signer, (Reason("drift.env-hash", "bag env-hash", "m"),))
    forged = content.replace(b'"deny"', b'"allow"')
    with pytest.raises(VerificationError, match="no subject of the statement matches"):
        verify_decision(signed, forged, verifier)
    other = KeyVerifier.from_files([generate_key(tmp_path / "o.pem").public_path])
    with pytest.raises(VerificationError, match="does not verify with any trusted key"):
        verify_decision(signed, content, other)
    # a bag attestation is not a decision
    _, raw, statement = sample_statement()
    with pytest.raises(
        VerificationError, match=re.escape("expected 'https://envsecops.dev/decision/v1'")
    ):
        verify_decision(sign_statement(signer, statement), raw, verifier)


def test_the_predicate_must_be_the_decision_in_the_file(
    keys: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keys
    decision = build_decision([], FACTS, now=NOW)
    content = decision_bytes(decision)
    statement = decision_statement(decision, content)
    statement["predicate"] = {**statement["predicate"], "verdict": "deny"}
    signed = signer.sign(PAYLOAD_TYPE, statement_bytes(statement)).content
    with pytest.raises(VerificationError, match="the signed predicate is not the decision"):
        verify_decision(signed, content, verifier)
    junk = canonical_json({"not": "a decision"})
    statement = decision_statement(decision, junk)
    signed = signer.sign(PAYLOAD_TYPE, statement_bytes(statement)).content
    with pytest.raises(VerificationError, match="signed but not a valid decision"):
        verify_decision(signed, junk, verifier)


def test_the_decision_json_is_canonical_and_round_trips() -> None:
    decision = build_decision([Reason("binding.job", "binding job", "m")], FACTS, now=NOW)
    content = decision_bytes(decision)
    assert content == canonical_json(json.loads(content))
    statement = decision_statement(decision, content)
    assert statement["predicateType"] == "https://envsecops.dev/decision/v1"
    assert statement["subject"][0]["name"] == "decision.json"
