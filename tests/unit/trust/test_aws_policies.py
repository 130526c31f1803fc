"""The AWS policies, evaluated: only the gate workflow at the pinned ref from a listed repo."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from envsecops.trust.inputs import GateWorkflow, Repo
from envsecops.trust.render import AwsRequest, render_aws
from tests.unit.trust.iam_eval import Request, like, policy_allows

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER_SHA = "f" * 40
GATE = f"octo-org/gates/.github/workflows/gate.yml@{SHA}"
ISSUER = "token.actions.githubusercontent.com"
ACCOUNT = "111122223333"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
GATE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/envsecops-gate"
TARGET = f"arn:aws:iam::{ACCOUNT}:role/deploy"
ENV_HASH = "sha256:" + "ab" * 32
POLICY_ID = "prod@sha256:0123456789ab"


def _request(repos: tuple[Repo, ...], gate: str = GATE) -> AwsRequest:
    return AwsRequest(
        gate=GateWorkflow.parse(gate),
        repos=repos,
        account_id=ACCOUNT,
        oidc_provider_arn=PROVIDER,
        partition="aws",
        gate_role_name="envsecops-gate",
        target_role_arn=TARGET,
        audience="sts.amazonaws.com",
    )


REPOS = (Repo.parse("octo-org/app@456789"), Repo.parse("octo-org@123456/svc@42"))
POLICIES: Mapping[str, Any] = render_aws(_request(REPOS)).document["policies"]


def claims(
    sub: str, *, jwr: str = GATE, repository_id: str = "456789", aud: str = "sts.amazonaws.com"
) -> Request:
    """A web-identity request as STS sees it: the token's claims as condition keys."""
    context = {
        f"{ISSUER}:aud": aud,
        f"{ISSUER}:sub": sub,
        f"{ISSUER}:job_workflow_ref": jwr,
        f"{ISSUER}:repository_id": repository_id,
    }
    return Request("Federated", PROVIDER, "sts:AssumeRoleWithWebIdentity", context)


def gate_allows(request: Request) -> bool:
    return policy_allows(POLICIES["gate_trust_policy"], request)


ALLOWED = {
    "legacy sub, branch context": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{GATE}"
    ),
    "legacy sub, environment": claims(
        f"repo:octo-org/app:environment:prod:job_workflow_ref:{GATE}"
    ),
    "immutable sub": claims(
        f"repo:octo-org@123456/app@456789:ref:refs/heads/main:job_workflow_ref:{GATE}"
    ),
    "immutable sub, second repo": claims(
        f"repo:octo-org@123456/svc@42:pull_request:job_workflow_ref:{GATE}", repository_id="42"
    ),
    "legacy sub, second repo": claims(
        f"repo:octo-org/svc:ref:refs/tags/v1:job_workflow_ref:{GATE}", repository_id="42"
    ),
}


@pytest.mark.parametrize("case", sorted(ALLOWED))
def test_the_gate_workflow_at_the_pinned_ref_from_a_listed_repo_is_allowed(case: str) -> None:
    assert gate_allows(ALLOWED[case])


DEPLOY = f"octo-org/gates/.github/workflows/deploy.yml@{SHA}"
OWN = "octo-org/app/.github/workflows/release.yml@refs/heads/main"
MAIN = "octo-org/gates/.github/workflows/gate.yml@refs/heads/main"
REFUSED = {
    "another workflow": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{DEPLOY}", jwr=DEPLOY
    ),
    "the caller's own workflow (gate skipped)": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{OWN}", jwr=OWN
    ),
    "the gate at a branch": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{MAIN}", jwr=MAIN
    ),
    "the gate at another commit": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{GATE[:-40]}{OTHER_SHA}",
        jwr=GATE[:-40] + OTHER_SHA,
    ),
    "another repository": claims(
        f"repo:octo-org/other:ref:refs/heads/main:job_workflow_ref:{GATE}", repository_id="999"
    ),
    "a fork": claims(
        f"repo:forker/app:ref:refs/heads/main:job_workflow_ref:{GATE}", repository_id="777"
    ),
    "a fork, immutable sub": claims(
        f"repo:forker@5/app@777:ref:refs/heads/main:job_workflow_ref:{GATE}", repository_id="777"
    ),
    "same name, another id (re-created)": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{GATE}", repository_id="1111"
    ),
    "same name, another id, immutable sub": claims(
        f"repo:octo-org@123456/app@1111:ref:refs/heads/main:job_workflow_ref:{GATE}",
        repository_id="1111",
    ),
    "same repo id, another owner id (immutable)": claims(
        f"repo:octo-org@9/svc@42:ref:refs/heads/main:job_workflow_ref:{GATE}", repository_id="42"
    ),
    "subject not customised": claims("repo:octo-org/app:ref:refs/heads/main"),
    "another audience": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{GATE}", aud="sts.example.com"
    ),
    "a suffix after the ref": claims(
        f"repo:octo-org/app:ref:refs/heads/main:job_workflow_ref:{GATE}x", jwr=GATE + "x"
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_everything_else_is_refused(case: str) -> None:
    assert not gate_allows(REFUSED[case])


def test_another_identity_provider_is_refused() -> None:
    good = ALLOWED["legacy sub, branch context"]
    other = Request(
        "Federated", f"arn:aws:iam::{ACCOUNT}:oidc-provider/evil.example", good.action, good.context
    )
    assert not gate_allows(other)
    assert not gate_allows(Request("Federated", PROVIDER, "sts:AssumeRole", good.context))


def test_a_missing_claim_is_refused() -> None:
    good = dict(ALLOWED["legacy sub, branch context"].context)
    for key in list(good):
        partial = {k: v for k, v in good.items() if k != key}
        assert not gate_allows(
            Request("Federated", PROVIDER, "sts:AssumeRoleWithWebIdentity", partial)
        )


def test_without_repository_ids_the_id_condition_is_absent_and_a_recreated_repo_passes() -> None:
    policies = render_aws(_request((Repo.parse("octo-org/app"),))).document["policies"]
    conditions = policies["gate_trust_policy"]["Statement"][0]["Condition"]
    assert f"{ISSUER}:repository_id" not in conditions["StringEquals"]
    recreated = REFUSED["same name, another id (re-created)"]
    assert policy_allows(policies["gate_trust_policy"], recreated)


# -- the target role ------------------------------------------------------------------------
TAGS = {"env_hash": ENV_HASH, "policy_id": POLICY_ID, "decision_id": "dec-1"}
ACTIONS = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")


def assume(
    tags: Mapping[str, str] | None = None,
    *,
    source_identity: str | None = "dec-1",
    principal: str = GATE_ROLE,
    transitive: list[str] | None = None,
) -> list[Request]:
    """The requests AssumeRole with Tags/TransitiveTagKeys/SourceIdentity is authorised as."""
    tags = TAGS if tags is None else tags
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    context["aws:TagKeys"] = list(tags)
    context["sts:TransitiveTagKeys"] = list(tags) if transitive is None else transitive
    if source_identity is not None:
        context["sts:SourceIdentity"] = source_identity
    actions = ["sts:AssumeRole"]
    if tags:
        actions.append("sts:TagSession")
    if source_identity is not None:
        actions.append("sts:SetSourceIdentity")
    return [Request("AWS", principal, action, context) for action in actions]


def target_allows(requests: list[Request]) -> bool:
    return all(policy_allows(POLICIES["target_trust_policy"], r) for r in requests)


def test_the_gate_role_with_the_stamp_may_assume_the_target() -> None:
    assert target_allows(assume())
    assert target_allows(assume({k: v for k, v in TAGS.items() if k != "decision_id"}))


@pytest.mark.parametrize(
    ("case", "requests"),
    [
        ("no tags", assume({})),
        ("no env_hash", assume({"policy_id": POLICY_ID})),
        ("no policy_id", assume({"env_hash": ENV_HASH})),
        ("env_hash not a digest", assume({**TAGS, "env_hash": "whatever"})),
        ("policy_id not an id", assume({**TAGS, "policy_id": "prod"})),
        ("an extra tag key", assume({**TAGS, "team": "x"})),
        ("no source identity", assume(source_identity=None)),
        ("another principal", assume(principal=f"arn:aws:iam::{ACCOUNT}:role/other")),
        ("an extra transitive key", assume(transitive=["env_hash", "team"])),
    ],
)
def test_the_target_refuses_a_session_without_the_stamp(case: str, requests: list[Request]) -> None:
    assert not target_allows(requests), case


def test_the_gate_role_may_only_assume_the_target() -> None:
    statement = POLICIES["gate_permissions_policy"]["Statement"]
    assert statement == [
        {
            "Sid": "EnvsecopsAssumeTargetOnly",
            "Effect": "Allow",
            "Action": list(ACTIONS),
            "Resource": TARGET,
        }
    ]


def test_the_evaluator_follows_iam_wildcards() -> None:
    assert like("repo:o/r:*:x", "repo:o/r:ref:refs/heads/a:b:x")
    assert like("a?c", "abc")
    assert not like("a?c", "ac")
    assert not like("repo:o/r:*", "repo:o/r2:x")
    assert like("a.b", "a.b")
    assert not like("a.b", "axb")
