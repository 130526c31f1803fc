"""The doctor's report: cannot-check is never a pass, the renderers keep their shapes."""

from __future__ import annotations

import json

import pytest

from envsecops.doctor.context import GateWorkflow
from envsecops.doctor.model import CheckResult, Report, Status, Target
from envsecops.doctor.render import render_json, render_text
from envsecops.errors import UsageError

TARGET = Target("repo", "octo-org/payments")
OK = CheckResult("oidc-subject", "t", Status.PASS, "fine")


def test_exit_code_is_0_only_when_every_check_passed() -> None:
    assert Report(TARGET, (OK,)).exit_code == 0
    unknown = CheckResult("sha-pinning-required", "t", Status.CANNOT_CHECK, "?", "grant it")
    failed = CheckResult("sha-pinning-required", "t", Status.FAIL, "off", "turn it on")
    assert Report(TARGET, (OK, unknown)).exit_code == 1
    assert Report(TARGET, (OK, failed)).exit_code == 1
    assert Report(TARGET, ()).exit_code == 1  # no evidence is no pass


def test_a_result_that_is_not_a_pass_needs_a_fix() -> None:
    with pytest.raises(ValueError, match="needs a fix"):
        CheckResult("x", "t", Status.FAIL, "off")


def test_json_is_versioned_and_counts_each_status() -> None:
    document = json.loads(render_json(Report(TARGET, (OK,)), "9.9"))
    assert document["version"] == "1"
    assert document["summary"] == {"pass": 1, "fail": 0, "cannot-check": 0}
    assert document["checks"][0] == {
        "id": "oidc-subject",
        "title": "t",
        "status": "pass",
        "detail": "fine",
        "fix": None,
        "evidence": [],
    }


def test_text_escapes_control_characters_from_the_api() -> None:
    evil = CheckResult("x", "t", Status.FAIL, "line\n::error::injected", "fix it")
    text = render_text(Report(TARGET, (evil,)))
    assert "\n::error::" not in text
    assert "\\n::error::injected" in text


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("o/r/.github/workflows/gate.yml", GateWorkflow("o/r", ".github/workflows/gate.yml")),
        ("o/r/.github/workflows/g.yaml@v1", GateWorkflow("o/r", ".github/workflows/g.yaml", "v1")),
    ],
)
def test_gate_workflow_flag(text: str, parsed: GateWorkflow) -> None:
    assert GateWorkflow.parse(text) == parsed


@pytest.mark.parametrize(
    "text", ["o/r/gate.yml", "o/.github/workflows/g.yml", "o/r/.github/workflows/../x.yml"]
)
def test_gate_workflow_flag_refused(text: str) -> None:
    with pytest.raises(UsageError):
        GateWorkflow.parse(text)
