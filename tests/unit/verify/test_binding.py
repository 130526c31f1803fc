"""Check 2: the binding against this job's facts, the nonce and the age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from envsecops.attest.binding import Binding, Origin
from envsecops.verify.binding import check_binding, duration
from envsecops.verify.job import current_job, principal_of
from tests.unit.attest.samples import CREATED_AT, NONCE, sample_binding

CLAIMS = {
    "repository": "octo-org/octo-repo",
    "repository_id": "74",
    "workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "run_id": "22259804324",
    "run_attempt": "2",
}
ENVIRON = {"GITHUB_JOB": "deploy", "RUNNER_NAME": "GitHub Actions 7"}
NOW = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


def _codes(binding: Binding, *, claims: dict[str, str] | None = CLAIMS, **kw: object) -> list[str]:
    job = current_job(claims, ENVIRON, in_actions=True)
    options = {"nonce": NONCE, "now": NOW, "max_age": 600, "age_source": "the default"} | kw
    check = check_binding(binding, job, **options)  # type: ignore[arg-type]
    return [reason.code for reason in check.reasons]


def test_the_same_job_matches() -> None:
    assert _codes(sample_binding()) == []


@pytest.mark.parametrize(
    ("fact", "value", "code"),
    [
        ("repository", "octo-org/elsewhere", "binding.repository"),
        ("repository_id", "75", "binding.repository"),
        ("run_id", "1", "binding.run"),
        ("run_attempt", "1", "binding.attempt"),
        ("job", "build", "binding.job"),
        (
            "workflow_ref",
            "octo-org/octo-repo/.github/workflows/x.yml@refs/heads/main",
            "binding.workflow",
        ),
    ],
)
def test_another_job_is_named_by_its_code(fact: str, value: str, code: str) -> None:
    assert _codes(sample_binding(**{fact: value})) == [code]


def test_a_fact_known_on_one_side_only_is_unknown() -> None:
    assert _codes(sample_binding(job_workflow_ref=None)) == ["binding.unknown"]
    reduced = {k: v for k, v in CLAIMS.items() if k != "repository_id"}
    assert _codes(sample_binding(), claims=reduced) == ["binding.unknown"]


def test_in_actions_facts_nobody_knows_deny_but_locally_they_are_noted() -> None:
    bare = Binding.collect(None, {}, nonce=NONCE, created_at=CREATED_AT)
    nothing = current_job(None, {}, in_actions=True)
    check = check_binding(bare, nothing, nonce=None, now=NOW, max_age=600, age_source="x")
    assert sorted({r.subject for r in check.reasons}) == [
        "binding job",
        "binding nonce",
        "binding repository",
        "binding run_attempt",
        "binding run_id",
    ]
    local = current_job(None, {}, in_actions=False)
    check = check_binding(bare, local, nonce=None, now=NOW, max_age=600, age_source="x")
    assert check.reasons == ()
    assert "repository" in check.unchecked


def test_the_nonce_must_be_the_expected_one_when_given() -> None:
    assert _codes(sample_binding(), nonce="another-nonce-0123456789") == ["binding.nonce"]
    assert _codes(sample_binding(), nonce=None) == ["binding.nonce"]  # required in Actions
    local = current_job(CLAIMS, ENVIRON, in_actions=False)
    check = check_binding(sample_binding(), local, nonce=None, now=NOW, max_age=600, age_source="")
    assert check.reasons == ()  # optional outside Actions (a note says it was not compared)


def test_the_age_limit_and_clock_skew() -> None:
    assert _codes(sample_binding(), now=NOW + timedelta(minutes=6)) == ["binding.age"]
    assert _codes(sample_binding(), now=NOW - timedelta(minutes=6)) == []
    assert _codes(sample_binding(), now=datetime(2026, 3, 1, 11, 58, 59, tzinfo=UTC)) == [
        "binding.age"
    ]
    assert _codes(sample_binding(), now=datetime(2026, 3, 1, 11, 59, 30, tzinfo=UTC)) == []


def test_messages_name_both_sides_and_origins() -> None:
    job = current_job(CLAIMS, ENVIRON, in_actions=True)
    check = check_binding(
        sample_binding(run_id="1"), job, nonce=NONCE, now=NOW, max_age=600, age_source="p.yml:4"
    )
    assert check.reasons[0].message == (
        "the attestation was made with run_id '1' (oidc), this job has '22259804324' (oidc)"
    )
    old = check_binding(
        sample_binding(), job, nonce=NONCE, now=NOW + timedelta(hours=1), max_age=90,
        age_source="p.yml:4",
    )  # fmt: skip
    assert "1h 5m ago: older than max-attestation-age 1m 30s (p.yml:4)" in old.reasons[0].message


def test_malformed_job_facts_are_an_unknown_reason() -> None:
    job = current_job(None, {"GITHUB_RUN_ID": "not-a-number"}, in_actions=True)
    assert job.problem is not None
    check = check_binding(sample_binding(), job, nonce=None, now=NOW, max_age=600, age_source="x")
    assert check.reasons[0].subject == "job"


def test_job_id_and_principal() -> None:
    job = current_job(CLAIMS, ENVIRON, in_actions=True)
    assert job.job_id() == "octo-org/octo-repo/22259804324/2/deploy"
    assert job.origin("run_id") is Origin.OIDC
    assert job.origin("job") is Origin.ENVIRONMENT
    assert current_job(None, {}, in_actions=False).job_id() == "-/-/-/-/-"
    assert principal_of(CLAIMS, {}).origin == "oidc"
    local = principal_of(None, {"GITHUB_REPOSITORY": "a/b", "GITHUB_ACTOR": "x\ny"})
    assert (local.origin, dict(local.claims)) == ("environment", {"repository": "a/b"})


def test_duration() -> None:
    assert [duration(s) for s in (0, 59, 60, 3601, 90)] == ["0s", "59s", "1m", "1h 1s", "1m 30s"]


def test_in_actions_the_nonce_is_required() -> None:
    job = current_job(CLAIMS, ENVIRON, in_actions=True)
    check = check_binding(sample_binding(), job, nonce=None, now=NOW, max_age=600, age_source="x")
    assert [(r.code, r.subject) for r in check.reasons] == [("binding.nonce", "binding nonce")]
    assert "--nonce" in check.reasons[0].message
