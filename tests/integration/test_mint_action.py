"""The mint-creds action: inputs only through env, refused before anything installs, the gate.

The script is run with bash exactly as the actions run it. Every refusal happens before the
venv step: nothing is installed, no output is set, no token is requested (there is no token
service in these runs at all), and the signing key is never echoed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from envsecops.mint.export import output_name
from envsecops.syntax.yaml import Node, compose_documents, scalar
from tests.conftest import ROOT
from tests.integration.action_runner import executable as _executable
from tests.integration.creds.leaks import assert_no_secret
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    MintScene,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.mint_action_support import (
    decide_on_this_machine,
    invocation,
    through_the_script,
)
from tests.integration.moto_s3 import REGION
from tests.integration.test_mint_cli import assert_masked_first
from tests.integration.test_verify_action import (
    _env,
    _env_name,
    _mapping,
    _run,
    _steps,
)

LIB = ROOT / "actions" / "_lib"
SCRIPT = LIB / "mint-creds.sh"  # the same as mint_action_support.SCRIPT
INPUTS = (
    "provider",
    "decision",
    "decision-attestation",
    "policy-file",
    "bag",
    "signer",
    "signing-key",
    "public-keys",
    "configs",
    "syft",
    "output-credentials",
    "duration",
    "max-decision-age",
    "ledger",
    "oidc-issuer",
    "out",
)
OUTPUTS = ("expires-at", "credential")
CREDENTIAL_OUTPUTS = {
    "aws": (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ),
    "gcp": ("CLOUDSDK_AUTH_ACCESS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN"),
    "vault": ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE"),
}
"""What each provider exports to $GITHUB_ENV; with output-credentials, the same as outputs."""
FROM_VERIFY = ("decision", "decision-attestation", "policy-file")
SHARED_WITH_VERIFY = ("signer", "signing-key", "public-keys", "configs", "syft")
ERROR = "::error title=envsecops mint-creds::"
KEY = "-----BEGIN PRIVATE KEY-----\nnot used\n-----END PRIVATE KEY-----\n"
VALID = {"provider": "aws", "decision": "decision.json", "signer": "key", "signing-key": KEY}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"decision": ""}, "`decision` is empty: pass the decision verify-bag wrote"),
        ({"provider": "azure"}, "`provider` must be empty (the policy's only provider), aws,"),
        ({"provider": "AWS"}, "`provider` must be empty"),
        ({"provider": "aws\n::add-mask::x"}, "`provider` must be a single line"),
        ({"signer": "gpg"}, "`signer` must be one of sigstore, key"),
        ({"signing-key": ""}, "neither `signing-key` nor `public-keys` is set"),
        ({"signer": "sigstore", "public-keys": "a.pub"}, "`public-keys` is for `signer: key`"),
        ({"syft": "yes"}, "`syft` must be one of auto, true, false"),
        ({"output-credentials": "yes"}, "`output-credentials` must be true or false"),
        ({"output-credentials": "True"}, "`output-credentials` must be true or false"),
        ({"duration": "15m"}, "`duration` must be a whole number of seconds from 1 to 3600"),
        ({"duration": "0"}, "`duration` must be a whole number of seconds"),
        ({"duration": "0900"}, "`duration` must be a whole number of seconds"),
        ({"duration": "3601"}, "`duration` must be a whole number of seconds"),
        ({"duration": "a[$(id)]"}, "`duration` must be a whole number of seconds"),
        ({"duration": "-900"}, "`duration` must be a whole number of seconds"),
        ({"max-decision-age": "5m"}, "`max-decision-age` must be a whole number of seconds"),
        ({"max-decision-age": "99999"}, "`max-decision-age` must be a whole number of seconds"),
        ({"oidc-issuer": "http://issuer.example"}, "`oidc-issuer` must be an https:// URL"),
        ({"oidc-issuer": "token.actions.githubusercontent.com"}, "`oidc-issuer` must be an https"),
        ({"oidc-issuer": "https://"}, "`oidc-issuer` must be an https:// URL"),
        ({"oidc-issuer": "https://a b"}, "`oidc-issuer` must be an https:// URL"),
        ({"oidc-issuer": "http://127.0.0.1.evil.example"}, "`oidc-issuer` must be an https"),
        ({"decision": "d.json\r"}, "`decision` must be a single line"),
        ({"decision-attestation": "a\n::warning::x"}, "`decision-attestation` must be a single"),
        ({"policy-file": "p.yml\n"}, "`policy-file` must be a single line"),
        ({"bag": "bag.json\n::error::x"}, "`bag` must be a single line"),
        ({"ledger": "file:a\nfile:b"}, "`ledger` must be a single line"),
        ({"configs": "a\nb"}, "`configs` must be a single line"),
        ({"public-keys": "a.pub\tb.pub\n"}, "`public-keys` must be a single line"),
        ({"out": "dir\n"}, "`out` must be a single line"),
        ({"duration": "900\n"}, "`duration` must be a single line"),
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


def test_defaults_run_mint_isolated_with_only_the_decision(tmp_path: Path) -> None:
    argv, env = invocation(tmp_path, {"decision": "decision.json"})
    assert argv == [
        "-I", "-m", "envsecops", "mint", "--decision=decision.json", "--signer=sigstore",
        f"--out={tmp_path}/envsecops-mint", "--no-syft",
    ]  # fmt: skip
    assert env["ENVSECOPS_DECISION"] == "decision.json"


def test_every_input_reaches_mint_as_its_flag_and_the_key_only_through_env(
    tmp_path: Path,
) -> None:
    inputs = {
        "provider": "aws",
        "decision": "/d/decision.json",
        "decision-attestation": "/d/decision.dsse.json",
        "policy-file": "/d/policy.yml",
        "bag": "/a/bag.json",
        "signer": "key",
        "signing-key": KEY,
        "public-keys": "  a.pub   b.pub ",
        "configs": "etc/*.conf  *.toml",
        "syft": "auto",
        "output-credentials": "true",
        "duration": "1800",
        "max-decision-age": "120",
        "ledger": "file:/l/ledger.jsonl s3://bucket/p?retention-days=1&region=eu-west-1",
        "oidc-issuer": "https://ghes.example/_services/token",
        "out": "minted",
    }
    argv, env = invocation(tmp_path, inputs)
    assert argv == [
        "-I", "-m", "envsecops", "mint", "--decision=/d/decision.json", "--signer=key",
        f"--out={tmp_path}/minted", "--output-credentials", "--provider=aws",
        "--decision-attestation=/d/decision.dsse.json", "--policy=/d/policy.yml",
        "--bag=/a/bag.json", "--duration=1800", "--max-decision-age=120",
        "--oidc-issuer=https://ghes.example/_services/token",
        "--public-key=a.pub", "--public-key=b.pub", "--config=etc/*.conf", "--config=*.toml",
        "--ledger=file:/l/ledger.jsonl",
        "--ledger=s3://bucket/p?retention-days=1&region=eu-west-1",
    ]  # fmt: skip
    assert env["ENVSECOPS_SIGNING_KEY"] == KEY
    assert not any("PRIVATE KEY" in arg for arg in argv)


@pytest.mark.parametrize(
    ("inputs", "flags"),
    [
        ({"syft": "true"}, ["--syft"]),
        ({"syft": "false", "output-credentials": "false"}, ["--no-syft"]),
        ({"signer": "key", "public-keys": "k.pub"}, ["--no-syft", "--public-key=k.pub"]),
        (
            {"oidc-issuer": "http://127.0.0.1:8080"},
            ["--no-syft", "--oidc-issuer=http://127.0.0.1:8080"],
        ),
        (
            {"duration": "3600", "max-decision-age": "1"},
            ["--no-syft", "--duration=3600", "--max-decision-age=1"],
        ),
    ],
)
def test_accepted_values(tmp_path: Path, inputs: dict[str, str], flags: list[str]) -> None:
    argv, _env_vars = invocation(tmp_path, {"decision": "d.json", **inputs})
    assert argv[argv.index(f"--out={tmp_path}/envsecops-mint") + 1 :] == flags


def _all_outputs() -> list[str]:
    exported = [v for names in CREDENTIAL_OUTPUTS.values() for v in names]
    return [*OUTPUTS, *(output_name(variable) for variable in exported)]


def test_action_hands_every_input_to_the_script_through_env() -> None:
    action, (step,) = _steps("actions/mint-creds/action.yml")
    assert tuple(_mapping(action["inputs"])) == INPUTS
    assert scalar(_mapping(action["branding"])["icon"]) == "shield"
    assert scalar(_mapping(action["runs"])["using"]) == "composite"
    assert scalar(step["id"]) == "mint"
    assert scalar(step["shell"]) == "bash"
    assert "uses" not in step
    assert _env(step) == {_env_name(name): f"${{{{ inputs.{name} }}}}" for name in INPUTS}
    run = scalar(step["run"])
    assert run == 'bash -- "$GITHUB_ACTION_PATH/../_lib/mint-creds.sh" "$GITHUB_ACTION_PATH"'
    outputs = {n: scalar(_mapping(v)["value"]) for n, v in _mapping(action["outputs"]).items()}
    assert outputs == {name: f"${{{{ steps.mint.outputs.{name} }}}}" for name in _all_outputs()}
    for name, node in _mapping(action["inputs"]).items():
        fields = _mapping(node)
        assert scalar(fields["description"]), name
        assert scalar(fields["default"]) is not None, f"{name}: every input has a default"


def test_the_script_documents_every_variable_the_actions_pass() -> None:
    header = SCRIPT.read_text(encoding="utf-8").split("set -euo pipefail", 1)[0]
    _action, (step,) = _steps("actions/mint-creds/action.yml")
    for variable in _env(step):
        assert f"#   {variable} " in header, variable


def test_the_gate_mints_after_the_recorded_decision_only_when_a_provider_is_given() -> None:
    action, steps = _steps("action.yml")
    by_id = {scalar(s["id"]): s for s in steps}
    assert list(by_id)[-2:] == ["record", "mint"]
    inputs = _mapping(action["inputs"])
    assert {"provider", "duration", "output-credentials"} <= set(inputs)
    assert scalar(_mapping(inputs["provider"])["default"]) == "", "no provider: no minting"
    assert scalar(_mapping(inputs["output-credentials"])["default"]) == "false"
    mint = by_id["mint"]
    assert scalar(mint["if"]) == (
        "${{ !cancelled() && inputs.provider != '' && steps.pin-check.outcome == 'success' "
        "&& steps.verify.outcome == 'success' && steps.record.outcome == 'success' }}"
    )
    assert scalar(mint["run"]) == (
        'bash -- "$GITHUB_ACTION_PATH/actions/_lib/mint-creds.sh" "$GITHUB_ACTION_PATH"'
    )
    env = _env(mint)
    for name in FROM_VERIFY:
        assert env.pop(_env_name(name)) == f"${{{{ steps.verify.outputs.{name} }}}}"
    assert env.pop("ENVSECOPS_BAG") == "${{ steps.attest.outputs.bag }}"
    for variable, value in env.items():
        name = variable.removeprefix("ENVSECOPS_").lower().replace("_", "-")
        assert name in inputs, variable
        assert value == f"${{{{ inputs.{name} }}}}", variable
    # The re-inventory must see what attest and verify saw: the same signer and inventory inputs.
    verify = _env(by_id["verify"])
    for name in SHARED_WITH_VERIFY:
        assert env[_env_name(name)] == verify[_env_name(name)], name
    outputs = {n: scalar(_mapping(v)["value"]) for n, v in _mapping(action["outputs"]).items()}
    for name in _all_outputs():
        assert outputs[name] == f"${{{{ steps.mint.outputs.{name} }}}}"
    # The record step still records the decision (kind `decision`): mint writes its own entries.
    record = _env(by_id["record"])
    assert "ENVSECOPS_KIND" not in record
    assert record["ENVSECOPS_DECISION"] == "${{ steps.verify.outputs.decision }}"


def test_no_step_of_ours_uses_another_action() -> None:
    for rel in ("action.yml", "actions/mint-creds/action.yml"):
        _action, steps = _steps(rel)
        assert all("uses" not in step and scalar(step["shell"]) == "bash" for step in steps), rel


def _readme_snippet(marker: str) -> dict[str, Node]:
    """The README's workflow job whose steps use ``marker``, parsed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    (block,) = (b for b in blocks if marker in b and "jobs:" in b)
    (root,) = compose_documents(block)
    (job,) = _mapping(_mapping(root)["jobs"]).values()
    return _mapping(job)


def test_the_readme_workflow_grants_id_token_and_passes_only_declared_inputs() -> None:
    job = _readme_snippet("actions/mint-creds@")
    grants = {name: scalar(value) for name, value in _mapping(job["permissions"]).items()}
    assert grants == {"contents": "read", "id-token": "write"}
    action = _steps("actions/mint-creds/action.yml")[0]
    declared = set(_mapping(action["inputs"]))
    steps = [_mapping(s) for s in job["steps"].value]
    (mint,) = (s for s in steps if "actions/mint-creds@" in (scalar(s.get("uses")) or ""))
    given = _mapping(mint["with"])
    assert set(given) <= declared
    for name in FROM_VERIFY:
        assert scalar(given[name]) == f"${{{{ steps.verify.outputs.{name} }}}}"
    for step in steps:
        uses = scalar(step.get("uses")) or ""
        assert not uses or "@<full commit sha>" in uses or re.search(r"@[0-9a-f]{40}$", uses)


WEB = "AssumeRoleWithWebIdentity"


@pytest.mark.slow
def test_the_script_mints_on_a_fake_runner_and_refuses_after_drift(
    scene: MintScene, run_cli: RunCli, tmp_path: Path
) -> None:
    """attest and verify this machine (as the script's mint re-inventories it, with no --root)
    in a GitHub Actions step environment with the local issuer; the script then mints through
    moto's STS; a binary planted on PATH afterwards is drift: refused, no STS call."""
    import boto3

    decision = decide_on_this_machine(scene, run_cli, tmp_path)
    inputs = {
        "provider": "aws",
        "decision": str(scene.decision_dir / "decision.json"),
        "decision-attestation": str(scene.decision_dir / "decision.dsse.json"),
        "policy-file": str(scene.decision_dir / "policy.yml"),
        "bag": str(scene.attested / "bag.json"),
        "signer": "key",
        "signing-key": scene.key.read_text(encoding="utf-8"),
        "oidc-issuer": scene.issuer.url,
        "output-credentials": "true",
    }
    served = len(scene.issuer.served)
    result = through_the_script(scene, tmp_path, inputs)
    assert result.returncode == 0, result.stdout + result.stderr

    assert scene.proxy.actions() == [WEB, "AssumeRole"]
    exported, outputs = scene.exported(), scene.outputs()
    assert set(exported) == set(CREDENTIAL_OUTPUTS["aws"])
    out = tmp_path / "runner-temp" / "envsecops-mint"  # the default: $RUNNER_TEMP/envsecops-mint
    credential = json.loads((out / "credential.json").read_text(encoding="utf-8"))
    assert outputs == {
        "expires-at": credential["expires_at"],
        "credential": str(out / "credential.json"),
        **{output_name(name): value for name, value in exported.items()},
    }
    assert set(outputs) <= set(_all_outputs()), "every output the step sets is declared"
    sts = boto3.session.Session().client(
        "sts",
        region_name=REGION,
        endpoint_url=scene.moto,
        aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=exported["AWS_SESSION_TOKEN"],
    )
    assert sts.get_caller_identity()["Arn"] == credential["session_arn"]
    assert credential["source_identity"] == decision.decision_id
    assert credential["tags"]["env_hash"] == decision.env_hash
    secrets = {exported["AWS_SECRET_ACCESS_KEY"], exported["AWS_SESSION_TOKEN"]}
    tokens = set(scene.issuer.served[served:])
    assert len(tokens) == 2, "the binding token and the provider's"
    assert_masked_first(result.stdout, {exported["AWS_ACCESS_KEY_ID"], *secrets, *tokens})
    unmasked = [x for x in result.stdout.splitlines() if not x.startswith("::add-mask::")]
    ledger_text = scene.ledger.read_text(encoding="utf-8")
    files = [p.read_text("utf-8") for p in sorted(out.rglob("*")) if p.is_file()]
    texts = ["\n".join(unmasked), result.stderr, ledger_text, *files]
    assert_no_secret(secrets | tokens | scene.proxy.secrets, texts)
    assert inputs["signing-key"].splitlines()[1] not in result.stdout + result.stderr
    assert scene.kinds() == ["mint-intent", "mint-issued"]

    # Something lands on PATH between verify and mint: the same decision is now refused.
    _executable(tmp_path / "bin" / "git", "#!/bin/sh\nexit 0\n")
    calls = len(scene.proxy.forms)
    result = through_the_script(scene, tmp_path, inputs)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refused (drift.env-hash)" in result.stderr
    assert len(scene.proxy.forms) == calls, "no STS call after drift"
    drift = json.loads((out / "drift.json").read_text(encoding="utf-8"))
    assert "git" in json.dumps(drift), "the `bag` input gives the component diff"
    assert scene.kinds() == ["mint-intent", "mint-issued", "drift"]
