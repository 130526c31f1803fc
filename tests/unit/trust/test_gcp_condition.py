"""The GCP provider: the CEL condition, evaluated, and the exact text it must have."""

from __future__ import annotations

import pytest

from envsecops.trust.inputs import GateWorkflow, Repo
from envsecops.trust.render import GcpRequest, render_gcp
from tests.unit.trust.cel_eval import CelError, allows, evaluate

SHA = "0123456789abcdef0123456789abcdef01234567"
GATE = f"octo-org/gates/.github/workflows/gate.yml@{SHA}"
REQUEST = GcpRequest(
    gate=GateWorkflow.parse(GATE),
    repos=(Repo.parse("octo-org/app@456789"), Repo.parse("octo-org/svc@42")),
    project_number="123456789012",
    pool="github-gate",
    provider="gate-wf",
)
PROVIDER = render_gcp(REQUEST).document["workload_identity_provider"]
CONDITION: str = PROVIDER["attribute_condition"]


def test_the_condition_text_is_exactly_the_ids_and_the_gate() -> None:
    condition = CONDITION
    assert condition == (
        f'assertion.repository_id in ["456789", "42"] && assertion.job_workflow_ref == "{GATE}"'
    )


@pytest.mark.parametrize(
    ("claims", "allowed"),
    [
        ({"repository_id": "456789", "job_workflow_ref": GATE}, True),
        ({"repository_id": "42", "job_workflow_ref": GATE}, True),
        ({"repository_id": "1111", "job_workflow_ref": GATE}, False),
        ({"repository_id": "456789", "job_workflow_ref": GATE[:-40] + "f" * 40}, False),
        ({"repository_id": "456789", "job_workflow_ref": GATE.replace("gate.yml", "x.yml")}, False),
        ({"repository_id": "456789", "job_workflow_ref": GATE + "x"}, False),
        ({"repository_id": "4567", "job_workflow_ref": GATE}, False),
        ({"repository_id": "456789"}, False),
        ({"job_workflow_ref": GATE}, False),
    ],
)
def test_only_a_listed_repository_running_the_pinned_gate_passes(
    claims: dict[str, str], allowed: bool
) -> None:
    assert allows(CONDITION, claims) is allowed


def test_the_evaluator_refuses_syntax_outside_the_subset() -> None:
    with pytest.raises(CelError):
        evaluate('assertion.a == "x" || true', {"a": "x"})


def test_the_mapping_keeps_google_subject_short_and_maps_the_claims() -> None:
    mapping = PROVIDER["attribute_mapping"]
    assert mapping["attribute.repository_id"] == "assertion.repository_id"
    assert mapping["attribute.job_workflow_ref"] == "assertion.job_workflow_ref"
    assert mapping["attribute.repository"] == "assertion.repository"
    assert "assertion.sub" not in mapping["google.subject"]  # a customised sub exceeds 127 bytes
    assert PROVIDER["audience"] == "https://iam.googleapis.com/" + PROVIDER["name"]
    assert PROVIDER["principal_sets"] == [
        "principalSet://iam.googleapis.com/projects/123456789012/locations/global/"
        f"workloadIdentityPools/github-gate/attribute.repository_id/{i}"
        for i in ("456789", "42")
    ]


def test_the_commands_quote_every_value() -> None:
    import shlex

    commands = render_gcp(REQUEST).document["commands"]
    lines = " ".join(commands.replace("\\\n", " ").splitlines()[2:])
    words = shlex.split(lines)
    assert f"--attribute-condition={CONDITION}" in words
    assert "--issuer-uri=https://token.actions.githubusercontent.com" in words
