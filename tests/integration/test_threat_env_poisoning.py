"""`$GITHUB_ENV` poisoning: what an earlier step exports changes neither our code nor our facts.

Any earlier step of the job can append to `$GITHUB_ENV`, so the attest-runner step starts with
`PYTHONPATH`, `PYTHONSTARTUP`, `LD_PRELOAD`, `ImageOS`, ... set by someone else. The action
script runs envsecops as `python -I` from the action's own venv: a `sitecustomize.py` or a
shadow `envsecops` package on `PYTHONPATH` and a `PYTHONSTARTUP` file never run (each would
write a marker file), the step still attests, and the poisoned variables are in the bag,
flagged as risky, for the policy to deny. Poisoned before verify-bag instead, the same traps
never fire and the step denies, naming each variable. The facts that matter come from the
validated OIDC claims, not from the poisoned environment (the in-process case, with the local
issuer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envsecops.attest.binding import Origin
from envsecops.attest.key import KeyVerifier, generate_key
from envsecops.attest.verify import verify_attestation
from envsecops.model.bag import Bag, Component
from envsecops.policy.render import render_policy
from tests.integration import test_verify_action as va
from tests.integration.action_runner import ready_venv as _ready_venv
from tests.integration.oidc_issuer.server import LocalIssuer
from tests.integration.test_attest_action import _run
from tests.integration.test_attest_cli import NONCE, RunCli, Runner, _tree, _verify
from tests.unit.gh.runner_model import read_file_commands


def _traps(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment an attacker's earlier step exports, and the marker its code would write."""
    marker = tmp_path / "poisoned-code-ran"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    lib = tmp_path / "evil-lib"
    (lib / "envsecops").mkdir(parents=True)
    (lib / "sitecustomize.py").write_text(payload, encoding="utf-8")
    (lib / "usercustomize.py").write_text(payload, encoding="utf-8")
    (lib / "envsecops" / "__init__.py").write_text(payload, encoding="utf-8")
    (lib / "envsecops" / "__main__.py").write_text(payload, encoding="utf-8")
    startup = tmp_path / "startup.py"
    startup.write_text(payload, encoding="utf-8")
    poison = {
        "PYTHONPATH": str(lib),
        "PYTHONSTARTUP": str(startup),
        "LD_PRELOAD": str(tmp_path / "no-such-preload.so"),
        "ImageOS": "win25",
        "ImageVersion": "20990101.1",
    }
    return poison, marker


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """A clean step environment and a runner tree as --root (as in test_attest_cli.py)."""
    root = tmp_path / "root"
    _tree(root)
    key = generate_key(tmp_path / "signing.pem")
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("HOME", "/home/runner")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.chdir(tmp_path)
    return Runner(root, key.private_path, key.public_path, tmp_path / "out")


def _env_component(bag: Bag, name: str) -> Component:
    (found,) = (c for c in bag.components if c.kind.value == "env" and c.name == name)
    return found


def test_the_traps_would_fire_without_isolation(tmp_path: Path) -> None:
    """Control: the planted code runs when Python is started the ordinary way."""
    poison, marker = _traps(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": poison["PYTHONPATH"]}
    subprocess.run([sys.executable, "-c", "import envsecops"], env=env, cwd=tmp_path, check=False)
    assert marker.exists(), "the shadow package must be importable without -I"


@pytest.mark.slow
def test_poisoned_github_env_runs_none_of_its_code_and_is_recorded(tmp_path: Path) -> None:
    poison, marker = _traps(tmp_path)
    key = generate_key(tmp_path / "signing.pem")
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    inputs = {
        "signer": "key",
        "signing-key": key.private_path.read_text(encoding="utf-8"),
        "syft": "false",
        "out": "attest-out",
        "nonce": "poisoned-nonce-0123456789",
    }
    result, _action, output = _run(tmp_path, inputs, {"GITHUB_ACTIONS": "true", **poison})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists(), f"planted code ran: {marker.read_text(encoding='utf-8')}"
    assert "Traceback" not in result.stderr
    outputs = read_file_commands(output.read_text(encoding="utf-8"))
    out = tmp_path / "attest-out"
    bag_json = (out / "bag.json").read_bytes()
    verified = verify_attestation(
        (out / "attestation.dsse.json").read_bytes(),
        bag_json,
        KeyVerifier.from_files([key.public_path]),
    )
    assert verified.env_hash == outputs["env-hash"]
    bag = Bag.from_json(json.loads(bag_json))
    for name in ("PYTHONPATH", "PYTHONSTARTUP", "LD_PRELOAD"):
        component = _env_component(bag, name)
        assert component.prop("risky") == "true", name
        assert poison[name] not in bag_json.decode(), "values are digested, never recorded"


def test_poisoned_facts_lose_to_the_validated_oidc_claims(
    runner: Runner, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalIssuer() as issuer:
        for name, value in issuer.environ().items():
            monkeypatch.setenv(name, value)
        lies = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_OUTPUT": str(tmp_path / "github_output"),
            "GITHUB_JOB": "build",
            "GITHUB_REPOSITORY": "someone-else/forged",
            "GITHUB_RUN_ID": "999999",
            "GITHUB_RUN_ATTEMPT": "7",
            "GITHUB_SHA": "f" * 40,
            "RUNNER_ENVIRONMENT": "self-hosted",
            "ImageOS": "win25",
            "PYTHONPATH": str(tmp_path / "evil-lib"),
        }
        for name, value in lies.items():
            monkeypatch.setenv(name, value)
        result = run_cli(*runner.args("--no-syft", "--nonce", NONCE, "--oidc-issuer", issuer.url))
        claims = issuer.claims("envsecops")
    assert result.code == 0, result.err
    verified, bag, _ = _verify(runner)
    binding = verified.binding
    assert binding.repository == claims["repository"] != lies["GITHUB_REPOSITORY"]
    assert binding.origin("repository") is Origin.OIDC
    assert (binding.run_id, binding.run_attempt) == (claims["run_id"], claims["run_attempt"])
    assert binding.origin("run_id") is Origin.OIDC
    assert bag.runner.get("runner_environment") == claims["runner_environment"]
    assert dict(bag.runner.origins)["runner_environment"] == "oidc"
    mismatches = {c.name for c in bag.components if c.name.startswith("env-claim-mismatch:")}
    assert {
        "env-claim-mismatch:RUNNER_ENVIRONMENT",
        "env-claim-mismatch:GITHUB_REPOSITORY",
        "env-claim-mismatch:GITHUB_SHA",
    } <= mismatches
    assert dict(bag.runner.origins)["image_os"] == "env", "ImageOS is no claim: said as env"
    assert _env_component(bag, "PYTHONPATH").prop("risky") == "true"


@pytest.mark.slow
def test_a_poisoned_verify_step_runs_none_of_its_code_and_denies(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attest clean, then poison `$GITHUB_ENV` before verify-bag: no planted code, a deny."""
    poison, marker = _traps(tmp_path)
    key = generate_key(tmp_path / "signing.pem")
    pem = key.private_path.read_text(encoding="utf-8")
    workspace = tmp_path / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    job = {**va.JOB, "GITHUB_WORKSPACE": str(workspace)}
    attest_output = tmp_path / "attest-output"
    attest_inputs = {"signer": "key", "signing-key": pem, "syft": "false", "nonce": va.NONCE}
    result, _, _ = va._run(
        tmp_path, va.LIB / "attest-runner.sh", attest_inputs,
        output=attest_output, extra_env=job, cwd=workspace,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    attested = read_file_commands(attest_output.read_text(encoding="utf-8"))
    bag = Bag.from_json(json.loads(Path(attested["bag"]).read_bytes()))
    policy_text = render_policy(bag, name="payments-deploy")
    (workspace / ".github" / "envsecops.yml").write_text(policy_text, encoding="utf-8")
    report = va._pin_report(run_cli, monkeypatch, workspace, va.PINNED, "clean.json")
    inputs = {
        **{name: attested[name] for name in va.FROM_ATTEST},
        "policy-source": "workspace",
        "signer": "key",
        "signing-key": pem,
        "pin-report": str(report),
        "syft": "false",
        "out": "decision",
    }
    verify_output = tmp_path / "verify-output"
    result, _, _ = va._run(
        tmp_path, va.SCRIPT, inputs,
        output=verify_output, extra_env={**job, **poison}, cwd=workspace,
    )  # fmt: skip
    assert not marker.exists(), f"planted code ran: {marker.read_text(encoding='utf-8')}"
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    outputs = read_file_commands(verify_output.read_text(encoding="utf-8"))
    assert outputs["verdict"] == "deny"
    denied = json.loads(Path(outputs["decision"]).read_bytes())
    reasons = " ".join(f"{r['code']} {r['subject']} {r['message']}" for r in denied["reasons"])
    assert "drift.env-hash" in reasons
    for name in ("PYTHONPATH", "PYTHONSTARTUP", "LD_PRELOAD"):
        assert name in reasons, f"{name} is named in the deny: {reasons}"
