"""The required gate workflow (.github/workflows/gate.yml): its shape, and its own scripts run.

The workflow is parsed with the project's strict YAML loader and held to the contract an org
admin relies on: called only through `workflow_call`, no token rights but `contents: read` and
`id-token: write`, the five stages in order before the deploy, the caller's input never inside
a script, each stage wired exactly as its composite action wires it, and the final record run
whatever happened. The scripts the workflow carries itself (the deploy step and the final drift
check) are run with bash against stand-ins for the stage scripts.
"""

from __future__ import annotations

import inspect
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from envsecops.creds import aws, gcp, vault
from envsecops.syntax.yaml import MappingNode, Node, SequenceNode, compose_documents, items, scalar
from tests.conftest import ROOT
from tests.integration import test_dogfood

GATE = ROOT / ".github" / "workflows" / "gate.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# Step id -> the composite action whose script and `env:` wiring the step reproduces.
STAGES = {
    "pin-check": "pin-check",
    "attest": "attest-runner",
    "verify": "verify-bag",
    "record": "record-decision",
    "mint": "mint-creds",
    "final-check": "verify-bag",
    "record-final": "record-decision",
}
ORDER = ["pin-check", "attest", "verify", "record", "mint", "deploy", "final-check", "record-final"]


def _mapping(node: Node | None) -> dict[str, Node]:
    return {name: value for name, _key, value in items(node)}


def _root() -> dict[str, Node]:
    (root,) = compose_documents(GATE.read_text(encoding="utf-8"))
    return _mapping(root)


def _job() -> dict[str, Node]:
    jobs = _mapping(_root()["jobs"])
    assert list(jobs) == ["gate"], "the gate is one job: credentials never cross a job boundary"
    return _mapping(jobs["gate"])


def _step_nodes() -> list[Node]:
    steps = _job()["steps"]
    assert isinstance(steps, SequenceNode)
    return list(steps.value)


def _steps() -> list[dict[str, Node]]:
    return [_mapping(step) for step in _step_nodes()]


def _by_id() -> dict[str, dict[str, Node]]:
    return {scalar(s.get("id")) or "": s for s in _steps() if s.get("id") is not None}


def _text(step: dict[str, Node], key: str) -> str:
    return scalar(step.get(key)) or ""


def _env(step: dict[str, Node]) -> dict[str, str]:
    return {name: scalar(value) or "" for name, value in _mapping(step.get("env")).items()}


def _scalars(node: Node) -> Iterator[tuple[str, str]]:
    """Every (key, scalar text) pair in a YAML tree."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode):
            for name, _key, value in items(current):
                text = scalar(value)
                if text is not None:
                    yield name, text
                stack.append(value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)


def test_dogfood_covers_the_gate() -> None:
    """zizmor, check-jsonschema, pin-check and the least-privilege checks all read it."""
    assert GATE in test_dogfood.WORKFLOWS
    assert test_dogfood.WRITE_GRANTS[("gate.yml", "gate")] == {"id-token"}


def test_called_only_as_a_reusable_workflow() -> None:
    triggers = _mapping(_root()["on"])
    assert list(triggers) == ["workflow_call"]
    inputs = _mapping(_mapping(triggers["workflow_call"]).get("inputs"))
    assert {"deploy", "provider", "policy", "mode", "signer", "syft", "configs", "runs-on"} <= set(
        inputs
    )
    assert scalar(_mapping(inputs["deploy"]).get("required")) == "true"
    assert scalar(_mapping(inputs["signer"]).get("default")) == "sigstore"
    # No input can move the policy to the pull request's own copy.
    assert "policy-source" not in inputs


def test_permissions_are_empty_on_top_and_minimal_on_the_job() -> None:
    top = _root()["permissions"]
    assert isinstance(top, MappingNode)
    assert top.value == []
    grants = {name: scalar(value) for name, value in _mapping(_job()["permissions"]).items()}
    assert grants == {"contents": "read", "id-token": "write"}


def test_bounded_and_never_cancelled_midway() -> None:
    concurrency = _mapping(_root()["concurrency"])
    assert (scalar(concurrency.get("group")) or "").startswith("envsecops-gate-")
    assert scalar(concurrency.get("cancel-in-progress")) == "false"
    assert scalar(_job().get("timeout-minutes"))


def test_checkouts_persist_no_credentials_and_the_gate_code_is_its_own_commit() -> None:
    steps = _steps()
    checkouts = [s for s in steps if "actions/checkout@" in _text(s, "uses")]
    assert len(checkouts) == 2
    for step in checkouts:
        assert scalar(_mapping(step.get("with")).get("persist-credentials")) == "false"
    caller, gate = (_mapping(s.get("with")) for s in checkouts)
    assert "repository" not in caller
    assert "ref" not in caller
    assert scalar(gate["repository"]) == "${{ job.workflow_repository }}"
    assert scalar(gate["ref"]) == "${{ job.workflow_sha }}"
    # Checked out after the caller's repository (whose clean would delete it), then moved out.
    move = steps.index(checkouts[1]) + 1
    assert 'mv -- "$src" "$RUNNER_TEMP/envsecops"' in _text(steps[move], "run")
    assert _env(steps[move]) == {"ENVSECOPS_EXPECTED_SHA": "${{ job.workflow_sha }}"}


def test_every_stage_in_order_before_and_after_the_deploy() -> None:
    ids = [scalar(s.get("id")) for s in _steps() if s.get("id") is not None]
    assert ids == ORDER
    steps = _steps()
    first_stage = next(i for i, s in enumerate(steps) if _text(s, "id") == "pin-check")
    assert all("actions/checkout@" in _text(s, "uses") or _text(s, "run") for s in steps)
    assert all(not _text(s, "uses") for s in steps[first_stage:]), "stages run from the checkout"


@pytest.mark.parametrize(("step_id", "action"), STAGES.items())
def test_each_stage_is_wired_like_its_action(step_id: str, action: str) -> None:
    """Same script, same action directory, same `env:` names as actions/<stage>/action.yml."""
    step = _by_id()[step_id]
    (root,) = compose_documents((ROOT / "actions" / action / "action.yml").read_text("utf-8"))
    (inner,) = (_mapping(s) for s in _mapping(_mapping(root)["runs"])["steps"].value)
    script = f"_lib/{action}.sh"
    expected = set(_env(inner))
    env = _env(step)
    assert env.pop("ENVSECOPS_ACTIONS") == "${{ runner.temp }}/envsecops/actions"
    assert set(env) == expected
    run = " ".join(_text(step, "run").replace("\\\n", " ").split())
    assert f'"$ENVSECOPS_ACTIONS/{script}" "$ENVSECOPS_ACTIONS/{action}"' in run
    assert script in _text(inner, "run")


def test_policy_comes_from_the_default_branch_and_credentials_never_become_outputs() -> None:
    steps = _by_id()
    for step_id in ("verify", "final-check"):
        assert _env(steps[step_id])["ENVSECOPS_POLICY_SOURCE"] == "default-branch"
    assert _env(steps["mint"])["ENVSECOPS_OUTPUT_CREDENTIALS"] == "false"
    for step in _steps():
        for name, value in _env(step).items():
            if name == "ENVSECOPS_SIGNING_KEY":
                assert value == "${{ secrets.signing-key }}"


def test_no_caller_controlled_expression_inside_any_script() -> None:
    for step in _steps():
        run = _text(step, "run")
        assert "${{" not in run, run
        for risky in ("${{ inputs.", "${{ github.event", "${{ secrets."):
            assert risky not in run


def test_the_deploy_command_reaches_only_its_own_step_and_only_through_env() -> None:
    holders = [
        (_text(_mapping(node), "id"), name)
        for node in _step_nodes()
        for name, text in _scalars(node)
        if "inputs.deploy" in text
    ]
    assert holders == [("deploy", "ENVSECOPS_DEPLOY")]
    deploy = _by_id()["deploy"]
    assert _env(deploy) == {"ENVSECOPS_DEPLOY": "${{ inputs.deploy }}"}
    assert _text(deploy, "run") == 'bash -euo pipefail -c "$ENVSECOPS_DEPLOY"'
    # Only after every stage succeeded, and only with minted credentials.
    assert _text(deploy, "if") == "${{ success() && steps.mint.outcome == 'success' }}"


def test_records_run_whatever_happened() -> None:
    steps = _by_id()
    assert _text(steps["record"], "if").startswith("${{ always() && ")
    final = _text(steps["record-final"], "if")
    assert final.startswith("${{ always() && ")
    assert "steps.final-check.outputs.drift != ''" in final
    assert "steps.record.outputs.digest == ''" in final
    env = _env(steps["record-final"])
    assert env["ENVSECOPS_KIND"] == (
        "${{ steps.final-check.outputs.drift != '' && 'drift' || 'decision' }}"
    )
    assert _text(steps["final-check"], "if").startswith("${{ always() && ")


def test_every_uses_is_pinned_to_a_full_sha() -> None:
    (root,) = compose_documents(GATE.read_text(encoding="utf-8"))
    uses = [text for name, text in _scalars(root) if name == "uses"]
    assert uses
    for text in uses:
        assert SHA_PIN.fullmatch(text) or text.startswith(("./", "$/")), text


@pytest.mark.parametrize("step_id", [*ORDER, None], ids=[*ORDER, "move"])
def test_every_script_parses(step_id: str | None) -> None:
    steps = _steps()
    step = _by_id()[step_id] if step_id else next(s for s in steps if "mv --" in _text(s, "run"))
    result = subprocess.run(
        ["bash", "-n"], input=_text(step, "run"), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- the final drift check, run with bash against a stand-in verify-bag.sh ---

MINTED = (
    *aws.EXPORTS,
    "CLOUDSDK_AUTH_ACCESS_TOKEN",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "VAULT_NAMESPACE",
)

STAND_IN = """\
#!/usr/bin/env bash
# Stand-in for actions/_lib/verify-bag.sh: records what it saw, then behaves as told.
[[ $1 == "$ENVSECOPS_ACTIONS/verify-bag" ]] || exit 99
env > "$SEEN"
mkdir -p "$ENVSECOPS_OUT"
if [[ $FAKE_DRIFT == yes ]]; then
  echo '{}' > "$ENVSECOPS_OUT/drift.json"
  echo "drift=$ENVSECOPS_OUT/drift.json" >> "$GITHUB_OUTPUT"
fi
exit "$FAKE_STATUS"
"""


def test_the_final_check_leaves_out_exactly_what_mint_exports() -> None:
    gcp_source, vault_source = inspect.getsource(gcp), inspect.getsource(vault)
    for name in MINTED[len(aws.EXPORTS) :]:
        assert f'"{name}"' in gcp_source + vault_source, name
    run = _text(_by_id()["final-check"], "run")
    listed = re.search(r"minted=\(([^)]*)\)", run)
    assert listed is not None
    assert tuple(listed.group(1).split()) == MINTED


def _final_check(tmp_path: Path, *, drift: bool, status: int) -> tuple[int, str, str]:
    actions = tmp_path / "actions"
    (actions / "_lib").mkdir(parents=True)
    (actions / "verify-bag").mkdir()
    (actions / "_lib" / "verify-bag.sh").write_text(STAND_IN, encoding="utf-8")
    output = tmp_path / "github_output"
    output.touch()
    seen = tmp_path / "seen.env"
    env = {
        "PATH": os.environ["PATH"],
        "ENVSECOPS_ACTIONS": str(actions),
        "ENVSECOPS_OUT": str(tmp_path / "final"),
        "GITHUB_OUTPUT": str(output),
        "SEEN": str(seen),
        "FAKE_DRIFT": "yes" if drift else "no",
        "FAKE_STATUS": str(status),
        "KEEP_ME": "1",
        **dict.fromkeys(MINTED, "minted"),
    }
    run = _text(_by_id()["final-check"], "run")
    result = subprocess.run(
        ["bash", "-e", "-c", run], env=env, capture_output=True, text=True, check=False
    )
    return result.returncode, result.stdout, seen.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("drift", "status", "code", "annotation"),
    [
        (False, 0, 0, None),
        (True, 1, 1, "::error title=envsecops final check::"),
        (True, 0, 0, "::warning title=envsecops final check::"),
        (False, 1, 0, "::warning title=envsecops final check::no drift found"),
        (False, 2, 2, None),
    ],
    ids=["clean", "drift-enforce", "drift-audit", "other-deny", "bad-input"],
)
def test_the_final_check_judges_drift_only(
    tmp_path: Path, drift: bool, status: int, code: int, annotation: str | None
) -> None:
    returned, out, seen = _final_check(tmp_path, drift=drift, status=status)
    assert returned == code, out
    if annotation is None:
        assert "::error" not in out
        assert "::warning" not in out
    else:
        assert annotation in out
    names = {line.split("=", 1)[0] for line in seen.splitlines()}
    assert not names & set(MINTED), "mint's own exports must not read as drift"
    assert "KEEP_ME" in names, "anything else the deploy left behind must be inventoried"


def test_the_deploy_command_runs_as_written(tmp_path: Path) -> None:
    """Quotes, `$(…)` and `${{ }}`-looking text in the input are bash's, never the runner's."""
    marker = tmp_path / "out"
    command = f"printf '%s\\n' \"$(echo hi)\" '${{{{ inputs.x }}}}' > {marker}\nfalse\necho after"
    run = _text(_by_id()["deploy"], "run")
    env = {"PATH": os.environ["PATH"], "ENVSECOPS_DEPLOY": command}
    result = subprocess.run(
        ["bash", "-e", "-c", run], env=env, capture_output=True, text=True, check=False
    )
    assert marker.read_text(encoding="utf-8") == "hi\n${{ inputs.x }}\n"
    assert result.returncode == 1, "-e stops at the failure"
    assert "after" not in result.stdout
