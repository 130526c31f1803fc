"""STS faults during `envsecops mint`, injected by the proxy in front of moto's STS.

Throttling is retried (with jitter) and the mint succeeds; a refusal (AccessDenied,
InvalidIdentityToken) is not retried: one request, a mint-failed entry that names the call and
the fix, exit 3, nothing exported, and no secret that travelled through the proxy (the gate
session's) anywhere in what was printed or recorded.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.creds.leaks import assert_no_secret
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    MintScene,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.creds.sts_proxy import QueuedError

WEB = "AssumeRoleWithWebIdentity"


def test_throttling_is_retried_and_the_mint_goes_through(scene: MintScene, run_cli: RunCli) -> None:
    scene.ready(run_cli)
    scene.proxy.errors += [QueuedError(WEB, "Throttling"), QueuedError("AssumeRole", "Throttling")]
    result = scene.mint(run_cli)
    assert result.code == 0, result.err
    assert scene.proxy.actions() == [WEB, WEB, "AssumeRole", "AssumeRole"]
    assert scene.kinds() == ["mint-intent", "mint-issued"]
    assert "AWS_SECRET_ACCESS_KEY" in scene.exported()


@pytest.mark.parametrize(
    ("action", "code", "calls", "fix"),
    [
        ("AssumeRole", "AccessDenied", [WEB, "AssumeRole"], "sts:TagSession"),
        (WEB, "AccessDenied", [WEB], "sts:AssumeRoleWithWebIdentity"),
        (WEB, "InvalidIdentityToken", [WEB], "OIDC identity provider"),
    ],
)
def test_a_refusal_is_not_retried_and_is_recorded_as_a_failed_mint(
    scene: MintScene, run_cli: RunCli, action: str, code: str, calls: list[str], fix: str
) -> None:
    scene.ready(run_cli)
    scene.proxy.errors.append(QueuedError(action, code))
    result = scene.mint(run_cli)
    assert result.code == 3, result.err
    assert scene.proxy.actions() == calls, "a refusal is asked once"
    assert code in result.err
    assert fix in result.err
    assert "recorded mint-failed in file:" in result.err
    assert scene.exported() == {}
    assert not (scene.out / "credential.json").exists()
    assert scene.kinds() == ["mint-intent", "mint-failed"]
    failed = json.loads(scene.ledger.read_text(encoding="utf-8").splitlines()[1])
    assert code in failed["body"]["error"]
    secrets = scene.proxy.secrets | set(scene.issuer.served)
    unmasked = [line for line in result.out.splitlines() if not line.startswith("::add-mask::")]
    assert_no_secret(secrets, unmasked, result.err, scene.ledger.read_text(encoding="utf-8"))


def test_a_failed_mint_is_in_the_s3_and_file_ledgers_after_its_intent(
    scene: MintScene, run_cli: RunCli
) -> None:
    from envsecops.ledger.audit import explain, read_records
    from envsecops.ledger.file import FileLedger

    bucket = scene.use_s3()
    decision = scene.ready(run_cli, ledger=scene.s3_yaml(bucket))
    scene.record(run_cli)
    scene.proxy.errors.append(QueuedError("AssumeRole", "AccessDenied"))
    result = scene.mint(run_cli)
    assert result.code == 3, result.err
    s3, file = scene.s3_ledger(bucket), FileLedger(scene.ledger)
    kinds = ["decision", "mint-intent", "mint-failed"]
    assert [e.kind.value for e in s3.entries()] == kinds
    assert scene.kinds() == kinds
    assert s3.verify() == []
    assert file.verify() == []
    records = read_records([(file.name, file.entries()), (s3.name, s3.entries())])
    assert [r.ledgers for r in records] == [(file.name, s3.name)] * 3, "the same three records"
    (why,) = explain(records, decision.decision_id)
    assert why.anomalies == ()
    assert "no credential was issued under it" in why.paragraph
    assert "Minting failed at" in why.paragraph
    assert "AccessDenied" in why.paragraph


def test_an_sts_timeout_is_a_recorded_failed_mint(
    scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """STS that never answers: retried within bounds, then mint-failed recorded, exit 3.

    The real provider is used, configured with a short read timeout (production waits 10 s):
    the registry entry is replaced by the same provider class with other timeouts.
    """
    from envsecops import creds
    from envsecops.creds.aws import AwsProvider
    from envsecops.creds.retry import Backoff
    from tests.integration.fault_proxy import Fault

    def short_timeouts() -> AwsProvider:
        return AwsProvider(backoff=Backoff(attempts=2, base=0.0), read_timeout=0.5)

    monkeypatch.setitem(creds.PROVIDERS, "aws", short_timeouts)
    scene.ready(run_cli)
    scene.proxy.faults.extend([Fault.TIMEOUT, Fault.TIMEOUT])
    result = scene.mint(run_cli)
    assert result.code == 3, result.err
    assert [s.fault for s in scene.proxy.seen] == [Fault.TIMEOUT, Fault.TIMEOUT]
    assert scene.proxy.actions() == [], "no request got past the hung connection"
    assert "ReadTimeoutError" in result.err
    assert scene.exported() == {}
    assert scene.kinds() == ["mint-intent", "mint-failed"]
    failed = json.loads(scene.ledger.read_text(encoding="utf-8").splitlines()[1])
    assert "ReadTimeoutError" in failed["body"]["error"]
