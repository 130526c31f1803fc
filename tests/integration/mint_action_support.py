"""Helpers of tests/integration/test_mint_action.py: running the mint-creds script for real.

- :func:`invocation` runs the script with a venv whose python only records the command line and
  environment it was given (what the script hands `envsecops mint`);
- :func:`decide_on_this_machine` runs `envsecops attest` and `envsecops verify` in-process over
  this machine (the script's mint has no ``--root``) in the mint scene's fake Actions job, with
  the PATH the script runs with, so the script's re-inventory can match;
- :func:`through_the_script` is the mint step itself: the script with a ready venv, in that job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from envsecops.model.bag import Bag
from envsecops.model.decision import Decision
from tests.conftest import ROOT
from tests.integration.action_runner import executable as _executable
from tests.integration.action_runner import ready_venv as _ready_venv
from tests.integration.creds.mint_scene import MintScene, RunCli
from tests.integration.test_verify_action import _run

SCRIPT = ROOT / "actions" / "_lib" / "mint-creds.sh"
Completed = subprocess.CompletedProcess[str]
NONCE = "nonce-mint-action-0123456789"


def recording_venv(action: Path, record: Path) -> None:
    """A ready venv whose python records its argv and environment instead of minting."""
    _ready_venv(action)
    recorder = action / "recorder.py"
    recorder.write_text(
        "import json, os, sys\n"
        f"with open({str(record)!r}, 'w') as f:\n"
        "    json.dump({'argv': sys.argv[1:], 'env': dict(os.environ)}, f)\n",
        encoding="utf-8",
    )
    wrapper = f'#!/bin/sh\nexec python3 "{recorder}" "$@"\n'
    _executable(action / ".venv" / "bin" / "python", wrapper)


def invocation(tmp_path: Path, inputs: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The script run on ``inputs``: the argv and environment it gave envsecops."""
    record = tmp_path / "invocation.json"
    recording_venv(tmp_path / "action", record)
    result, _action, output = _run(tmp_path, SCRIPT, inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing" not in result.stdout, "a ready venv must be reused"
    assert not output.exists(), "the script sets no output itself"
    data = json.loads(record.read_text(encoding="utf-8"))
    return data["argv"], data["env"]


def through_the_script(scene: MintScene, tmp_path: Path, inputs: dict[str, str]) -> Completed:
    """The mint step: the script with a ready venv, in this (fake Actions) job's environment."""
    scene.enter_step("mint")
    _ready_venv(tmp_path / "action")
    result, _action, _output = _run(tmp_path, SCRIPT, inputs, extra_env=dict(os.environ))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "installing" not in result.stdout, "a ready venv must be reused"
    return result


def decide_on_this_machine(scene: MintScene, run_cli: RunCli, tmp_path: Path) -> Decision:
    """attest and verify this machine (no --root) with the PATH the script will run with."""
    fake_bin = tmp_path / "bin"  # _run puts the python3 wrapper there too
    _executable(fake_bin / "python3", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    scene.monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}/usr/bin{os.pathsep}/bin")
    scene.monkeypatch.setenv("HOME", str(tmp_path))
    url = scene.issuer.url
    scene.enter_step("attest")
    attested = run_cli(
        "attest", "--out", scene.attested, "--signer", "key", "--key", scene.key, "--no-syft",
        "--nonce", NONCE, "--oidc-issuer", url,
    )  # fmt: skip
    assert attested.code == 0, attested.err
    scene.write_policy(Bag.from_json(json.loads((scene.attested / "bag.json").read_bytes())))
    scene.enter_step("verify")
    verified = run_cli(
        "verify", "--attestation", scene.attested / "attestation.dsse.json",
        "--bag", scene.attested / "bag.json", "--key", scene.key, "--signer", "key",
        "--no-syft", "--out", scene.decision_dir, "--policy", scene.policy_path,
        "--policy-source", "workspace", "--oidc-issuer", url, "--nonce", NONCE,
    )  # fmt: skip
    assert verified.code == 0, verified.out + verified.err
    return scene.decision()
