"""The four checks together: every reason is collected; only what needs a bag is skipped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from envsecops.attest.interface import Verifier
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key, load_public_key
from envsecops.model.bag import Bag, Component, ComponentKind
from envsecops.model.decision import Principal, Reason, Verdict
from envsecops.model.findings import Finding
from envsecops.policy.model import Policy
from envsecops.verify.decision import decision_bytes
from envsecops.verify.engine import (
    Collaborators,
    Evaluator,
    VerifyInputs,
    VerifyOutcome,
    default_evaluator,
    run_checks,
)
from envsecops.verify.job import current_job
from envsecops.verify.policy_input import PolicyLoaders, PolicyRequest
from tests.unit.attest.samples import sample_statement, sign_statement

POLICY = 'version: "1"\nname: unit\nbinaries:\n  /usr/bin/git: [sha256:' + "a" * 64 + "]\n"
NOW = datetime(2026, 3, 1, 12, 1, tzinfo=UTC)
PRINCIPAL = Principal.from_claims({}, "environment")


class Calls:
    """Records which collaborators ran."""

    def __init__(self, fresh: Bag) -> None:
        self.fresh = fresh
        self.evaluated: list[Bag] = []
        self.inventories = 0

    def evaluator(self) -> Evaluator:
        def evaluate(
            policy: Policy, bag: Bag, *, pin_findings: Sequence[Finding] = ()
        ) -> list[Reason]:
            self.evaluated.append(bag)
            return [Reason("binary.unlisted", "binary /usr/bin/bash", "not in `binaries`")]

        return evaluate

    def take(self) -> Bag:
        self.inventories += 1
        return self.fresh


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path, KeySigner]:
    made = generate_key(tmp_path / "k.pem")
    signer = KeySigner.from_file(made.private_path)
    _, raw, statement = sample_statement()
    (tmp_path / "att.dsse.json").write_bytes(sign_statement(signer, statement))
    (tmp_path / "bag.json").write_bytes(raw)
    (tmp_path / "policy.yml").write_text(POLICY)
    return tmp_path / "att.dsse.json", tmp_path / "bag.json", tmp_path / "policy.yml", signer


@pytest.fixture
def stranger(tmp_path: Path) -> KeyVerifier:
    """A verifier that trusts only a key the attestation was not signed with."""
    return KeyVerifier.from_files([generate_key(tmp_path / "s.pem").public_path])


def _check(
    att: Path, bag: Path, policy: Path, verifier: Verifier, calls: Calls, *, fake_policy: bool
) -> VerifyOutcome:
    """Run the checks locally; ``fake_policy`` swaps the evaluator for the recording one."""
    inputs = VerifyInputs(att, bag, PolicyRequest("local", str(policy), path=policy))
    collab = Collaborators(
        build_verifier=lambda: verifier,
        take_inventory=calls.take,
        loaders=PolicyLoaders.default(),
        evaluator=calls.evaluator if fake_policy else default_evaluator,
        clock=lambda: NOW,
    )
    return run_checks(inputs, current_job(None, {}, in_actions=False), PRINCIPAL, collab)


def _run(att: Path, bag: Path, policy: Path, verifier: Verifier, calls: Calls) -> list[str]:
    outcome = _check(att, bag, policy, verifier, calls, fake_policy=True)
    assert outcome.decision.verdict is (Verdict.DENY if outcome.decision.reasons else Verdict.ALLOW)
    return sorted({r.code for r in outcome.decision.reasons})


def test_a_bad_signature_still_runs_the_policy_and_the_drift_check(
    files: tuple[Path, Path, Path, KeySigner], stranger: KeyVerifier
) -> None:
    att, bag, policy, _ = files
    changed = Component(ComponentKind.BINARY, "x", "path", path="/usr/bin/x")
    fresh = sample_statement()[0]
    calls = Calls(Bag.build(fresh.runner, [*fresh.components, changed]))
    codes = _run(att, bag, policy, stranger, calls)
    assert codes == ["attestation.signature", "binary.unlisted", "drift.env-hash"]
    assert calls.inventories == 1
    assert len(calls.evaluated) == 1


def test_a_good_attestation_checks_the_binding_too(
    files: tuple[Path, Path, Path, KeySigner],
) -> None:
    att, bag, policy, signer = files
    verifier = KeyVerifier([load_public_key(signer.public_pem, "k.pem.pub")])
    calls = Calls(sample_statement()[0])
    codes = _run(att, bag, policy, verifier, calls)
    # the sample binding names a repository, a run and a job; this local job knows none
    assert codes == ["binary.unlisted", "binding.unknown"]


def test_an_unparseable_bag_skips_what_needs_a_bag(
    files: tuple[Path, Path, Path, KeySigner], stranger: KeyVerifier
) -> None:
    att, bag, policy, _ = files
    bag.write_bytes(b"[]")
    calls = Calls(sample_statement()[0])
    codes = _run(att, bag, policy, stranger, calls)
    assert codes == ["attestation.signature", "attestation.unreadable"]
    assert calls.inventories == 0
    assert calls.evaluated == []


def test_missing_files_are_unreadable_and_nothing_raises(
    files: tuple[Path, Path, Path, KeySigner], stranger: KeyVerifier, tmp_path: Path
) -> None:
    _, _, policy, _ = files
    calls = Calls(sample_statement()[0])
    codes = _run(tmp_path / "no-att", tmp_path / "no-bag", policy, stranger, calls)
    assert codes == ["attestation.unreadable"]


def test_hostile_text_in_the_bag_still_gives_a_canonical_decision(
    files: tuple[Path, Path, Path, KeySigner], stranger: KeyVerifier
) -> None:
    att, bag, policy, _ = files
    bag.write_bytes(b'{"version": "1", "components": [{"kind": "binary", "name": "\\udc80"}]}')
    outcome = _check(att, bag, policy, stranger, Calls(sample_statement()[0]), fake_policy=False)
    assert "attestation.unreadable" in {r.code for r in outcome.decision.reasons}
    decision_bytes(outcome.decision)  # canonical JSON: no lone surrogate survives
