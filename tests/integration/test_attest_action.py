"""The attest-runner action: inputs through env only, refused before anything runs, outputs set.

The script is run with bash exactly as the actions run it. Refusals happen before the venv
step; the end-to-end case hands it a ready venv (a wrapper around this interpreter with the
stamp the script expects), so it only validates, runs `envsecops attest` and writes outputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envsecops.attest.key import KeyVerifier, generate_key
from envsecops.attest.verify import verify_attestation
from envsecops.syntax.yaml import Node, compose_documents, items, scalar
from tests.conftest import ROOT
from tests.integration.action_runner import executable as _executable
from tests.integration.action_runner import ready_venv as _ready_venv
from tests.unit.gh.runner_model import read_file_commands

SCRIPT = ROOT / "actions" / "_lib" / "attest-runner.sh"
INPUTS = ("signer", "signing-key", "syft", "configs", "out", "nonce")
OUTPUTS = ("env-hash", "attestation", "sbom", "bag", "nonce")
ERROR = "::error title=envsecops attest-runner::"


def _run(
    tmp_path: Path, inputs: dict[str, str], extra_env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path, Path]:
    """Run the script with only the given inputs set; returns (result, action dir, output)."""
    action = tmp_path / "action"
    action.mkdir(exist_ok=True)
    fake_bin = tmp_path / "bin"
    _executable(fake_bin / "python3", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    output = tmp_path / "github-output"
    env = {
        "PATH": f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp_path),
        **(extra_env or {}),
        **{f"ENVSECOPS_{name.upper().replace('-', '_')}": v for name, v in inputs.items()},
    }
    result = subprocess.run(
        ["bash", str(SCRIPT), str(action)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return result, action, output


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"signer": "gpg"}, "`signer` must be one of sigstore, key"),
        ({"signer": "key"}, "`signer` is key but `signing-key` is empty"),
        ({"signer": "sigstore\n::warning::forged"}, "`signer` must be a single line"),
        ({"syft": "yes"}, "`syft` must be one of auto, true, false"),
        ({"nonce": "short"}, "`nonce` must be 16 to 128 characters"),
        ({"nonce": "a" * 20 + "$(id)"}, "`nonce` must be 16 to 128 characters"),
        ({"out": "dir\r"}, "`out` must be a single line"),
        ({"configs": "a\nb"}, "`configs` must be a single line"),
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


@pytest.mark.slow
def test_attests_this_machine_with_a_key_and_sets_the_outputs(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "signing.pem")
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    inputs = {
        "signer": "key",
        "signing-key": key.private_path.read_text(encoding="utf-8"),
        "syft": "false",
        "out": "attest-out",
        "nonce": "action-nonce-0123456789",
    }
    result, action, output = _run(tmp_path, inputs, {"GITHUB_ACTIONS": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing" not in result.stdout, "a ready venv must be reused"
    assert "BEGIN PRIVATE KEY" not in result.stdout + result.stderr
    outputs = read_file_commands(output.read_text(encoding="utf-8"))
    out = tmp_path / "attest-out"
    assert outputs == {
        "env-hash": result.stdout.strip().splitlines()[-1],
        "attestation": str(out / "attestation.dsse.json"),
        "sbom": str(out / "sbom.cdx.json"),
        "bag": str(out / "bag.json"),
        "nonce": "action-nonce-0123456789",
    }
    verified = verify_attestation(
        (out / "attestation.dsse.json").read_bytes(),
        (out / "bag.json").read_bytes(),
        KeyVerifier.from_files([key.public_path]),
    )
    assert verified.env_hash == outputs["env-hash"]
    assert verified.binding.nonce == outputs["nonce"]
    assert not (action / ".venv" / "lib").exists(), "nothing was installed"


def _mapping(node: Node | None) -> dict[str, Node]:
    return {name: value for name, _key, value in items(node)}


@pytest.mark.parametrize(
    ("rel", "script", "renamed"),
    [
        ("actions/attest-runner/action.yml", "$GITHUB_ACTION_PATH/../_lib/attest-runner.sh", {}),
        ("action.yml", "$GITHUB_ACTION_PATH/actions/_lib/attest-runner.sh", {"out": "attest-out"}),
    ],
)
def test_action_hands_every_input_to_the_script_through_env(
    rel: str, script: str, renamed: dict[str, str]
) -> None:
    (root,) = compose_documents((ROOT / rel).read_text(encoding="utf-8"))
    action = _mapping(root)
    declared = set(_mapping(action["inputs"]))
    names = {name: renamed.get(name, name) for name in INPUTS}
    assert set(names.values()) <= declared
    outputs = {
        name: scalar(_mapping(value)["value"])
        for name, value in _mapping(action["outputs"]).items()
    }
    for name in OUTPUTS:
        assert outputs[name] == f"${{{{ steps.attest.outputs.{name} }}}}"
    steps = [_mapping(s) for s in _mapping(action["runs"])["steps"].value]
    (step,) = (s for s in steps if scalar(s["id"]) == "attest")
    assert scalar(step["shell"]) == "bash"
    env = {name: scalar(value) for name, value in _mapping(step["env"]).items()}
    assert env == {
        f"ENVSECOPS_{name.upper().replace('-', '_')}": f"${{{{ inputs.{declared_name} }}}}"
        for name, declared_name in names.items()
    }
    assert scalar(step["run"]) == f'bash -- "{script}" "$GITHUB_ACTION_PATH"'
    assert "inputs." not in (scalar(step["run"]) or "")


def test_the_gate_runs_attest_after_pin_check() -> None:
    (root,) = compose_documents((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = [_mapping(s) for s in _mapping(_mapping(root)["runs"])["steps"].value]
    ids = [scalar(s["id"]) for s in steps]
    assert ids.index("attest") == ids.index("pin-check") + 1
