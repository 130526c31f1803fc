"""The composite actions' shared script: inputs refused before anything runs, outputs set right.

The script is run with bash exactly as the actions run it. Tests never let it install from
an index: refusals happen before the venv step, and the end-to-end case hands it a ready venv
(a wrapper around this interpreter with the stamp the script expects), so it only validates,
runs pin-check and writes outputs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.syntax.yaml import Node, compose_documents, items, scalar
from tests.conftest import ROOT, CliResult
from tests.integration.action_runner import executable as _executable
from tests.integration.action_runner import ready_venv as _ready_venv

RunCli = Callable[..., CliResult]
SCRIPT = ROOT / "actions" / "_lib" / "pin-check.sh"
ACTIONS = {
    "action.yml": "$GITHUB_ACTION_PATH/actions/_lib/pin-check.sh",
    "actions/pin-check/action.yml": "$GITHUB_ACTION_PATH/../_lib/pin-check.sh",
}
INPUTS = ("paths", "format", "fail-on", "sarif-file", "policy")
ERROR = "::error title=envsecops pin-check::"
WORKFLOW = """\
on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0
      - uses: actions/cache@v4 # envsecops: ignore[unpinned-uses] suppressed on purpose here
"""


def _run(
    tmp_path: Path, inputs: dict[str, str], *, python3: str | None = None, cwd: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Run the script with only the given inputs set; returns (result, action dir, output)."""
    action = tmp_path / "action"
    action.mkdir(exist_ok=True)
    fake_bin = tmp_path / "bin"
    _executable(fake_bin / "python3", python3 or f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    output = tmp_path / "github-output"
    env = {
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp_path),
        **{f"ENVSECOPS_{name}": value for name, value in inputs.items()},
    }
    result = subprocess.run(
        ["bash", str(SCRIPT), str(action)],
        cwd=cwd or tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result, action, output


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"FORMAT": "xml"}, "`format` must be one of text, json, sarif, github"),
        ({"FORMAT": "github\n::warning::forged"}, "`format` must be a single line"),
        ({"FAIL_ON": "critical"}, "`fail-on` must be one of info, low, medium, high"),
        ({"PATHS": "src\ntests"}, "`paths` must be a single line"),
        ({"PATHS": "  \t"}, "`paths` must be a single line"),
        ({"PATHS": "   "}, "`paths` is empty"),
        ({"SARIF_FILE": "out.sarif\r"}, "`sarif-file` must be a single line"),
        ({"POLICY": "policy.yml\n"}, "`policy` must be a single line"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(
    tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    result, action, output = _run(tmp_path, inputs)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith(ERROR)
    assert message in result.stdout
    assert len(result.stdout.splitlines()) == 1, "a value must not open a workflow command"
    assert not (action / ".venv").exists()
    assert not output.exists()


def test_old_python_is_refused_with_the_fix(tmp_path: Path) -> None:
    old = '#!/bin/sh\nfor a in "$@"; do [ "$a" = -V ] && echo "Python 3.9.18" && exit 0; done\n'
    result, action, _output = _run(tmp_path, {}, python3=old + "exit 1\n")
    assert result.returncode == 2
    assert "needs Python 3.11 or newer, found Python 3.9.18" in result.stdout
    assert "actions/setup-python" in result.stdout
    assert not (action / ".venv").exists()


def test_windows_runner_is_refused(tmp_path: Path) -> None:
    action = tmp_path / "action"
    action.mkdir()
    env = {"PATH": os.environ["PATH"], "RUNNER_OS": "Windows"}
    result = subprocess.run(
        ["bash", str(SCRIPT), str(action)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Linux and macOS" in result.stdout


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_runs_pin_check_and_sets_outputs(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW, encoding="utf-8")
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    inputs = {"FORMAT": "text", "FAIL_ON": "low", "SARIF_FILE": "report.sarif"}
    result, action, output = _run(tmp_path, inputs, cwd=workspace)

    monkeypatch.chdir(workspace)
    expected = run_cli("pin-check", "--format", "json", "--fail-on", "low", ".")
    active = len(json.loads(expected.out)["findings"])
    assert result.returncode == expected.code, result.stdout + result.stderr
    assert "installing" not in result.stdout, "a ready venv must be reused"
    sarif_path, json_path = workspace / "report.sarif", workspace / "report.json"
    assert _outputs(output) == {
        "findings": str(active),
        "sarif-file": str(sarif_path),
        "json-file": str(json_path),
    }
    # the JSON report (verify-bag's pin-report) is the same run as pin-check --format json
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["findings"] == json.loads(expected.out)["findings"]
    sarif = json.loads(sarif_path.read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert len(results) == active + 1, "the suppressed result is in the file, not the count"
    assert sum(1 for r in results if r.get("suppressions")) == 1
    assert not (action / ".venv" / "lib").exists(), "nothing was installed"


def test_pin_check_usage_error_sets_no_outputs(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    result, _action, output = _run(tmp_path, {"POLICY": "missing.yml"}, cwd=workspace)
    assert result.returncode == 2
    assert "missing.yml" in result.stderr
    assert not output.exists()


def _mapping(node: Node | None) -> dict[str, Node]:
    return {name: value for name, _key, value in items(node)}


@pytest.mark.parametrize(("rel", "script"), ACTIONS.items())
def test_action_hands_every_input_to_the_script_through_env(rel: str, script: str) -> None:
    (root,) = compose_documents((ROOT / rel).read_text(encoding="utf-8"))
    action = _mapping(root)
    # The top-level action runs more stages after pin-check; its pin-check part is the same.
    assert tuple(_mapping(action["inputs"]))[: len(INPUTS)] == INPUTS
    assert {"findings", "sarif-file"} <= set(_mapping(action["outputs"]))
    outputs = {n: scalar(_mapping(v)["value"]) for n, v in _mapping(action["outputs"]).items()}
    report = "json-file" if rel != "action.yml" else "pin-report"
    assert outputs[report] == "${{ steps.pin-check.outputs.json-file }}"
    assert scalar(_mapping(action["branding"])["icon"]) == "shield"
    runs = _mapping(action["runs"])
    assert scalar(runs["using"]) == "composite"
    (step,) = (_mapping(s) for s in runs["steps"].value if scalar(_mapping(s)["id"]) == "pin-check")
    assert scalar(step["shell"]) == "bash"
    env = {name: scalar(value) for name, value in _mapping(step["env"]).items()}
    assert env == {
        f"ENVSECOPS_{name.upper().replace('-', '_')}": f"${{{{ inputs.{name} }}}}"
        for name in INPUTS
    }
    assert scalar(step["run"]) == f'bash -- "{script}" "$GITHUB_ACTION_PATH"'


@pytest.mark.slow
def test_findings_count_is_exact_past_the_sarif_cap(tmp_path: Path) -> None:
    """Over 25,000 results the SARIF file leaves some out; the count must still be exact."""
    workspace = tmp_path / "workspace"
    workflows = workspace / ".github" / "workflows"
    workflows.mkdir(parents=True)
    total = 25_003
    steps = "".join(f"      - uses: owner/action-{i}@v1\n" for i in range(total))
    header = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
    (workflows / "big.yml").write_text(header + steps, encoding="utf-8")
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    result, _action, output = _run(tmp_path, {"FORMAT": "json"}, cwd=workspace)
    assert result.returncode == 1, result.stderr
    outputs = _outputs(output)
    sarif = json.loads(Path(outputs["sarif-file"]).read_text(encoding="utf-8"))
    assert sarif["runs"][0]["properties"]["resultsOmitted"] > 0
    assert int(outputs["findings"]) == len(json.loads(result.stdout)["findings"]) >= total
