"""In Actions, `envsecops verify` reads the policy from the default branch through the GitHub
API; every way that read can fail is a written deny `policy.fetch`, never a fallback to the
workspace copy and never an allow.

The API is the PyGithub replay server on 127.0.0.1 (H4's recorded `policy-*` scenarios and
the shared `server-error` / `rate-limited` ones), or a loopback port nobody listens on. The
job's repository comes from the validated OIDC token of the local issuer, whose `repository`
claim each test points at the scenario's repository. A workspace policy that would allow the
bag is present in every case, to prove it is not used as a fallback.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests.integration.github_api.replay import FIXTURES, ReplayServer, StartServer
from tests.integration.oidc_issuer.server import LocalIssuer
from tests.integration.verify_scene_fixtures import keys_fixture  # noqa: F401 - `keys`
from tests.integration.verify_support.builder import (
    KeyPair,
    policy_text,
    write_policy,
)
from tests.integration.verify_support.scene import (
    Outcome,
    RunCli,
    Scene,
    assert_denied,
    clean_environment,
    run_verify,
)

FETCH_CODES = ("policy.fetch",)
MISSING_CODES = FETCH_CODES
"""A policy absent from the default branch is a failed fetch too (the contract), not
`policy.missing` (which names a missing local file)."""


class Job:
    """An Actions job of ``repository`` whose policy is read from ``api_url``."""

    def __init__(
        self,
        tmp: Path,
        keys: tuple[KeyPair, KeyPair],
        issuer: LocalIssuer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.tmp, self.keys, self.issuer, self.monkeypatch = tmp, keys, issuer, monkeypatch

    def verify(self, run_cli: RunCli, repository: str, api_url: str) -> Outcome:
        """Attest as this job of ``repository`` and verify with the policy from ``api_url``."""
        issuer, monkeypatch = self.issuer, self.monkeypatch
        clean_environment(
            monkeypatch,
            self.tmp,
            GITHUB_ACTIONS="true",
            GITHUB_OUTPUT=str(self.tmp / "github_output"),
            GITHUB_REPOSITORY=repository,
            GITHUB_WORKSPACE=str(self.tmp / "workspace"),
            GITHUB_API_URL=api_url,
            ENVSECOPS_GITHUB_TOKEN="ghs_" + "x" * 36,
            **issuer.environ(),
        )
        original = issuer.claims

        workflow = f"{repository}/.github/workflows/deploy.yml@refs/heads/main"
        ours = {
            "repository": repository,
            "sub": f"repo:{repository}:ref:refs/heads/main",
            "workflow_ref": workflow,
            "job_workflow_ref": workflow,
        }

        def claims(audience: str = "sts.amazonaws.com", /, **changes: Any) -> dict[str, Any]:
            return original(audience, **{**ours, **changes})

        monkeypatch.setattr(issuer, "claims", claims)
        scene = Scene(self.tmp, *self.keys)
        scene.claims = {k: v for k, v in claims("envsecops").items() if isinstance(v, str)}
        own = scene.attest(scene.bind())
        workspace_policy = write_policy(self.tmp / "workspace", policy_text(scene.bag))
        argv = scene.args(attested=own, policy=workspace_policy)
        argv = [a for a in argv if a not in ("--policy", workspace_policy)]
        argv += ["--oidc-issuer", issuer.url]
        return run_verify(run_cli, argv, scene.out)


@pytest.fixture
def job(
    tmp_path: Path,
    keys: tuple[KeyPair, KeyPair],
    oidc_issuer: LocalIssuer,
    monkeypatch: pytest.MonkeyPatch,
) -> Job:
    return Job(tmp_path, keys, oidc_issuer, monkeypatch)


def _scenario(github_api: StartServer, name: str) -> ReplayServer:
    if not (FIXTURES / name).is_dir():
        pytest.skip(f"the recorded scenario {name} is not there yet (H4 writes it)")
    return github_api(name)


@pytest.mark.parametrize(
    ("scenario", "repository", "codes"),
    [
        pytest.param("policy-server-error", "octo-org/payments", FETCH_CODES, id="500"),
        pytest.param("policy-rate-limited", "octo-org/payments", FETCH_CODES, id="429"),
        pytest.param("policy-forbidden", "octo-org/payments", FETCH_CODES, id="403-contents"),
        pytest.param("policy-too-large", "octo-org/payments", FETCH_CODES, id="too-large"),
        pytest.param("server-error", "octo-org/payments", FETCH_CODES, id="502-everywhere"),
        pytest.param("rate-limited", "octo-org/payments", FETCH_CODES, id="403-rate-limit"),
        pytest.param("policy-missing", "octo-org/no-policy", MISSING_CODES, id="no-file"),
        pytest.param("policy-missing", "octo-org/ghost", MISSING_CODES, id="no-repository"),
        pytest.param("policy-missing", "octo-org/empty", MISSING_CODES, id="empty-repository"),
    ],
)
def test_a_policy_fetch_that_fails_is_a_deny_not_a_fallback(
    job: Job,
    github_api: StartServer,
    run_cli: RunCli,
    scenario: str,
    repository: str,
    codes: tuple[str, ...],
) -> None:
    server = _scenario(github_api, scenario)
    outcome = job.verify(run_cli, repository, server.base_url)
    found = assert_denied(outcome, *codes)
    assert any(repository in r["message"] for r in found), outcome.explain()
    assert any(f"/repos/{repository}" in route for route in server.routes), server.routes
    assert outcome.decision is not None
    assert outcome.decision["policy_source"] == "default-branch", outcome.decision


def test_an_api_nobody_listens_on_is_a_deny(job: Job, run_cli: RunCli) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = job.verify(run_cli, "octo-org/payments", f"http://127.0.0.1:{port}")
    assert_denied(outcome, *FETCH_CODES)


def test_control_a_fetch_that_works_reads_the_default_branch_policy(
    job: Job, github_api: StartServer, run_cli: RunCli
) -> None:
    """The same job against the recorded `policy-fetch` scenario: the policy is fetched (its
    content, written for another bag, may well deny this one, but not with policy.fetch)."""
    server = _scenario(github_api, "policy-fetch")
    outcome = job.verify(run_cli, "octo-org/payments", server.base_url)
    assert "policy.fetch" not in outcome.codes, outcome.explain()
    assert outcome.decision is not None
    assert outcome.decision["policy_source"] == "default-branch"
    assert outcome.decision["policy_id"], outcome.explain()
    ref = outcome.decision["policy_ref"]  # the exact file and commit the verdict rests on
    assert ref.startswith("octo-org/payments@main:.github/envsecops.yml ("), ref
    assert server.unmatched == [], server.routes
