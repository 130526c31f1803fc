"""`envsecops verify` refuses attestations bound to another job, nonce or time.

Locally the job's facts come from the environment (GITHUB_REPOSITORY, GITHUB_RUN_ID,
GITHUB_RUN_ATTEMPT); in Actions from the validated OIDC token of the local issuer on
127.0.0.1, whose claims are octo-org/octo-repo, run 22259804324, attempt 2. The attestation
is signed by the trusted key with binding facts a test chooses, so the signature is good and
only the binding is wrong.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.oidc_issuer.server import LocalIssuer
from tests.integration.verify_scene_fixtures import keys_fixture, scene_fixture  # noqa: F401
from tests.integration.verify_support.builder import ago
from tests.integration.verify_support.scene import (
    RunCli,
    Scene,
    assert_allowed,
    assert_denied,
    run_verify,
)
from tests.unit.gh.runner_model import read_file_commands

OTHER_JOBS = [
    pytest.param({"repository": "evil-org/octo-repo"}, "binding.repository", id="repository"),
    pytest.param({"run_id": "22259804323"}, "binding.run", id="run"),
    pytest.param({"run_attempt": "1"}, "binding.attempt", id="attempt"),
    pytest.param({"job": "deploy"}, "binding.job", id="job"),
]
OTHER_WORKFLOW = "octo-org/octo-repo/.github/workflows/other.yml@refs/heads/main"
OTHER_JOBS_IN_ACTIONS = [
    *OTHER_JOBS,
    pytest.param({"workflow_ref": OTHER_WORKFLOW}, "binding.workflow", id="workflow"),
    pytest.param({"job_workflow_ref": OTHER_WORKFLOW}, "binding.workflow", id="job-workflow"),
    pytest.param({"repository_id": "75"}, "binding.repository", id="repository-id"),
]


@pytest.mark.parametrize(("facts", "code"), OTHER_JOBS)
def test_locally_an_attestation_from_another_job_is_denied(
    scene: Scene, run_cli: RunCli, facts: dict[str, str], code: str
) -> None:
    foreign = scene.attest(scene.bind(**facts))
    outcome = run_verify(run_cli, scene.args(attested=foreign), scene.out)
    found = assert_denied(outcome, code)
    assert any(value in found[0]["message"] for value in facts.values()), found


@pytest.mark.parametrize(
    ("variable", "value", "code"),
    [
        pytest.param("GITHUB_REPOSITORY", "evil-org/octo-repo", "binding.repository", id="repo"),
        pytest.param("GITHUB_RUN_ID", "22259804325", "binding.run", id="run"),
        pytest.param("GITHUB_RUN_ATTEMPT", "3", "binding.attempt", id="attempt"),
        pytest.param("GITHUB_JOB", "deploy", "binding.job", id="job"),
    ],
)
def test_locally_an_attestation_replayed_into_another_job_is_denied(
    scene: Scene,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    code: str,
) -> None:
    """Attested in this job, verified in a job whose GITHUB_* facts differ."""
    argv = scene.args()  # attest (and write the policy) in this job first
    monkeypatch.setenv(variable, value)
    outcome = run_verify(run_cli, argv, scene.out)
    found = assert_denied(outcome, code)
    assert value in found[0]["message"], found


def test_locally_an_attestation_with_unknown_facts_is_not_allowed(
    scene: Scene, run_cli: RunCli
) -> None:
    """A binding fact that is unknown never matches (attest/binding.py)."""
    foreign = scene.attest(scene.bind(repository=None, run_id=None))
    outcome = run_verify(run_cli, scene.args(attested=foreign), scene.out)
    assert_denied(outcome, "binding.unknown", "binding.repository", "binding.run")


def test_a_nonce_that_is_not_the_attested_one_is_denied(scene: Scene, run_cli: RunCli) -> None:
    argv = scene.args(nonce="nonce-of-another-job-0000")
    outcome = run_verify(run_cli, argv, scene.out)
    assert_denied(outcome, "binding.nonce")


@pytest.mark.parametrize(
    "created_at",
    [
        pytest.param({"hours": 2}, id="two-hours-old"),
        pytest.param({"minutes": 11}, id="just-past-the-10m-default"),
        pytest.param({"hours": -1}, id="an-hour-in-the-future"),
    ],
)
def test_an_attestation_older_than_max_attestation_age_is_denied(
    scene: Scene, run_cli: RunCli, created_at: dict[str, float]
) -> None:
    stale = scene.attest(scene.bind(created_at=ago(**created_at)))
    outcome = run_verify(run_cli, scene.args(attested=stale), scene.out)
    assert_denied(outcome, "binding.age")


def test_the_age_limit_is_the_policys(scene: Scene, run_cli: RunCli) -> None:
    """A five-minute-old attestation passes the default 10m and fails a policy's 90s."""
    recent = scene.attest(scene.bind(created_at=ago(minutes=5)))
    text = scene.policy.read_text(encoding="utf-8")
    scene.policy.write_text(text + "max-attestation-age: 90s\n", encoding="utf-8")
    outcome = run_verify(run_cli, scene.args(attested=recent), scene.out)
    assert_denied(outcome, "binding.age")


# --- in Actions: the facts come from the job's validated OIDC token -----------------------


@pytest.fixture
def actions(
    scene: Scene, oidc_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Scene:
    """The scene as an Actions job: OIDC token service, GITHUB_ACTIONS, GITHUB_OUTPUT."""
    for name, value in oidc_issuer.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    claims = oidc_issuer.claims("envsecops")
    scene.claims = {k: v for k, v in claims.items() if isinstance(v, str)}
    return scene


def _actions_args(scene: Scene, issuer: LocalIssuer, **kwargs: object) -> list[str | Path]:
    argv = scene.args(**kwargs)  # type: ignore[arg-type]
    return [*argv, "--policy-source", "workspace", "--oidc-issuer", issuer.url]


def test_control_in_actions_an_attestation_of_this_job_is_allowed(
    actions: Scene, oidc_issuer: LocalIssuer, run_cli: RunCli
) -> None:
    own = actions.attest(actions.bind())
    outcome = run_verify(run_cli, _actions_args(actions, oidc_issuer, attested=own), actions.out)
    assert_allowed(outcome)
    assert outcome.decision is not None
    assert outcome.decision["principal"]["origin"] == "oidc"
    assert outcome.decision["policy_source"] == "workspace"


@pytest.mark.parametrize(("facts", "code"), OTHER_JOBS_IN_ACTIONS)
def test_in_actions_an_attestation_from_another_job_is_denied(
    actions: Scene, oidc_issuer: LocalIssuer, run_cli: RunCli, facts: dict[str, str], code: str
) -> None:
    foreign = actions.attest(actions.bind(**facts))
    argv = _actions_args(actions, oidc_issuer, attested=foreign)
    outcome = run_verify(run_cli, argv, actions.out)
    assert_denied(outcome, code)
    outputs = read_file_commands((actions.tmp / "github_output").read_text(encoding="utf-8"))
    assert outputs["verdict"] == "deny", outputs
    assert outputs["decision"] == str(actions.out.resolve() / "decision.json"), outputs


def test_in_actions_the_environment_cannot_vouch_for_another_repository(
    actions: Scene, oidc_issuer: LocalIssuer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier step rewrote GITHUB_REPOSITORY to match a foreign attestation: the validated
    claim, not the variable, is what the binding is checked against."""
    monkeypatch.setenv("GITHUB_REPOSITORY", "evil-org/octo-repo")
    foreign = actions.attest(actions.bind(repository="evil-org/octo-repo"))
    argv = _actions_args(actions, oidc_issuer, attested=foreign)
    outcome = run_verify(run_cli, argv, actions.out)
    assert_denied(outcome, "binding.repository")


def test_in_actions_a_forged_token_is_a_deny_not_a_downgrade(
    actions: Scene, oidc_issuer: LocalIssuer, run_cli: RunCli
) -> None:
    """A token that arrives but fails validation: the job's facts cannot be trusted, and
    falling back to the environment's facts would let an earlier step choose them."""
    own = actions.attest(actions.bind())
    oidc_issuer.token_body = {"value": oidc_issuer.hostile("foreign-signature", "envsecops")}
    outcome = run_verify(run_cli, _actions_args(actions, oidc_issuer, attested=own), actions.out)
    assert_denied(outcome, "binding.unknown", contains="failed validation")
