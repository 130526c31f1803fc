"""Every refusal of `envsecops mint` happens before STS: the counting proxy sees no request at all.

Each case starts from a real attest and verify (the scene), breaks one precondition — a deny,
an expired or stale decision, a decision for another run, attempt or job, drift after verify,
a swapped policy, an unsigned or altered decision, an unreachable ledger, a bad duration — and
checks the exit code, the reason code, that no request reached the proxy in front of moto's
STS, that nothing was exported, and what the ledger holds (nothing, a drift entry, or an
abandoned intent).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from envsecops.verify.decision import utc_text
from tests.conftest import CliResult
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    BINDING_AUDIENCE,
    STS_AUDIENCE,
    MintScene,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.moto_s3 import REGION, closed_port


def assert_refused(scene: MintScene, result: CliResult, code: str, exit_code: int = 1) -> None:
    """The exit code, the reason code named, no STS request, nothing exported."""
    assert result.code == exit_code, result.out + result.err
    assert f"refused ({code})" in result.err, result.err
    scene.assert_no_sts_call()
    assert scene.exported() == {}
    assert not (scene.out / "credential.json").exists()
    assert f"::error title=envsecops mint::refused ({code})" in result.out


def _at(**delta: float) -> str:
    return utc_text(datetime.now(UTC) + timedelta(**delta))


def _deny_binary(text: str) -> str:
    """The drafted policy with the digest of /usr/bin/true replaced: the bag is denied."""
    changed = re.sub(r"(/usr/bin/true: \[sha256:)[0-9a-f]{64}", r"\g<1>" + "0" * 64, text)
    assert changed != text
    return changed


# --- the decision ---------------------------------------------------------------------------


def test_a_deny_mints_nothing(scene: MintScene, run_cli: RunCli) -> None:
    decision = scene.ready(run_cli, edit=_deny_binary, verdict=1)
    assert decision.verdict.value == "deny"
    assert {r.code for r in decision.reasons} == {"binary.digest"}
    result = scene.mint(run_cli)
    assert_refused(scene, result, "decision.deny")
    assert scene.kinds() == []


def test_an_audit_mode_deny_mints_nothing_although_verify_passed(
    scene: MintScene, run_cli: RunCli
) -> None:
    def audit(text: str) -> str:
        return _deny_binary(text).replace("mode: enforce", "mode: audit")

    scene.ready(run_cli, edit=audit, verdict=0)
    result = scene.mint(run_cli)
    assert_refused(scene, result, "decision.deny")
    assert "audit-mode deny mints nothing" in result.err


@pytest.mark.parametrize(
    ("times", "code", "extra"),
    [
        ({"issued_at": _at(minutes=-20), "expires_at": _at(minutes=-10)}, "decision.expired", ()),
        ({"issued_at": _at(minutes=-10), "expires_at": _at(hours=1)}, "decision.age", ()),
        ({"issued_at": _at(minutes=-2), "expires_at": _at(hours=1)}, "decision.age", ("60",)),
        ({"issued_at": _at(minutes=10), "expires_at": _at(hours=1)}, "decision.future", ()),
    ],
)
def test_an_expired_stale_or_future_decision_is_refused(
    scene: MintScene,
    run_cli: RunCli,
    times: dict[str, str],
    code: str,
    extra: tuple[str, ...],
) -> None:
    scene.ready(run_cli)
    scene.resign(times)
    args = ("--max-decision-age", *extra) if extra else ()
    assert_refused(scene, scene.mint(run_cli, *args), code)
    assert scene.kinds() == []


def test_a_longer_max_decision_age_accepts_an_older_decision(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli)
    scene.resign({"issued_at": _at(minutes=-10), "expires_at": _at(hours=1)})
    result = scene.mint(run_cli, "--max-decision-age", "900")
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"run_id": "99"}, "job.run"),
        ({"run_attempt": "3"}, "job.attempt"),
        (
            {
                "repository": "octo-org/elsewhere",
                "repository_id": "75",
                "sub": "repo:octo-org/elsewhere:ref:refs/heads/main",
            },
            "job.repository",
        ),
    ],
)
def test_a_decision_from_another_run_attempt_or_repository_is_refused(
    scene: MintScene, run_cli: RunCli, claims: dict[str, str], code: str
) -> None:
    scene.ready(run_cli)
    for audience in (BINDING_AUDIENCE, STS_AUDIENCE):
        scene.issuer.override[audience] = scene.issuer.mint(scene.issuer.claims(audience, **claims))
    assert_refused(scene, scene.mint(run_cli), code)
    assert scene.kinds() == []


def test_a_decision_for_another_job_of_the_run_is_refused(
    scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene.ready(run_cli)
    monkeypatch.setenv("GITHUB_JOB", "release")
    assert_refused(scene, scene.mint(run_cli), "job.job")


def test_in_actions_a_decision_bound_by_environment_facts_is_refused(
    scene: MintScene, run_cli: RunCli
) -> None:
    from envsecops.model.decision import Principal

    decision = scene.ready(run_cli)
    # what verify signs when this job's token could not be had (facts from GITHUB_* variables)
    from_env = Principal(decision.principal.claims, "environment")
    scene.resign({"principal": from_env})
    assert_refused(scene, scene.mint(run_cli), "job.unverified")


# --- drift and the policy -------------------------------------------------------------------


def test_drift_after_verify_is_recorded_and_refused(scene: MintScene, run_cli: RunCli) -> None:
    decision = scene.ready(run_cli)
    with (scene.root / "usr/bin/true").open("ab") as binary:
        binary.write(b"\0changed after verify")
    result = scene.mint(run_cli, "--bag", scene.attested / "bag.json")
    assert_refused(scene, result, "drift.env-hash")
    assert "changed binary /usr/bin/true" in result.err
    assert scene.kinds() == ["drift"]
    drift = (scene.out / "drift.json").read_text(encoding="utf-8")
    assert "/usr/bin/true" in drift
    assert (scene.out / "fresh-bag.json").is_file()
    assert decision.env_hash not in (scene.out / "fresh-bag.json").read_text(encoding="utf-8")
    issued_for_sts = [c for c in scene.issuer.calls if c.query.get("audience") == STS_AUDIENCE]
    assert issued_for_sts == [], "no provider token was even requested"


def test_drift_without_the_attested_bag_still_refuses_and_keeps_the_fresh_bag(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli)
    (scene.root / "usr/bin/sneaky").write_bytes(b"#!/bin/sh\n")
    (scene.root / "usr/bin/sneaky").chmod(0o755)
    result = scene.mint(run_cli)
    assert_refused(scene, result, "drift.env-hash")
    assert "pass --bag" in result.err
    assert scene.kinds() == ["drift"]
    assert not (scene.out / "drift.json").exists()


def _swap_policy(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("credentials:\n", "credentials:\n  max-lifetime: 1h\n"), "utf-8")


@pytest.mark.parametrize("which", ["beside", "flag"])
def test_a_policy_swapped_after_verify_is_refused(
    scene: MintScene, run_cli: RunCli, which: str
) -> None:
    scene.ready(run_cli)
    if which == "beside":
        _swap_policy(scene.decision_dir / "policy.yml")
        result = scene.mint(run_cli)
    else:
        _swap_policy(scene.policy_path)
        result = scene.mint(run_cli, "--policy", scene.policy_path)
    assert_refused(scene, result, "policy.mismatch")
    assert scene.kinds() == []


# --- the signature --------------------------------------------------------------------------


def _remove_signature(scene: MintScene) -> None:
    (scene.decision_dir / "decision.dsse.json").unlink()


def _alter_decision(scene: MintScene) -> None:
    path = scene.decision_dir / "decision.json"
    text = path.read_text(encoding="utf-8")
    year = text.split('"expires_at":"', 1)[1][:4]
    path.write_text(text.replace(f'"expires_at":"{year}', f'"expires_at":"{int(year) + 1}'))


def _other_signer(scene: MintScene) -> None:
    from envsecops.attest.key import generate_key

    other = generate_key(scene.tmp / "other.pem")
    scene.resign({}, key=other.private_path)


def _bag_attestation(scene: MintScene) -> None:
    content = (scene.attested / "attestation.dsse.json").read_bytes()
    (scene.decision_dir / "decision.dsse.json").write_bytes(content)


@pytest.mark.parametrize(
    "damage", [_remove_signature, _alter_decision, _other_signer, _bag_attestation]
)
def test_an_unsigned_altered_or_foreign_decision_is_refused(
    scene: MintScene, run_cli: RunCli, damage: Callable[[MintScene], None]
) -> None:
    scene.ready(run_cli)
    damage(scene)
    assert_refused(scene, scene.mint(run_cli), "decision.signature")
    assert scene.kinds() == []


def test_a_decision_verify_could_not_sign_is_refused(scene: MintScene, run_cli: RunCli) -> None:
    from envsecops.verify.publish import publish

    scene.ready(run_cli)

    def broken() -> object:
        raise OSError("the signing key is gone")

    policy_text = (scene.decision_dir / "policy.yml").read_text(encoding="utf-8")
    publish(scene.decision(), None, scene.decision_dir, broken, policy_text=policy_text)  # type: ignore[arg-type]
    assert_refused(scene, scene.mint(run_cli), "decision.unsigned")


# --- ledgers, the token service, the request ------------------------------------------------


def test_an_unwritable_file_ledger_means_no_token_and_no_sts_call(
    scene: MintScene, run_cli: RunCli
) -> None:
    blocker = scene.tmp / "not-a-directory"
    blocker.write_text("a file where the ledger's folder should be")
    scene.ready(run_cli, ledger=f"ledger:\n  file: {blocker / 'ledger.jsonl'}\n")
    result = scene.mint(run_cli)
    assert result.code == 3, result.err
    assert "the intent to mint could not be recorded" in result.err
    scene.assert_no_sts_call()
    assert scene.exported() == {}
    assert [c for c in scene.issuer.calls if c.query.get("audience") == STS_AUDIENCE] == []


def test_an_s3_ledger_on_a_closed_port_means_no_sts_call_and_the_intent_is_closed(
    scene: MintScene, run_cli: RunCli
) -> None:
    bucket = scene.use_s3()
    scene.ready(run_cli)
    down = (
        f"s3://{bucket}/mint?retention-days=1&region={REGION}"
        f"&endpoint-url=http://127.0.0.1:{closed_port()}"
    )
    result = scene.mint(run_cli, "--ledger", down)
    assert result.code == 3, result.err
    assert "no token was requested" in result.err
    scene.assert_no_sts_call()
    assert scene.exported() == {}
    assert scene.kinds() == ["mint-intent", "mint-failed"], "the file ledger's intent is closed"
    assert [c for c in scene.issuer.calls if c.query.get("audience") == STS_AUDIENCE] == []


def test_without_the_token_service_nothing_happens(
    scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene.ready(run_cli)
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL")
    result = scene.mint(run_cli)
    assert_refused(scene, result, "token.unavailable")
    assert "id-token: write" in result.err
    assert scene.kinds() == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--duration", "600"), "DurationSeconds 600 is outside 900-3600"),
        (("--duration", "1800"), "--duration may only shorten"),
        (("--provider", "gcp"), "the policy configures only aws"),
    ],
)
def test_a_request_that_cannot_work_is_a_usage_error_before_anything(
    scene: MintScene, run_cli: RunCli, args: tuple[str, ...], needle: str
) -> None:
    scene.ready(run_cli)
    result = scene.mint(run_cli, *args)
    assert result.code == 2, result.err
    assert needle in result.err
    scene.assert_no_sts_call()
    assert scene.kinds() == []


def test_a_policy_without_credentials_mints_nothing(scene: MintScene, run_cli: RunCli) -> None:
    scene.ready(run_cli, credentials="")
    result = scene.mint(run_cli)
    assert result.code == 2, result.err
    assert "configures no credential provider" in result.err
    scene.assert_no_sts_call()
