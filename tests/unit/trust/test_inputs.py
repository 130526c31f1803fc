"""Input validation: shapes GitHub, AWS and Google allow, and nothing that could inject."""

from __future__ import annotations

import pytest

from envsecops.errors import ExitCode
from envsecops.trust import inputs
from envsecops.trust.inputs import GateWorkflow, Repo, TrustInputError
from envsecops.trust.render import _cel, _tojson

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("value", "ref"),
    [
        (f"o/r/.github/workflows/gate.yml@{SHA}", SHA),
        ("o/r/.github/workflows/gate.yaml@refs/heads/main", "refs/heads/main"),
        ("o-1/r.x_y/.github/workflows/g-1.yml@refs/tags/v1.2.3+b", "refs/tags/v1.2.3+b"),
        ("o/r/.github/workflows/gate.yml@refs/heads/release/2026", "refs/heads/release/2026"),
    ],
)
def test_gate_workflows_accepted(value: str, ref: str) -> None:
    assert GateWorkflow.parse(value).ref == ref
    assert GateWorkflow.parse(value).job_workflow_ref == value


BAD_WORKFLOWS = [
    "o/r/.github/workflows/gate.yml@main",
    "o/r/.github/workflows/gate.yml@" + SHA[:7],
    "o/r/.github/workflows/gate.yml@" + SHA.upper(),
    "o/r/.github/workflows/gate.yml",
    "o/r/workflows/gate.yml@" + SHA,
    "o/r/.github/workflows/sub/gate.yml@" + SHA,
    "o/r/.github/workflows/../gate.yml@" + SHA,
    "o/r/.github/workflows/gate.sh@" + SHA,
    "o/r/.github/workflows/gate.yml@refs/heads/*",
    "o/r/.github/workflows/gate.yml@refs/heads/ma?n",
    "o/r/.github/workflows/gate.yml@refs/heads/a..b",
    "o/r/.github/workflows/gate.yml@refs/heads/a:b",
    'o/r/.github/workflows/gate.yml@refs/heads/a"b',
    "o/r/.github/workflows/gate.yml@refs/heads/a'b",
    "o/r/.github/workflows/gate.yml@refs/heads/a b",
    "o/r/.github/workflows/gate.yml@refs/heads/a\nb",
    "o/r/.github/workflows/gate.yml@refs/heads/x.lock",
    "o/r/.github/workflows/gate.yml@refs/pull/1/merge",
    "o*/r/.github/workflows/gate.yml@" + SHA,
    'o/r"/.github/workflows/gate.yml@' + SHA,
    "o/r/.github/workflows/gate.yml@" + SHA + "\n",
]


@pytest.mark.parametrize("value", BAD_WORKFLOWS)
def test_gate_workflows_refused(value: str) -> None:
    with pytest.raises(TrustInputError) as info:
        GateWorkflow.parse(value)
    assert info.value.exit_code == ExitCode.USAGE
    assert info.value.fix


def test_repo_forms() -> None:
    assert Repo.parse("o/r") == Repo("o", "r")
    assert Repo.parse("o/r@12") == Repo("o", "r", "12")
    assert Repo.parse("o@3/r@12") == Repo("o", "r", "12", "3")


BAD_REPOS = [
    "o",
    "o/r/x",
    "o/r@",
    "o/r@0",
    "o/r@12a",
    "o@3/r",
    "-o/r",
    "o/..",
    "o/r*",
    "o/r?",
    'o/r"',
    "o/r'",
    "o/r:x",
    "o/r\n",
    "o/r@1 2",
    "o/r é",
    "o/" + "r" * 101,
    "o" * 40 + "/r",
    'o/r","*',
]


@pytest.mark.parametrize("value", BAD_REPOS)
def test_repos_refused(value: str) -> None:
    with pytest.raises(TrustInputError):
        Repo.parse(value)


def test_repo_lists() -> None:
    with pytest.raises(TrustInputError, match="no repositories"):
        inputs.parse_repos([], require_ids=False)
    with pytest.raises(TrustInputError, match="some --repos"):
        inputs.parse_repos(["o/a@1", "o/b"], require_ids=False)
    with pytest.raises(TrustInputError, match="required"):
        inputs.parse_repos(["o/a"], require_ids=True)
    with pytest.raises(TrustInputError) as info:
        inputs.parse_repos(["o/a@1", "O/A@2"], require_ids=False)
    assert "twice" in (info.value.fix or "")
    assert len(inputs.parse_repos(["o/a@1", "o/a@1"], require_ids=True)) == 1


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (inputs.account_id, "12345678901"),
        (inputs.account_id, "1234567890123"),
        (inputs.role_name, "a*b"),
        (inputs.role_name, "x" * 65),
        (inputs.audience, "sts.*"),
        (inputs.audience, 'a"b'),
        (inputs.project_number, "my-project"),
        (lambda v: inputs.pool_or_provider(v, "--pool"), "gcp-pool"),
        (lambda v: inputs.pool_or_provider(v, "--pool"), "Pool"),
        (lambda v: inputs.pool_or_provider(v, "--pool"), "abc"),
        (inputs.service_account, "a@b.com"),
    ],
)
def test_scalars_refused(check: object, value: str) -> None:
    assert callable(check)
    with pytest.raises(TrustInputError):
        check(value)


def test_arns() -> None:
    account = "111122223333"
    arn, partition = inputs.oidc_provider_arn(None, account)
    assert arn.endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert partition == "aws"
    china = f"arn:aws-cn:iam::{account}:oidc-provider/token.actions.githubusercontent.com"
    assert inputs.oidc_provider_arn(china, account) == (china, "aws-cn")
    for bad in (
        f"arn:aws:iam::{account}:oidc-provider/evil.example",
        "arn:aws:iam::999988887777:oidc-provider/token.actions.githubusercontent.com",
        "arn:aws:iam::*:oidc-provider/token.actions.githubusercontent.com",
    ):
        with pytest.raises(TrustInputError):
            inputs.oidc_provider_arn(bad, account)
    assert inputs.role_arn(f"arn:aws:iam::{account}:role/path/deploy", "aws")
    for bad in (
        f"arn:aws:iam::{account}:role/*",
        f"arn:aws:iam::{account}:user/deploy",
        f"arn:aws-cn:iam::{account}:role/deploy",
        f'arn:aws:iam::{account}:role/a"b',
    ):
        with pytest.raises(TrustInputError):
            inputs.role_arn(bad, "aws")


def test_the_escaping_filters() -> None:
    assert _tojson('a"b\u202e') == '"a\\"b\\u202e"'
    assert _cel('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(ValueError, match="non-printable"):
        _cel("a\nb")
