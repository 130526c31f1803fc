"""`envsecops mint` after a real attest and verify: credentials that work, masked, recorded.

The scene (tests/integration/creds/mint_scene.py) runs attest and verify of a tiny runner tree
in a GitHub Actions step environment with the local OIDC issuer; mint then talks to moto's STS
through the counting proxy. What is checked: the exported keys answer GetCallerIdentity as the
target role's stamped session; every credential value (and each OIDC token) is in an
``::add-mask::`` line before any other mention; no secret appears anywhere but $GITHUB_ENV;
the file and S3 ledgers hold mint-intent then mint-issued, read back with `envsecops audit`.
"""

from __future__ import annotations

import json
import stat

import pytest

from envsecops.ledger.audit import explain, read_records
from envsecops.ledger.file import FileLedger
from tests.conftest import CliResult
from tests.integration.creds.conftest import ACCOUNT
from tests.integration.creds.leaks import assert_no_secret
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    JOB,
    MintScene,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.moto_s3 import REGION
from tests.unit.gh.runner_model import process

WEB = "AssumeRoleWithWebIdentity"


def _texts(scene: MintScene, result: CliResult, *, outputs: bool = True) -> list[str]:
    """Everything a secret must never reach: stdout (but the mask lines), stderr, the step
    outputs and summary, the ledger, and every file mint wrote."""
    unmasked = [line for line in result.out.splitlines() if not line.startswith("::add-mask::")]
    texts = ["\n".join(unmasked), result.err]
    names = ["github-output", "step-summary"] if outputs else ["step-summary"]
    texts += [scene.file(n).read_text(encoding="utf-8") for n in names if scene.file(n).exists()]
    texts.append(scene.ledger.read_text(encoding="utf-8"))
    texts += [p.read_text("utf-8") for p in sorted(scene.out.rglob("*")) if p.is_file()]
    return texts


def assert_masked_first(out: str, values: set[str]) -> None:
    """Each value's first appearance on stdout is its own ``::add-mask::`` line."""
    lines = out.splitlines()
    masked = {c.data for c in process(out) if c.name == "add-mask"}
    for value in values:
        assert value in masked, "a credential value was never masked"
        first = next(i for i, line in enumerate(lines) if value in line)
        assert lines[first] == f"::add-mask::{value}", f"line {first} shows a value unmasked"


def test_an_allow_mints_a_stamped_session_that_works_and_leaks_nothing(
    scene: MintScene, run_cli: RunCli
) -> None:
    import boto3

    decision = scene.ready(run_cli)
    scene.record(run_cli)
    result = scene.mint(run_cli)
    assert result.code == 0, result.err

    assert scene.proxy.actions() == [WEB, "AssumeRole"]
    exported = scene.exported()
    assert set(exported) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    }
    sts = boto3.session.Session().client(
        "sts",
        region_name=REGION,
        endpoint_url=scene.moto,
        aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=exported["AWS_SESSION_TOKEN"],
    )
    identity = sts.get_caller_identity()
    credential = json.loads((scene.out / "credential.json").read_text(encoding="utf-8"))
    target = scene.roles.target.rsplit("/", 1)[1]
    session = credential["session_name"]
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{target}/{session}"
    assert identity["Arn"] == credential["session_arn"]
    assert credential["key_id"] == exported["AWS_ACCESS_KEY_ID"]
    assert credential["source_identity"] == decision.decision_id
    assert credential["tags"] == {
        "env_hash": decision.env_hash,
        "policy_id": decision.policy_id,
        "decision_id": decision.decision_id,
    }
    assert session == f"envsecops-22259804324-2-{decision.env_hash[7:19]}"
    chained = scene.proxy.calls("AssumeRole")[0]
    assert chained["SourceIdentity"] == decision.decision_id
    assert chained["DurationSeconds"] == "900"

    secrets = {exported["AWS_SECRET_ACCESS_KEY"], exported["AWS_SESSION_TOKEN"]}
    tokens = set(scene.mint_tokens)
    assert len(tokens) == 2, "the job's token (envsecops) and the provider's (sts)"
    assert_masked_first(result.out, {exported["AWS_ACCESS_KEY_ID"], *secrets, *tokens})
    everything = secrets | set(scene.issuer.served) | scene.proxy.secrets
    assert len(scene.proxy.secrets) == 4, "the gate's and the target's secret key and token"
    assert_no_secret(everything, _texts(scene, result))
    env_text = scene.file("github-env").read_text(encoding="utf-8")
    assert all(secret in env_text for secret in secrets)
    assert scene.outputs() == {
        "expires-at": credential["expires_at"],
        "credential": str(scene.out / "credential.json"),
    }
    commands = process(result.out)
    assert {c.name for c in commands} == {"add-mask"}, "the table is inside stop-commands"
    summary = scene.file("step-summary").read_text(encoding="utf-8")
    assert "credentials issued" in summary
    assert "mint timings (s): decision" in result.err

    assert scene.kinds() == ["decision", "mint-intent", "mint-issued"]
    ledger = FileLedger(scene.ledger)
    assert ledger.verify() == []
    records = read_records([(ledger.name, ledger.entries())])
    (why,) = explain(records, exported["AWS_ACCESS_KEY_ID"])
    assert why.anomalies == ()
    assert why.decision_id == decision.decision_id
    intent = records[1].entry.body["intent"]
    assert intent == {
        "provider": "aws",
        "target": scene.roles.target,
        "audience": "sts.amazonaws.com",
        "duration_seconds": "provider default",
        "job": f"octo-org/octo-repo/22259804324/2/{JOB}",
    }


def test_the_s3_and_file_ledgers_both_hold_intent_then_issued(
    scene: MintScene, run_cli: RunCli
) -> None:
    bucket = scene.use_s3()
    scene.ready(run_cli, ledger=scene.s3_yaml(bucket))
    scene.record(run_cli)
    result = scene.mint(run_cli)
    assert result.code == 0, result.err
    key_id = scene.exported()["AWS_ACCESS_KEY_ID"]

    s3 = scene.s3_ledger(bucket)
    assert s3.verify() == []
    kinds = ["decision", "mint-intent", "mint-issued"]
    assert [e.kind.value for e in s3.entries()] == kinds
    assert scene.kinds() == kinds
    why = run_cli(
        "audit", "why", key_id, "--ledger", f"file:{scene.ledger}",
        "--ledger", f"s3://{bucket}/mint?retention-days=1&region={REGION}&endpoint-url={scene.moto}",
    )  # fmt: skip
    assert why.code == 0, why.out + why.err
    assert "ANOMALY" not in why.out
    assert "the intent to mint was recorded at" in " ".join(why.out.split())
    secrets = {scene.exported()["AWS_SECRET_ACCESS_KEY"], scene.exported()["AWS_SESSION_TOKEN"]}
    objects = [body.decode("utf-8") for body in scene.s3_objects(bucket)]
    assert len(objects) == 3
    assert_no_secret(secrets | set(scene.issuer.served) | scene.proxy.secrets, objects)


def test_output_credentials_sets_them_as_step_outputs_too(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli)
    result = scene.mint(run_cli, "--output-credentials")
    assert result.code == 0, result.err
    outputs, exported = scene.outputs(), scene.exported()
    assert outputs["aws-access-key-id"] == exported["AWS_ACCESS_KEY_ID"]
    assert outputs["aws-secret-access-key"] == exported["AWS_SECRET_ACCESS_KEY"]
    assert outputs["aws-session-token"] == exported["AWS_SESSION_TOKEN"]
    assert outputs["aws-region"] == REGION
    assert "expires-at" in outputs
    secrets = {exported["AWS_SECRET_ACCESS_KEY"], exported["AWS_SESSION_TOKEN"]}
    assert_no_secret(secrets, _texts(scene, result, outputs=False))


def test_a_longer_duration_within_the_policy_ceiling_is_asked_for(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli, credentials="credentials:\n  max-lifetime: 30m\n" + _providers(scene))
    result = scene.mint(run_cli, "--duration", "1800")
    assert result.code == 0, result.err
    assert scene.proxy.calls("AssumeRole")[0]["DurationSeconds"] == "1800"
    web = scene.proxy.calls(WEB)[0]
    assert web["DurationSeconds"] == "900", "the gate hop is used once, for 15 minutes"


def _providers(scene: MintScene, *, gate: bool = True, extra: str = "") -> str:
    return scene.credentials(gate=gate, extra=extra).removeprefix("credentials:\n")


def test_single_hop_and_allowed_account_ids_from_the_policy(
    scene: MintScene, run_cli: RunCli
) -> None:
    accounts = f'      allowed-account-ids: "{ACCOUNT}, 210987654321"\n'
    scene.ready(run_cli, credentials=scene.credentials(gate=False, extra="") + accounts)
    result = scene.mint(run_cli)
    assert result.code == 0, result.err
    assert scene.proxy.actions() == [WEB, "GetCallerIdentity"]
    assert scene.proxy.calls(WEB)[0]["RoleArn"] == scene.roles.target
    credential = json.loads((scene.out / "credential.json").read_text(encoding="utf-8"))
    assert credential["tags"] == {}
    assert any(note.startswith("tags: single-hop session") for note in credential["notes"])
    assert "single-hop session" in result.out


def test_outside_actions_the_credentials_go_to_a_private_file_never_to_stdout(
    scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS")
    scene.ready(run_cli)
    result = scene.mint(run_cli)
    assert result.code == 0, result.err
    path = scene.out / "credentials.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    values = dict(line.removeprefix("export ").split("=", 1) for line in lines)
    assert set(values) >= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert str(path) in result.out
    assert "::add-mask::" not in result.out, "no workflow commands outside Actions"
    assert not scene.file("github-env").exists()
    secrets = {values["AWS_SECRET_ACCESS_KEY"].strip("'"), values["AWS_SESSION_TOKEN"].strip("'")}
    assert_no_secret(secrets | set(scene.issuer.served), result.out, result.err)


def test_the_decision_can_be_checked_with_the_public_key_alone(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli)
    result = scene.mint(run_cli, "--signer", "key", "--public-key", scene.public, key=False)
    assert result.code == 0, result.err


def test_mint_is_listed_after_verify_in_the_help(run_cli: RunCli) -> None:
    text = run_cli("--help").out
    assert text.index("verify") < text.index("mint") < text.index("record")


def test_the_signing_key_can_come_from_the_environment_as_in_the_action(
    scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envsecops.attest.key import generate_key

    scene.ready(run_cli)
    monkeypatch.setenv("ENVSECOPS_SIGNING_KEY", scene.key.read_text(encoding="utf-8"))
    other = generate_key(scene.tmp / "other.pem").public_path
    result = scene.mint(run_cli, "--signer", "key", "--public-key", other, key=False)
    assert result.code == 0, result.err
    monkeypatch.delenv("ENVSECOPS_SIGNING_KEY")
    refused = scene.mint(run_cli, "--signer", "key", "--public-key", other, key=False)
    assert refused.code == 1
    assert "refused (decision.signature)" in refused.err
