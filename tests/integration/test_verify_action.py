"""The verify-bag action: inputs through env only, refused before anything runs, outputs set.

The script is run with bash exactly as the actions run it. Refusals happen before the venv
step; the end-to-end case hands it a ready venv (a wrapper around this interpreter with the
stamp the script expects) on a fake Actions environment: attest-runner's script attests this
machine with a key, a policy drafted from that bag sits in the workspace, and verify-bag's
script decides, once with a clean pin-check report (allow) and once with a finding (deny).
Nothing can leave the machine: there is no OIDC request URL, the policy comes from the
workspace, and the GitHub API URL points at a closed loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.attest.key import KeyVerifier, generate_key
from envsecops.cli.verify import OUTPUT_NAMES
from envsecops.model.bag import Bag
from envsecops.policy.load import load_policy_text
from envsecops.policy.render import render_policy
from envsecops.syntax.yaml import Node, compose_documents, items, scalar
from envsecops.verify.decision import verify_decision
from tests.conftest import ROOT, CliResult
from tests.integration.action_runner import executable as _executable
from tests.integration.action_runner import ready_venv as _ready_venv
from tests.unit.gh.runner_model import read_file_commands

RunCli = Callable[..., CliResult]
LIB = ROOT / "actions" / "_lib"
SCRIPT = LIB / "verify-bag.sh"
INPUTS = (
    "attestation",
    "bag",
    "nonce",
    "policy",
    "policy-source",
    "signer",
    "signing-key",
    "public-keys",
    "pin-report",
    "configs",
    "syft",
    "mode",
    "out",
)
FROM_ATTEST = ("attestation", "bag", "nonce")
ERROR = "::error title=envsecops verify-bag::"
NONCE = "verify-action-nonce-0123"
VALID = {
    "attestation": "attestation.dsse.json",
    "bag": "bag.json",
    "nonce": NONCE,
    "signer": "key",
    "signing-key": "-----BEGIN PRIVATE KEY-----\nnot used\n-----END PRIVATE KEY-----\n",
}
JOB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_REPOSITORY": "octo-org/payments",
    "GITHUB_RUN_ID": "4242",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_JOB": "deploy",
    "GITHUB_API_URL": "http://127.0.0.1:9",  # closed: a fetch attempt fails on loopback
}
PINNED = """\
on: push
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0
"""
UNPINNED = PINNED + "      - uses: actions/checkout@v4\n"


def _env_name(name: str) -> str:
    return f"ENVSECOPS_{name.upper().replace('-', '_')}"


def _run(
    tmp_path: Path,
    script: Path,
    inputs: dict[str, str],
    *,
    output: Path | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Run ``script`` with only the given inputs set; returns (result, action dir, output)."""
    action = tmp_path / "action"
    action.mkdir(exist_ok=True)
    fake_bin = tmp_path / "bin"
    _executable(fake_bin / "python3", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    output = output or tmp_path / "github-output"
    env = {
        "PATH": f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp_path),
        **(extra_env or {}),
        **{_env_name(name): value for name, value in inputs.items()},
    }
    result = subprocess.run(
        ["bash", str(script), str(action)],
        cwd=cwd or tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result, action, output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attestation": ""}, "`attestation` is empty: pass the file attest-runner wrote"),
        ({"bag": ""}, "`bag` is empty: pass the bag.json attest-runner wrote"),
        ({"nonce": ""}, "`nonce` is empty: pass the nonce attest-runner bound"),
        ({"nonce": "short"}, "`nonce` must be 16 to 128 characters"),
        ({"nonce": "a" * 20 + "$(id)"}, "`nonce` must be 16 to 128 characters"),
        (
            {"policy-source": "pull-request"},
            "`policy-source` must be one of default-branch, workspace",
        ),
        ({"signer": "gpg"}, "`signer` must be one of sigstore, key"),
        ({"signing-key": ""}, "`signer` is key but `signing-key` is empty"),
        ({"signer": "sigstore", "public-keys": "a.pub"}, "`public-keys` is for `signer: key`"),
        ({"syft": "yes"}, "`syft` must be one of auto, true, false"),
        ({"mode": "permissive"}, "`mode` must be empty (the policy's mode), enforce or audit"),
        ({"mode": "audit\n::warning::forged"}, "`mode` must be a single line"),
        ({"attestation": "a.json\n::add-mask::x"}, "`attestation` must be a single line"),
        ({"out": "dir\r"}, "`out` must be a single line"),
        ({"configs": "a\nb"}, "`configs` must be a single line"),
        ({"pin-report": "r.json\n"}, "`pin-report` must be a single line"),
        ({"policy": "p.yml\n"}, "`policy` must be a single line"),
        ({"public-keys": "a.pub\tb.pub\n"}, "`public-keys` must be a single line"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(
    tmp_path: Path, change: dict[str, str], message: str
) -> None:
    result, action, output = _run(tmp_path, SCRIPT, {**VALID, **change})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.startswith(ERROR)
    assert message in result.stdout
    assert len(result.stdout.splitlines()) == 1, "a value must not open a workflow command"
    assert "not used" not in result.stdout + result.stderr, "the key is never echoed"
    assert not (action / ".venv").exists()
    assert not output.exists()


def _pin_report(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, workspace: Path, workflow: str, name: str
) -> Path:
    """A pin-check JSON report (as the pin-check step writes it) over ``workflow``."""
    (workspace / ".github" / "workflows" / "ci.yml").write_text(workflow, encoding="utf-8")
    report = workspace.parent / name
    monkeypatch.chdir(workspace)
    result = run_cli("pin-check", "--format", "json", "--output", report, ".")
    assert result.code in (0, 1), result.err
    return report


@pytest.mark.slow
def test_verifies_this_machine_with_a_key_and_sets_the_outputs(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key(tmp_path / "signing.pem")
    pem = key.private_path.read_text(encoding="utf-8")
    workspace = tmp_path / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    job = {**JOB, "GITHUB_WORKSPACE": str(workspace)}

    attest_inputs = {"signer": "key", "signing-key": pem, "syft": "false", "nonce": NONCE}
    attest_output = tmp_path / "attest-output"
    attest = LIB / "attest-runner.sh"
    result, _action, _ = _run(
        tmp_path, attest, attest_inputs, output=attest_output, extra_env=job, cwd=workspace
    )
    assert result.returncode == 0, result.stdout + result.stderr
    attested = read_file_commands(attest_output.read_text(encoding="utf-8"))
    bag = Bag.from_json(json.loads(Path(attested["bag"]).read_bytes()))
    policy_text = render_policy(bag, name="payments-deploy")
    (workspace / ".github" / "envsecops.yml").write_text(policy_text, encoding="utf-8")
    policy = load_policy_text(policy_text, ".github/envsecops.yml")

    clean = _pin_report(run_cli, monkeypatch, workspace, PINNED, "clean.json")
    inputs = {
        **{name: attested[name] for name in FROM_ATTEST},
        "policy-source": "workspace",
        "signer": "key",
        "signing-key": pem,
        "pin-report": str(clean),
        "syft": "false",
        "out": "decision",
    }
    verify_output = tmp_path / "verify-output"
    result, action, _ = _run(
        tmp_path, SCRIPT, inputs, output=verify_output, extra_env=job, cwd=workspace
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing" not in result.stdout, "a ready venv must be reused"
    assert "BEGIN PRIVATE KEY" not in result.stdout + result.stderr
    outputs = read_file_commands(verify_output.read_text(encoding="utf-8"))
    out = workspace / "decision"
    assert {name: outputs.get(name, "") for name in OUTPUT_NAMES} == {
        "verdict": "allow",
        "decision": str(out / "decision.json"),
        "env-hash": attested["env-hash"],
        "policy-id": policy.policy_id,
        "decision-attestation": str(out / "decision.dsse.json"),
        "drift": "",
        "policy-file": str(out / "policy.yml"),
    }
    decision = verify_decision(
        (out / "decision.dsse.json").read_bytes(),
        (out / "decision.json").read_bytes(),
        KeyVerifier.from_files([key.public_path]),
    )
    assert decision.verdict.value == "allow"
    assert decision.reasons == ()
    assert decision.policy_source == "workspace"
    assert decision.job == "octo-org/payments/4242/1/deploy"
    assert not (action / ".venv" / "lib").exists(), "nothing was installed"

    # The same attestation with a pin-check report that holds a finding: a recorded deny.
    finding = _pin_report(run_cli, monkeypatch, workspace, UNPINNED, "finding.json")
    deny_output = tmp_path / "deny-output"
    inputs = {**inputs, "pin-report": str(finding), "out": "decision-deny"}
    result, _action, _ = _run(
        tmp_path, SCRIPT, inputs, output=deny_output, extra_env=job, cwd=workspace
    )
    assert result.returncode == 1, result.stdout + result.stderr
    outputs = read_file_commands(deny_output.read_text(encoding="utf-8"))
    assert outputs["verdict"] == "deny"
    denied = json.loads(Path(outputs["decision"]).read_bytes())
    assert "pins.finding" in {reason["code"] for reason in denied["reasons"]}
    assert all(reason["code"] == "pins.finding" for reason in denied["reasons"])


def _mapping(node: Node | None) -> dict[str, Node]:
    return {name: value for name, _key, value in items(node)}


def _steps(rel: str) -> tuple[dict[str, Node], list[dict[str, Node]]]:
    (root,) = compose_documents((ROOT / rel).read_text(encoding="utf-8"))
    action = _mapping(root)
    return action, [_mapping(s) for s in _mapping(action["runs"])["steps"].value]


def _env(step: dict[str, Node]) -> dict[str, str | None]:
    return {name: scalar(value) for name, value in _mapping(step["env"]).items()}


def test_action_hands_every_input_to_the_script_through_env() -> None:
    action, steps = _steps("actions/verify-bag/action.yml")
    assert tuple(_mapping(action["inputs"])) == INPUTS
    outputs = {n: scalar(_mapping(v)["value"]) for n, v in _mapping(action["outputs"]).items()}
    assert outputs == {name: f"${{{{ steps.verify.outputs.{name} }}}}" for name in OUTPUT_NAMES}
    (step,) = steps
    assert scalar(step["id"]) == "verify"
    assert scalar(step["shell"]) == "bash"
    assert _env(step) == {
        **{_env_name(name): f"${{{{ inputs.{name} }}}}" for name in INPUTS},
        "ENVSECOPS_GITHUB_TOKEN": "${{ github.token }}",
    }
    run = scalar(step["run"])
    assert run == 'bash -- "$GITHUB_ACTION_PATH/../_lib/verify-bag.sh" "$GITHUB_ACTION_PATH"'


def test_the_gate_verifies_what_attest_wrote_and_records_the_decision() -> None:
    action, steps = _steps("action.yml")
    by_id = {scalar(s["id"]): s for s in steps}
    assert list(by_id) == ["pin-check", "attest", "verify", "record", "mint"]
    declared = set(_mapping(action["inputs"]))
    env = _env(by_id["verify"])
    for name in FROM_ATTEST:
        assert env.pop(_env_name(name)) == f"${{{{ steps.attest.outputs.{name} }}}}"
    assert env.pop("ENVSECOPS_PIN_REPORT") == "${{ steps.pin-check.outputs.json-file }}"
    assert env.pop("ENVSECOPS_GITHUB_TOKEN") == "${{ github.token }}"
    for variable, value in env.items():
        name = variable.removeprefix("ENVSECOPS_").lower().replace("_", "-")
        assert name in declared, variable
        assert value == f"${{{{ inputs.{name} }}}}", variable
    assert {"policy-source", "mode", "public-keys", "signer", "signing-key"} <= declared
    assert scalar(by_id["verify"]["run"]) == (
        'bash -- "$GITHUB_ACTION_PATH/actions/_lib/verify-bag.sh" "$GITHUB_ACTION_PATH"'
    )
    # pin-check findings do not stop the gate: attest runs once pin-check wrote its report,
    # verify once attest succeeded, and the findings become deny reasons in the decision.
    assert scalar(by_id["attest"]["if"]) == (
        "${{ !cancelled() && steps.pin-check.outputs.json-file != '' }}"
    )
    assert (
        scalar(by_id["verify"]["if"]) == "${{ !cancelled() && steps.attest.outcome == 'success' }}"
    )
    record = _env(by_id["record"])
    assert record["ENVSECOPS_DECISION"] == "${{ steps.verify.outputs.decision }}"
    assert record["ENVSECOPS_DRIFT"] == "${{ steps.verify.outputs.drift }}"
    outputs = {n: scalar(_mapping(v)["value"]) for n, v in _mapping(action["outputs"]).items()}
    for name in ("verdict", "decision", "policy-id", "decision-attestation", "drift"):
        assert outputs[name] == f"${{{{ steps.verify.outputs.{name} }}}}"


def test_the_script_documents_every_variable_the_actions_pass() -> None:
    header = SCRIPT.read_text(encoding="utf-8").split("set -euo pipefail", 1)[0]
    _action, (step,) = _steps("actions/verify-bag/action.yml")
    for variable in _env(step):
        assert f"#   {variable} " in header, variable
