"""Our own CI verifies its runner with envsecops: the `bag` job and the policy it judges by."""

from __future__ import annotations

from pathlib import Path

from envsecops.model.decision import Mode
from envsecops.policy.load import load_policy_file
from envsecops.syntax.yaml import compose_documents, items, scalar

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".github" / "workflows" / "ci.yml"
POLICY = ROOT / ".github" / "envsecops-ci.yml"


def _steps() -> list[dict[str, object]]:
    (root,) = compose_documents(CI.read_text(encoding="utf-8"))
    jobs = {name: value for name, _key, value in items(root)}["jobs"]
    job = {name: value for name, _key, value in items(jobs)}["bag"]
    steps = {name: value for name, _key, value in items(job)}["steps"]
    return [{name: value for name, _key, value in items(step)} for step in steps.value]


def test_the_ci_policy_loads_in_audit_mode_and_allows_something() -> None:
    policy = load_policy_file(POLICY)
    assert policy.mode is Mode.AUDIT, "audit until the allowlist holds the runner image"
    assert not policy.empty_allowlist
    assert policy.runner.environments == ("github-hosted",)


def test_the_ci_policy_allows_exactly_the_actions_ci_pins() -> None:
    text = CI.read_text(encoding="utf-8")
    policy = load_policy_file(POLICY)
    for rule in policy.actions:
        assert rule.shas is not None
        for sha in rule.shas:
            assert f"{rule.repo}@{sha}" in text or f"{rule.repo}/" in text, rule


def test_the_bag_job_attests_then_verifies_with_that_policy() -> None:
    steps = _steps()
    runs = [scalar(step.get("run")) or "" for step in steps]  # type: ignore[arg-type]
    attest = next(i for i, run in enumerate(runs) if "attest-runner.sh" in run)
    verify = next(i for i, run in enumerate(runs) if "verify-bag.sh" in run)
    assert attest < verify
    env = {name: scalar(value) for name, _k, value in items(steps[verify]["env"])}  # type: ignore[arg-type]
    assert env["ENVSECOPS_POLICY"] == ".github/envsecops-ci.yml"
    assert env["ENVSECOPS_NONCE"] == "${{ steps.attest.outputs.nonce }}"
    assert env["ENVSECOPS_ATTESTATION"] == "${{ steps.attest.outputs.attestation }}"
    assert env["ENVSECOPS_BAG"] == "${{ steps.attest.outputs.bag }}"
