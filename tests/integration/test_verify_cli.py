"""`envsecops verify` in-process, after a real `envsecops attest` of a small runner tree.

The tree, the key and the drafted policy come from the `job` fixture (verify_job.py). Actions
cases use the local OIDC issuer on 127.0.0.1 for both steps' tokens, and the default-branch
policy comes from the recorded GitHub API replay server.
"""

from __future__ import annotations

import json

import pytest

from envsecops.attest.key import KeyVerifier, generate_key
from envsecops.canonical import canonical_json
from envsecops.cli.verify import OUTPUT_NAMES
from envsecops.model.bag import Bag, BagDiff
from envsecops.model.decision import Decision, Mode, Verdict
from envsecops.verify.decision import verify_decision
from tests.conftest import CliResult
from tests.integration.github_api.replay import StartServer
from tests.integration.oidc_issuer.server import LocalIssuer
from tests.integration.verify_job import NONCE, Job, RunCli, job_fixture  # noqa: F401 - the `job` fixture


def _codes(decision: Decision) -> set[str]:
    return {reason.code for reason in decision.reasons}


def test_an_unchanged_tree_is_allowed_and_the_decision_is_signed(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    result = job.verify(run_cli, "--nonce", NONCE, policy=job.policy())
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("verdict: ALLOW (enforce mode)")
    content = (job.out / "decision.json").read_bytes()
    assert content == canonical_json(json.loads(content)), "decision.json is canonical JSON"
    signed = (job.out / "decision.dsse.json").read_bytes()
    decision = verify_decision(signed, content, KeyVerifier.from_files([job.public]))
    assert decision.verdict is Verdict.ALLOW
    assert decision.reasons == ()
    assert decision.decision_id.startswith("dec_")
    assert decision.policy_id.startswith("verify-test@sha256:")
    assert decision.policy_source == "local"
    assert (
        decision.env_hash
        == Bag.from_json(json.loads((job.attested / "bag.json").read_bytes())).env_hash
    )
    assert decision.principal.origin == "environment"
    assert decision.job == "-/-/-/-/-"
    assert not (job.out / "drift.json").exists()
    assert "not compared (a local run outside GitHub Actions)" in result.out


def test_a_changed_binary_is_drift_with_the_diff_written(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    policy = job.policy()
    echo = job.root / "usr/bin/echo"
    echo.write_bytes(echo.read_bytes() + b"\0")
    result = job.verify(run_cli, policy=policy)
    assert result.code == 1, result.err
    decision = job.decision()
    assert decision.verdict is Verdict.DENY
    assert _codes(decision) == {"drift.env-hash"}, decision.reasons
    reason = decision.reasons[0]
    assert "0 added, 0 removed, 1 changed" in reason.message
    assert "changed binary /usr/bin/echo" in reason.message
    diff = BagDiff.from_json(json.loads((job.out / "drift.json").read_bytes()))
    assert [new.path for _, new in diff.changed] == ["/usr/bin/echo"]
    assert "drift.env-hash (1)" in result.out


def test_audit_mode_passes_the_step_but_the_decision_is_deny(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    policy = job.policy(mode="audit")
    (job.root / "usr/bin/extra").write_bytes(b"#!/bin/sh\n")
    (job.root / "usr/bin/extra").chmod(0o755)
    result = job.verify(run_cli, policy=policy)
    assert result.code == 0, result.err
    decision = job.decision()
    assert (decision.verdict, decision.mode) == (Verdict.DENY, Mode.AUDIT)
    assert "AUDIT MODE: the decision is DENY" in result.err
    assert "AUDIT MODE" in result.out.splitlines()[0]
    assert (job.out / "decision.dsse.json").exists(), "an audit deny is signed like any decision"


def test_mode_enforce_makes_an_audit_policy_strict(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    policy = job.policy(mode="audit")
    (job.root / "usr/bin/echo").write_bytes(b"changed")
    result = job.verify(run_cli, "--mode", "enforce", policy=policy)
    assert result.code == 1
    assert job.decision().mode is Mode.ENFORCE
    assert "--mode enforce raised the policy's audit mode" in result.out


def test_mode_audit_cannot_lower_an_enforce_policy(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    policy = job.policy()
    line = policy.read_text().splitlines().index("mode: enforce") + 1
    result = job.verify(run_cli, "--mode", "audit", policy=policy)
    assert result.code == 2
    assert f"--mode audit would lower the policy's enforce mode ({policy}:{line})" in result.err
    assert not (job.out / "decision.json").exists(), "a usage error writes nothing"


def test_a_missing_policy_is_a_written_deny_with_the_fix(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    result = job.verify(run_cli, policy=job.tmp / "absent.yml")
    assert result.code == 1, result.err
    decision = job.decision()
    assert _codes(decision) == {"policy.missing"}
    assert "envsecops policy init --from bag.json" in decision.reasons[0].message
    assert decision.policy_id == ""
    assert (job.out / "decision.dsse.json").exists()


def test_a_foreign_key_is_a_signature_reason_and_the_policy_still_runs(
    job: Job, run_cli: RunCli
) -> None:
    job.attest(run_cli)
    policy = job.policy()
    other = generate_key(job.tmp / "other.pem")
    (job.root / "usr/bin/echo").write_bytes(b"changed")
    result = run_cli(
        "verify", "--root", job.root, "--attestation", job.attested / "attestation.dsse.json",
        "--bag", job.attested / "bag.json", "--key", other.private_path, "--no-syft",
        "--out", job.out, "--policy", policy,
    )  # fmt: skip
    assert result.code == 1, result.err
    codes = _codes(job.decision())
    assert {"attestation.signature", "drift.env-hash"} <= codes
    assert "Traceback" not in result.err


def test_the_attesting_key_given_as_public_key_verifies(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    other = generate_key(job.tmp / "other.pem")
    result = run_cli(
        "verify", "--root", job.root, "--attestation", job.attested / "attestation.dsse.json",
        "--bag", job.attested / "bag.json", "--key", other.private_path, "--public-key",
        job.public, "--no-syft", "--out", job.out, "--policy", job.policy(),
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    signed = (job.out / "decision.dsse.json").read_bytes()
    content = (job.out / "decision.json").read_bytes()
    verify_decision(signed, content, KeyVerifier.from_files([other.public_path]))


def test_a_wrong_nonce_is_a_binding_reason(job: Job, run_cli: RunCli) -> None:
    job.attest(run_cli)
    result = job.verify(run_cli, "--nonce", "another-nonce-0123456789", policy=job.policy())
    assert result.code == 1
    assert _codes(job.decision()) == {"binding.nonce"}


def test_a_decision_that_cannot_be_signed_is_exit_3_and_a_deny(
    job: Job, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envsecops.attest.interface import SigningError
    from envsecops.attest.key import KeySigner

    def refuse(self: KeySigner, payload_type: str, payload: bytes) -> None:
        raise SigningError("the HSM is unplugged", fix="plug it in")

    job.attest(run_cli)
    policy = job.policy()
    (job.out / "decision.dsse.json").parent.mkdir(parents=True)
    (job.out / "decision.dsse.json").write_text("stale")
    monkeypatch.setattr(KeySigner, "sign", refuse)
    result = job.verify(run_cli, policy=policy)
    assert result.code == 3, result.err
    decision = job.decision()
    assert decision.verdict is Verdict.DENY
    assert _codes(decision) == {"decision.unsigned"}
    assert "the HSM is unplugged" in decision.reasons[0].message
    assert not (job.out / "decision.dsse.json").exists(), "a stale signed decision is removed"
    assert "could not be signed" in result.err


def test_keyless_signing_without_a_token_is_exit_3_with_a_written_deny(
    job: Job, run_cli: RunCli
) -> None:
    job.attest(run_cli)
    result = run_cli(
        "verify", "--root", job.root, "--attestation", job.attested / "attestation.dsse.json",
        "--bag", job.attested / "bag.json", "--signer", "sigstore", "--no-syft",
        "--out", job.out, "--policy", job.policy(),
    )  # fmt: skip
    assert result.code == 3, result.err
    codes = _codes(job.decision())
    assert {"attestation.signature", "decision.unsigned"} <= codes
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in result.err


# --- in GitHub Actions, with the local OIDC issuer ------------------------------------------


@pytest.fixture
def actions(job: Job, monkeypatch: pytest.MonkeyPatch, oidc_issuer: LocalIssuer) -> LocalIssuer:
    """A job step's environment: GITHUB_ACTIONS, the runtime files and the token service."""
    for name, value in oidc_issuer.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(job.tmp / "github_output"))
    monkeypatch.setenv("GITHUB_JOB", "deploy")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(job.tmp / "workspace"))
    return oidc_issuer


def _actions_verify(job: Job, run_cli: RunCli, issuer: LocalIssuer, *extra: str) -> CliResult:
    return job.verify(
        run_cli, "--signer", "key", "--oidc-issuer", issuer.url, "--nonce", NONCE, *extra
    )


def test_in_actions_the_binding_is_checked_against_this_steps_claims(
    job: Job, run_cli: RunCli, actions: LocalIssuer
) -> None:
    from tests.unit.gh.runner_model import process, read_file_commands

    job.attest(run_cli, "--oidc-issuer", actions.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")
    result = _actions_verify(job, run_cli, actions, "--policy-source", "workspace")
    assert result.code == 0, result.out + result.err
    decision = job.decision()
    claims = actions.claims("envsecops")
    assert decision.principal.origin == "oidc"
    assert decision.principal.get("run_id") == claims["run_id"]
    assert decision.job == f"octo-org/octo-repo/{claims['run_id']}/{claims['run_attempt']}/deploy"
    assert decision.policy_source == "workspace"
    commands = process(result.out)
    assert [c.name for c in commands] == ["add-mask"], "the table is wrapped in stop-commands"
    written = read_file_commands((job.tmp / "github_output").read_text(encoding="utf-8"))
    outputs = {name: written[name] for name in OUTPUT_NAMES}
    assert outputs == {
        "verdict": "allow",
        "decision": str(job.out / "decision.json"),
        "env-hash": decision.env_hash,
        "policy-id": decision.policy_id,
        "decision-attestation": str(job.out / "decision.dsse.json"),
        "drift": "",
        "policy-file": str(job.out / "policy.yml"),
    }
    from envsecops.policy.load import load_policy_file

    # policy.yml is the exact text the decision rests on: it hashes to the signed policy id.
    copied = load_policy_file(job.out / "policy.yml")
    assert copied.policy_id == decision.policy_id
    assert (job.out / "policy.yml").read_bytes() == (
        job.tmp / "workspace/.github/envsecops.yml"
    ).read_bytes()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"run_id": "99"}, "binding.run"),
        ({"run_attempt": "3"}, "binding.attempt"),
        (
            {
                "repository": "octo-org/elsewhere",
                "repository_id": "75",
                "sub": "repo:octo-org/elsewhere:ref:refs/heads/main",
            },
            "binding.repository",
        ),
    ],
)
def test_in_actions_an_attestation_from_another_run_attempt_or_repository_is_denied(
    job: Job, run_cli: RunCli, actions: LocalIssuer, changes: dict[str, str], code: str
) -> None:
    job.attest(run_cli, "--oidc-issuer", actions.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")
    actions.token_body = {"value": actions.mint(actions.claims("envsecops", **changes))}
    result = _actions_verify(job, run_cli, actions, "--policy-source", "workspace")
    assert result.code == 1, result.err
    assert code in _codes(job.decision())


def test_in_actions_another_job_is_denied(
    job: Job, run_cli: RunCli, actions: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    job.attest(run_cli, "--oidc-issuer", actions.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")
    monkeypatch.setenv("GITHUB_JOB", "release")
    result = _actions_verify(job, run_cli, actions, "--policy-source", "workspace")
    assert result.code == 1
    assert _codes(job.decision()) == {"binding.job"}


def test_in_actions_the_policy_comes_from_the_default_branch_and_a_failed_fetch_denies(
    job: Job, run_cli: RunCli, actions: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens there
    job.attest(run_cli, "--oidc-issuer", actions.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")  # the workspace copy is ignored
    result = _actions_verify(job, run_cli, actions)
    assert result.code == 1, result.err
    decision = job.decision()
    assert _codes(decision) == {"policy.fetch"}
    assert decision.policy_source == "default-branch"
    assert decision.reasons[0].subject == (
        "policy octo-org/octo-repo@default-branch:.github/envsecops.yml"
    )
    outputs = (job.tmp / "github_output").read_text(encoding="utf-8")
    assert "deny" in outputs


def test_in_actions_a_rejected_token_is_a_written_deny(
    job: Job, run_cli: RunCli, actions: LocalIssuer
) -> None:
    job.attest(run_cli, "--oidc-issuer", actions.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")
    actions.token_body = {"value": actions.hostile("foreign-signature", audience="envsecops")}
    result = _actions_verify(job, run_cli, actions, "--policy-source", "workspace")
    assert result.code == 1, result.err
    codes = _codes(job.decision())
    assert "binding.unknown" in codes
    assert job.decision().principal.origin == "environment"


def test_in_actions_the_default_branch_policy_is_the_one_applied(
    job: Job,
    run_cli: RunCli,
    actions: LocalIssuer,
    monkeypatch: pytest.MonkeyPatch,
    github_api: StartServer,
) -> None:
    from tests.fixtures.github_api.policy_scenarios import PAYMENTS, head

    server = github_api("policy-fetch")
    monkeypatch.setenv("GITHUB_API_URL", server.base_url)
    monkeypatch.setenv("ENVSECOPS_GITHUB_TOKEN", "ghs_verifyFetchToken0123456789")
    claims = actions.claims(
        "envsecops",
        repository="octo-org/payments",
        repository_id="200001",
        sub="repo:octo-org/payments:ref:refs/heads/main",
    )
    actions.token_body = {"value": actions.mint(claims)}
    job.attest(run_cli, "--oidc-issuer", actions.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")  # allows the bag, but not read
    result = _actions_verify(job, run_cli, actions)
    assert result.code == 1, result.err
    decision = job.decision()
    assert decision.policy_source == "default-branch"
    assert decision.policy_id.startswith("payments-deploy@sha256:"), "the recorded policy"
    source = f"octo-org/payments@main:.github/envsecops.yml ({head(PAYMENTS)})"
    assert f"from {source} (default-branch)" in result.out
    assert "policy.fetch" not in _codes(decision)
    assert "binding.repository" not in _codes(decision)
    assert server.unmatched == []
