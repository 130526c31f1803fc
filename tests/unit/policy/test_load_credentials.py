"""The `credentials:` section: single-hop aws, `allowed-account-ids`, and Vault path rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.creds.aws_client import AwsSettings
from envsecops.errors import InputError
from tests.unit.policy.load_support import load

N = "name: x\n"
ROLE = "arn:aws:iam::123456789012:role/deploy"
GATE = "arn:aws:iam::123456789012:role/envsecops-gate"


def _aws(*lines: str) -> str:
    body = "".join(f"      {line}\n" for line in lines)
    return N + "credentials:\n  providers:\n    aws:\n" + body


def _vault(**extra: str) -> str:
    body = "".join(f"      {key}: {value}\n" for key, value in extra.items())
    return (
        N + "credentials:\n  providers:\n    vault:\n"
        "      url: https://vault.example.com\n      role: ci\n" + body
    )


def test_aws_without_a_gate_role_loads_as_single_hop(tmp_path: Path) -> None:
    policy = load(tmp_path, _aws(f"role-arn: {ROLE}", "region: eu-west-1"))
    (aws,) = policy.credentials.providers
    assert aws.get("gate-role-arn") is None
    parsed = AwsSettings.parse(aws)
    assert parsed.gate_role_arn is None
    assert parsed.role_arn == ROLE


@pytest.mark.parametrize(
    ("written", "stored", "accounts"),
    [
        ("123456789012", "123456789012", {"123456789012"}),
        ('"123456789012, 210987654321"', "123456789012,210987654321", None),
        ('"123456789012,210987654321"', "123456789012,210987654321", None),
    ],
)
def test_allowed_account_ids_reach_the_provider_settings(
    tmp_path: Path, written: str, stored: str, accounts: set[str] | None
) -> None:
    text = _aws(
        f"gate-role-arn: {GATE}",
        f"role-arn: {ROLE}",
        "region: eu-west-1",
        f"allowed-account-ids: {written}",
    )
    (aws,) = load(tmp_path, text).credentials.providers
    assert aws.get("allowed-account-ids") == stored
    expected = accounts or set(stored.split(","))
    assert AwsSettings.parse(aws).allowed_accounts == expected


@pytest.mark.parametrize(
    "written",
    ["'12345678901'", "'123456789012;210987654321'", "'123456789012,'", "'abc'", "''"],
)
def test_malformed_account_lists_are_refused_with_the_line(tmp_path: Path, written: str) -> None:
    text = _aws(f"role-arn: {ROLE}", "region: eu-west-1", f"allowed-account-ids: {written}")
    with pytest.raises(InputError) as caught:
        load(tmp_path, text)
    assert ":7:" in caught.value.message
    assert "allowed-account-ids" in caught.value.message


@pytest.mark.parametrize("path", ["jwt", "jwt/github", "auth.v2/x-y_z", "a..b"])
def test_plain_vault_paths_load(tmp_path: Path, path: str) -> None:
    policy = load(tmp_path, _vault(**{"auth-path": path, "namespace": path}))
    (vault,) = policy.credentials.providers
    assert vault.get("auth-path") == path


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("auth-path", ".."),
        ("auth-path", "jwt/.."),
        ("auth-path", "../sys"),
        ("auth-path", "jwt/./x"),
        ("auth-path", "'jwt//x'"),
        ("auth-path", "/jwt"),
        ("auth-path", "jwt/"),
        ("namespace", "admin/../root"),
        ("namespace", "."),
    ],
)
def test_vault_paths_with_dot_or_empty_segments_are_refused(
    tmp_path: Path, key: str, path: str
) -> None:
    with pytest.raises(InputError) as caught:
        load(tmp_path, _vault(**{key: path}))
    assert f"credentials.providers.vault.{key}" in caught.value.message
    assert "segment" in caught.value.message
