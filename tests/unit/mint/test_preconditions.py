"""The pure preconditions of a mint: decision, policy, provider, duration and job."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from envsecops.errors import UsageError
from envsecops.mint.preconditions import (
    Refused,
    check_job,
    check_policy,
    check_token_claims,
    choose_duration,
    choose_provider,
    decision_job,
    judge_decision,
)
from envsecops.model.decision import Decision, Mode, Principal, Reason, Verdict
from envsecops.policy.model import CredentialsPolicy, Policy, ProviderSettings
from envsecops.verify.decision import utc_text
from envsecops.verify.job import JobFacts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLAIMS = {
    "repository": "octo-org/octo-repo",
    "repository_id": "74",
    "run_id": "1001",
    "run_attempt": "2",
    "job_workflow_ref": "octo-org/octo-repo/.github/workflows/d.yml@refs/heads/main",
    "sha": "c" * 40,
}


def decision(**changes: Any) -> Decision:
    base = Decision(
        decision_id="dec_" + "1" * 32,
        verdict=Verdict.ALLOW,
        mode=Mode.ENFORCE,
        reasons=(),
        env_hash="sha256:" + "e" * 64,
        policy_id="p@sha256:0123456789ab",
        attestation_digest="sha256:" + "a" * 64,
        principal=Principal.from_claims(CLAIMS, "oidc"),
        job="octo-org/octo-repo/1001/2/deploy",
        issued_at=utc_text(NOW - timedelta(seconds=30)),
        expires_at=utc_text(NOW + timedelta(minutes=9)),
    )
    return replace(base, **changes)


def job(in_actions: bool = True, /, **facts: str | None) -> JobFacts:
    values: dict[str, str | None] = {
        "repository": "octo-org/octo-repo",
        "repository_id": "74",
        "run_id": "1001",
        "run_attempt": "2",
        "job": "deploy",
    }
    values.update(facts)
    return JobFacts(tuple(values.items()), (), in_actions)


def refused(call: Any, *args: Any, **kwargs: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        call(*args, **kwargs)
    assert caught.value.exit_code == 1
    return caught.value


# --- the decision ---------------------------------------------------------------------------


def test_a_fresh_allow_passes() -> None:
    judge_decision(decision(), now=NOW, max_age=300)


@pytest.mark.parametrize(
    ("changes", "code", "needle"),
    [
        ({"verdict": Verdict.DENY, "reasons": (Reason("x.y", "s", "m"),)}, "decision.deny", "x.y"),
        (
            {"verdict": Verdict.DENY, "mode": Mode.AUDIT, "reasons": (Reason("x.y", "s", "m"),)},
            "decision.deny",
            "an audit-mode deny mints nothing",
        ),
        (
            {"verdict": Verdict.DENY, "reasons": (Reason("decision.unsigned", "d", "m"),)},
            "decision.unsigned",
            "could not be signed",
        ),
        ({"expires_at": utc_text(NOW - timedelta(seconds=1))}, "decision.expired", "expired at"),
        ({"issued_at": utc_text(NOW - timedelta(seconds=301))}, "decision.age", "5m 1s ago"),
        ({"issued_at": utc_text(NOW + timedelta(seconds=61))}, "decision.future", "future"),
        ({"issued_at": "yesterday"}, "decision.invalid", "not a UTC time"),
        ({"expires_at": "2026-03-01T12:00:00"}, "decision.invalid", "not a UTC time"),
    ],
)
def test_a_decision_that_does_not_allow_now_is_refused(
    changes: dict[str, Any], code: str, needle: str
) -> None:
    error = refused(judge_decision, decision(**changes), now=NOW, max_age=300)
    assert error.code == code
    assert needle in error.message


def test_clock_skew_within_a_minute_is_tolerated() -> None:
    judge_decision(decision(issued_at=utc_text(NOW + timedelta(seconds=59))), now=NOW, max_age=1)


def test_the_policy_must_be_the_one_the_decision_was_made_under() -> None:
    policy = Policy(name="p", policy_id="p@sha256:ffffffffffff", source="dec/policy.yml")
    error = refused(check_policy, policy, decision())
    assert error.code == "policy.mismatch"
    assert "swapped or edited" in error.message
    check_policy(replace(policy, policy_id="p@sha256:0123456789ab"), decision())


# --- the provider and the duration ----------------------------------------------------------

AWS = ProviderSettings("aws", (("region", "eu-west-1"),))
VAULT = ProviderSettings("vault", (("role", "r"),))


def test_the_only_provider_is_the_default_and_several_need_a_name() -> None:
    assert choose_provider(CredentialsPolicy(providers=(AWS,)), None) is AWS
    both = CredentialsPolicy(providers=(AWS, VAULT))
    assert choose_provider(both, "vault") is VAULT
    with pytest.raises(UsageError, match="say which with --provider"):
        choose_provider(both, None)
    with pytest.raises(UsageError, match="configures only aws"):
        choose_provider(CredentialsPolicy(providers=(AWS,)), "gcp")
    with pytest.raises(UsageError, match="no credential provider"):
        choose_provider(CredentialsPolicy(), "aws")


def test_duration_may_only_shorten_the_policy_ceiling() -> None:
    assert choose_duration(CredentialsPolicy(), None) is None
    assert choose_duration(CredentialsPolicy(), 900) == 900
    with pytest.raises(UsageError, match="the default 15m "):
        choose_duration(CredentialsPolicy(), 901)
    ceiling = CredentialsPolicy(max_lifetime=1800)
    assert choose_duration(ceiling, 1800) == 1800
    with pytest.raises(UsageError, match=r"`credentials\.max-lifetime` 30m;"):
        choose_duration(ceiling, 1801)


# --- the job --------------------------------------------------------------------------------


def test_the_decision_job_is_split_into_its_parts() -> None:
    assert decision_job(decision()) == {
        "repository": "octo-org/octo-repo",
        "run_id": "1001",
        "run_attempt": "2",
        "job": "deploy",
    }
    unknown = decision_job(decision(job="-/-/-/-/-"))
    assert set(unknown.values()) == {None}
    with pytest.raises(Refused, match="malformed"):
        decision_job(decision(job="octo-repo/1001/2/deploy"))


def test_the_same_job_passes() -> None:
    assert check_job(decision(), job()).unchecked == ()


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        ({"repository": "octo-org/other"}, "job.repository"),
        ({"repository_id": "75"}, "job.repository"),
        ({"run_id": "1002"}, "job.run"),
        ({"run_attempt": "3"}, "job.attempt"),
        ({"job": "release"}, "job.job"),
        ({"job": None}, "job.unknown"),
    ],
)
def test_another_job_is_refused(facts: dict[str, str | None], code: str) -> None:
    assert refused(check_job, decision(), job(**facts)).code == code


def test_in_actions_a_decision_bound_by_environment_facts_is_refused() -> None:
    from_env = decision(principal=Principal.from_claims(CLAIMS, "environment"))
    assert refused(check_job, from_env, job()).code == "job.unverified"
    check_job(from_env, job(False))


def test_locally_facts_unknown_on_both_sides_are_not_compared() -> None:
    local = decision(job="-/-/-/-/-", principal=Principal.from_claims({}, "environment"))
    facts = {"repository": None, "repository_id": None, "run_id": None, "run_attempt": None}
    checked = check_job(local, job(False, job=None, **facts))
    assert checked.unchecked == ("repository", "run_id", "run_attempt", "job")
    in_actions = replace(local, principal=Principal.from_claims({}, "oidc"))
    code = refused(check_job, in_actions, job(True, job=None, **facts)).code
    assert code == "job.unknown", "in Actions a fact nobody knows never matches"


def test_a_job_whose_facts_are_malformed_is_refused() -> None:
    broken = JobFacts((), (), True, problem="this job's own facts are malformed: x")
    assert refused(check_job, decision(), broken).code == "job.unknown"


def test_the_provider_token_must_come_from_the_same_job() -> None:
    check_token_claims(CLAIMS, {**CLAIMS, "aud": "sts.amazonaws.com"})
    for name in CLAIMS:
        error = refused(check_token_claims, CLAIMS, {**CLAIMS, name: "other"})
        assert error.code == "token.job"
        assert name in error.message
