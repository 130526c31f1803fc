"""`envsecops trust-policy aws|gcp` end to end through `main(argv)`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

SHA = "0123456789abcdef0123456789abcdef01234567"
GATE = f"octo-org/gates/.github/workflows/gate.yml@{SHA}"
AWS = [
    "trust-policy", "aws", "--gate-workflow", GATE, "--repos", "octo-org/app@456789",
    "--repos", "octo-org@1/svc@42", "--account-id", "111122223333",
    "--target-role-arn", "arn:aws:iam::111122223333:role/deploy",
]  # fmt: skip
GCP = [
    "trust-policy", "gcp", "--gate-workflow", GATE, "--repos", "octo-org/app@456789",
    "--project-number", "123456789012", "--pool", "github-gate", "--provider", "gate-wf",
]  # fmt: skip
Run = Callable[..., CliResult]


def test_aws_text_prints_three_valid_json_documents(run_cli: Run) -> None:
    result = run_cli(*AWS)
    assert result.code == 0, result.err
    chunks = result.out.split("# ")[1:]
    assert [c.splitlines()[0] for c in chunks] == [
        "gate role trust policy (aws-gate-trust-policy.json)",
        "gate role permissions policy (aws-gate-permissions-policy.json)",
        "target role trust policy (aws-target-trust-policy.json)",
    ]
    for chunk in chunks:
        assert json.loads(chunk.split("\n", 1)[1])["Version"] == "2012-10-17"
    assert "include_claim_keys" in result.err


def test_aws_json_is_one_document(run_cli: Run) -> None:
    result = run_cli(*AWS, "--format", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["format"] == "envsecops.trust-policy/v1"
    assert document["subject_customization"]["include_claim_keys"] == [
        "repo",
        "context",
        "job_workflow_ref",
    ]
    assert set(document["policies"]) == {
        "gate_trust_policy",
        "gate_permissions_policy",
        "target_trust_policy",
    }
    trust = document["policies"]["gate_trust_policy"]["Statement"][0]
    equals = trust["Condition"]["StringEquals"]
    assert equals["token.actions.githubusercontent.com:job_workflow_ref"] == GATE
    assert equals["token.actions.githubusercontent.com:repository_id"] == ["456789", "42"]


def test_aws_output_dir_writes_the_files(run_cli: Run, tmp_path: Path) -> None:
    out = tmp_path / "policies"
    result = run_cli(*AWS, "--output-dir", out)
    assert result.code == 0, result.err
    assert result.out == ""
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "aws-gate-permissions-policy.json",
        "aws-gate-trust-policy.json",
        "aws-target-trust-policy.json",
    ]
    for name in names:
        json.loads((out / name).read_text(encoding="utf-8"))


def test_gcp_json_and_files(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli(*GCP, "--format", "json", "--output-dir", tmp_path)
    assert result.code == 0, result.err
    document = json.loads(result.out)
    provider = document["workload_identity_provider"]
    assert provider["attribute_condition"] == (
        f'assertion.repository_id in ["456789"] && assertion.job_workflow_ref == "{GATE}"'
    )
    assert json.loads((tmp_path / "gcp-wif-provider.json").read_text()) == provider
    commands = (tmp_path / "gcp-wif-commands.sh").read_text()
    assert "gcloud iam workload-identity-pools providers create-oidc gate-wf" in commands


def test_a_branch_ref_warns(run_cli: Run) -> None:
    argv = [a.replace(f"@{SHA}", "@refs/heads/main") for a in GCP]
    result = run_cli(*argv)
    assert result.code == 0
    assert "warning: the gate workflow is trusted at refs/heads/main" in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*AWS, "--gate-workflow", f"{GATE[:-40]}main"], "--gate-workflow ref"),
        ([*AWS, "--repos", 'evil/x","*'], "--repos entry"),
        ([*AWS, "--repos", "evil/x*"], "--repos entry"),
        ([*AWS, "--repos", "o/r@1\nx"], "--repos entry"),
        ([*AWS, "--account-id", "12"], "--account-id"),
        ([*AWS, "--audience", "*"], "--audience"),
        ([*AWS, "--gate-role-name", "a b"], "--gate-role-name"),
        ([*AWS, "--target-role-arn", "arn:aws:iam::111122223333:role/*"], "--target-role-arn"),
        ([*AWS, "--oidc-provider-arn", "arn:aws:iam::111122223333:oidc-provider/x"], "provider"),
        ([*GCP, "--repos", "octo-org/nameonly"], "repository ids are required"),
        ([*GCP, "--project-number", "proj"], "--project-number"),
        ([*GCP, "--pool", "Bad_Pool"], "--pool"),
        ([*GCP, "--service-account", "x@y.z"], "--service-account"),
    ],
)
def test_bad_input_exits_2_with_a_fix(run_cli: Run, argv: list[str], message: str) -> None:
    result = run_cli(*argv)
    assert result.code == 2, result.err
    assert result.out == ""
    assert message in result.err
    assert "fix:" in result.err


def test_no_provider_is_usage(run_cli: Run) -> None:
    assert run_cli("trust-policy").code == 2
    assert run_cli("trust-policy", "aws").code == 2
