"""The AWS provider against moto's STS on loopback: two hops, one hop, the stamp, the limits.

Every request goes through :class:`tests.integration.creds.sts_proxy.StsProxy`, which records the
form fields STS received, so the tests assert what was *sent* (Tags, TransitiveTagKeys,
SourceIdentity, RoleSessionName, DurationSeconds) — moto accepts them but keeps no record — and
prove that refused requests never reached the network at all.
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from pathlib import Path

import pytest

from envsecops.creds.aws_names import MAX_TAG_VALUE
from envsecops.creds.interface import MintRequestInvalid, ProviderRefused
from tests.integration.creds.conftest import ACCOUNT, DECISION_ID, ENV_HASH, POLICY_ID, Stand
from tests.integration.creds.leaks import assert_no_secret, exception_texts, issued_texts
from tests.integration.creds.sts_proxy import StsProxy
from tests.integration.moto_s3 import FAKE_CREDENTIALS, closed_port

TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]*$")  # Python's \w: letters, digits, _ (Unicode)
NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{2,64}$")


def _tags(form: dict[str, str]) -> dict[str, str]:
    count = len([k for k in form if k.startswith("Tags.member.") and k.endswith(".Key")])
    return {
        form[f"Tags.member.{i}.Key"]: form[f"Tags.member.{i}.Value"] for i in range(1, count + 1)
    }


def _transitive(form: dict[str, str]) -> list[str]:
    return [v for k, v in sorted(form.items()) if k.startswith("TransitiveTagKeys.member.")]


def test_two_hops_mint_a_stamped_session_that_works(
    stand: Stand,
    proxy: StsProxy,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    issued = stand.provider(proxy.url).mint(stand.request(), stand.token)
    logged = caplog.text  # before this test's own boto3 client logs at DEBUG below
    caplog.set_level(logging.WARNING)

    assert proxy.actions() == ["AssumeRoleWithWebIdentity", "AssumeRole"]
    web, chained = proxy.forms
    name = issued.credential.session_name
    assert web["RoleArn"] == stand.gate_arn
    assert web["WebIdentityToken"] == stand.token
    assert web["RoleSessionName"] == name
    assert web["DurationSeconds"] == "900"
    assert chained["RoleArn"] == stand.target_arn
    assert chained["RoleSessionName"] == name
    assert chained["DurationSeconds"] == "900"
    assert chained["SourceIdentity"] == DECISION_ID
    assert _tags(chained) == {
        "env_hash": ENV_HASH,
        "policy_id": POLICY_ID,
        "decision_id": DECISION_ID,
    }
    assert _transitive(chained) == ["env_hash", "policy_id", "decision_id"]
    assert "WebIdentityToken" not in chained

    credential = issued.credential
    target_name = stand.target_arn.rsplit("/", 1)[1]
    assert credential.provider == "aws"
    assert credential.role == stand.target_arn
    assert credential.session_arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/{target_name}/{name}"
    assert credential.source_identity == DECISION_ID
    assert dict(credential.tags) == {
        "env_hash": ENV_HASH,
        "policy_id": POLICY_ID,
        "decision_id": DECISION_ID,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", credential.expires_at)
    assert name == "envsecops-22259804324-2-ab12ab12ab12"
    assert issued.notes == (
        f"endpoint: ENVSECOPS_AWS_ENDPOINT_URL={proxy.url} (testing only: "
        "it is accepted for loopback addresses alone)",
    )
    assert set(issued.exports) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    }
    assert issued.exports["AWS_ACCESS_KEY_ID"] == credential.key_id

    identity = stand.client("sts", dict(issued.exports)).get_caller_identity()
    assert identity["Arn"] == credential.session_arn
    assert identity["Account"] == ACCOUNT

    out, err = capfd.readouterr()
    assert_no_secret(
        {stand.token, *issued.secrets.values(), *proxy.secrets},
        out,
        err,
        logged,
        issued_texts(issued),
    )
    assert len(proxy.secrets) == 4  # the gate's and the target's secret key and session token


def test_one_hop_when_no_gate_role_is_configured(stand: Stand, proxy: StsProxy) -> None:
    request = stand.request(stand.settings(gate=False), duration_seconds=1800)
    issued = stand.provider(proxy.url).mint(request, stand.token)

    assert proxy.actions() == ["AssumeRoleWithWebIdentity"]
    (form,) = proxy.forms
    assert form["RoleArn"] == stand.target_arn
    assert form["DurationSeconds"] == "1800"
    assert not any(k.startswith(("Tags.", "TransitiveTagKeys.")) for k in form)
    assert "SourceIdentity" not in form
    assert issued.credential.tags == ()
    assert issued.credential.source_identity is None
    assert issued.notes[0].startswith("tags: single-hop session")
    identity = stand.client("sts", dict(issued.exports)).get_caller_identity()
    assert identity["Arn"] == issued.credential.session_arn


@pytest.mark.parametrize("seconds", [899, 3601, 0, 43200])
def test_duration_outside_900_to_3600_is_refused_before_any_request(
    stand: Stand, proxy: StsProxy, seconds: int
) -> None:
    with pytest.raises(MintRequestInvalid) as caught:
        stand.provider(proxy.url).mint(stand.request(duration_seconds=seconds), stand.token)
    assert proxy.seen == []
    assert "DurationSeconds" in caught.value.message
    assert caught.value.exit_code == 2


def test_the_longest_chained_session_is_asked_for_exactly(stand: Stand, proxy: StsProxy) -> None:
    stand.provider(proxy.url).mint(stand.request(duration_seconds=3600), stand.token)
    web, chained = proxy.forms
    assert (web["DurationSeconds"], chained["DurationSeconds"]) == ("900", "3600")


def test_tag_values_are_sanitised_and_the_rewrites_recorded(stand: Stand, proxy: StsProxy) -> None:
    policy = "deploy policy <prod>;#1@sha256:0123456789ab"
    env_hash = "sha256:" + "é" * 300  # letters are allowed, but 307 characters are not
    decision = "dec:42/ünïcode#id"
    request = stand.request(policy_id=policy, env_hash=env_hash, decision_id=decision)
    issued = stand.provider(proxy.url).mint(request, stand.token)

    tags = _tags(proxy.calls("AssumeRole")[0])
    assert tags["policy_id"] == "deploy policy _prod___1@sha256:0123456789ab"
    assert len(tags["env_hash"]) == MAX_TAG_VALUE
    assert re.fullmatch(r"sha256:é+\+[0-9a-f]{16}", tags["env_hash"])
    assert tags["decision_id"] == "dec:42/ünïcode_id"
    for value in tags.values():
        assert TAG_VALUE.match(value)
    assert proxy.calls("AssumeRole")[0]["SourceIdentity"] == "dec_42__n_code_id"
    assert dict(issued.credential.tags) == tags
    assert issued.credential.source_identity == "dec_42__n_code_id"
    notes = "\n".join(issued.notes)
    assert "tag policy_id: 4 character(s)" in notes
    assert "tag env_hash: cut to 256 characters" in notes
    assert "tag decision_id: 1 character(s)" in notes
    assert "source identity: 5 character(s)" in notes


def test_session_name_fits_64_characters_of_the_allowed_set(stand: Stand, proxy: StsProxy) -> None:
    request = stand.request(run_id="9" * 80, run_attempt="12345/6")
    issued = stand.provider(proxy.url).mint(request, stand.token)
    names = {form["RoleSessionName"] for form in proxy.forms}
    assert names == {issued.credential.session_name}
    (name,) = names
    assert NAME.match(name)
    assert name.startswith("envsecops-" + "9" * 24 + "-1234-ab12")


def test_allowed_account_ids_are_checked_with_get_caller_identity(
    stand: Stand, proxy: StsProxy
) -> None:
    settings = stand.settings({"allowed-account-ids": f"111122223333, {ACCOUNT}"})
    issued = stand.provider(proxy.url).mint(stand.request(settings), stand.token)
    assert proxy.actions() == ["AssumeRoleWithWebIdentity", "AssumeRole", "GetCallerIdentity"]
    assert issued.credential.session_arn


def test_a_role_outside_the_allowed_accounts_is_refused_before_any_request(
    stand: Stand, proxy: StsProxy
) -> None:
    settings = stand.settings({"allowed-account-ids": "111122223333"})
    with pytest.raises(MintRequestInvalid) as caught:
        stand.provider(proxy.url).mint(stand.request(settings), stand.token)
    assert proxy.seen == []
    assert ACCOUNT in caught.value.message
    assert stand.gate_arn in caught.value.message


def test_an_identity_in_another_account_is_refused(stand: Stand, proxy: StsProxy) -> None:
    proxy.rewrites["GetCallerIdentity"] = (
        f"<Account>{ACCOUNT}</Account>".encode(),
        b"<Account>999999999999</Account>",
    )
    settings = stand.settings({"allowed-account-ids": ACCOUNT})
    with pytest.raises(ProviderRefused) as caught:
        stand.provider(proxy.url).mint(stand.request(settings), stand.token)
    assert proxy.actions()[-1] == "GetCallerIdentity"
    assert "answered account 999999999999" in caught.value.message
    assert "not exported" in caught.value.message
    assert_no_secret({stand.token, *proxy.secrets}, exception_texts(caught.value))


def test_median_two_hop_mint_time(stand: Stand) -> None:
    provider = stand.provider()
    times = []
    for _ in range(10):
        start = time.perf_counter()
        provider.mint(stand.request(), stand.token)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"two-hop mint against moto: median {median * 1000:.1f} ms of 10")
    assert median < 2.0


def test_nothing_ambient_steers_or_signs_the_calls(
    stand: Stand, proxy: StsProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    config = tmp_path / "config"
    config.write_text(f"[default]\nendpoint_url = {nowhere}\nca_bundle = /nonexistent.pem\n")
    hostile = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_PROFILE": "ghost",
        "AWS_ENDPOINT_URL": nowhere,
        "AWS_ENDPOINT_URL_STS": nowhere,
        "AWS_CA_BUNDLE": "/nonexistent.pem",
        "AWS_MAX_ATTEMPTS": "10",
        "HTTP_PROXY": nowhere,
        "HTTPS_PROXY": nowhere,
        "ALL_PROXY": nowhere,
        "AWS_SESSION_TOKEN": "ambient-session-token",
    }
    for name, value in hostile.items():
        monkeypatch.setenv(name, value)
    issued = stand.provider(proxy.url).mint(stand.request(), stand.token)

    assert proxy.actions() == ["AssumeRoleWithWebIdentity", "AssumeRole"]
    assert proxy.signer("AssumeRoleWithWebIdentity") is None  # unsigned: the token is the proof
    gate_key = proxy.signer("AssumeRole")
    assert gate_key is not None
    assert gate_key.startswith("ASIA")
    assert gate_key not in {FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], issued.credential.key_id}
