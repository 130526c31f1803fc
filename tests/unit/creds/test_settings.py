"""Provider settings, endpoints and the registry: everything checked before any network call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from envsecops.creds import PROVIDERS, provider_for
from envsecops.creds.aws import AwsProvider
from envsecops.creds.aws_client import AwsSettings, partition_of, sts_endpoint
from envsecops.creds.endpoints import (
    AWS_ENDPOINT_ENV,
    GCP_STS_ENV,
    override,
    require_https_or_loopback,
)
from envsecops.creds.gcp import GcpProvider, provider_path
from envsecops.creds.interface import MintRequest, MintRequestInvalid
from envsecops.creds.vault import VaultProvider, vault_url
from envsecops.policy.model import ProviderSettings

GATE = "arn:aws:iam::123456789012:role/envsecops-gate"
TARGET = "arn:aws:iam::123456789012:role/deploy"
WIF = "projects/123/locations/global/workloadIdentityPools/github/providers/octo"


def _aws(**values: str) -> ProviderSettings:
    base = {"role-arn": TARGET, "gate-role-arn": GATE, "region": "eu-west-1"}
    base.update(values)
    return ProviderSettings("aws", tuple(sorted((k, v) for k, v in base.items() if v)))


def test_aws_settings_parse() -> None:
    settings = AwsSettings.parse(_aws(**{"allowed-account-ids": "123456789012, 111122223333"}))
    assert settings.role_arn == TARGET
    assert settings.gate_role_arn == GATE
    assert settings.audience == "sts.amazonaws.com"
    assert settings.allowed_accounts == {"123456789012", "111122223333"}
    assert AwsSettings.parse(_aws(**{"gate-role-arn": ""})).gate_role_arn is None
    assert AwsSettings.parse(_aws(audience="https://github.com/octo-org")).audience == (
        "https://github.com/octo-org"
    )


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"role-arn": ""}, "role-arn` is missing"),
        ({"role-arn": "arn:aws:iam::12:role/x"}, "not an IAM role ARN"),
        ({"gate-role-arn": "arn:aws:iam::123456789012:user/x"}, "not an IAM role ARN"),
        ({"region": "europe"}, "not an AWS region"),
        ({"region": "cn-north-1"}, "partition aws, region cn-north-1"),
        ({"allowed-account-ids": "1234"}, "not 12-digit ids"),
        ({"session-policy": "{}"}, "unknown aws setting(s) session-policy"),
    ],
)
def test_aws_settings_refused(values: dict[str, str], words: str) -> None:
    with pytest.raises(MintRequestInvalid) as caught:
        AwsSettings.parse(_aws(**values))
    assert words in caught.value.message
    assert caught.value.fix


def test_sts_endpoints_are_regional_and_per_partition() -> None:
    assert sts_endpoint("eu-west-1") == "https://sts.eu-west-1.amazonaws.com"
    assert sts_endpoint("cn-north-1") == "https://sts.cn-north-1.amazonaws.com.cn"
    assert partition_of("us-gov-west-1") == "aws-us-gov"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:5000", "https://localhost:8443/", "http://[::1]:9", "http://127.9.9.9"],
)
def test_loopback_overrides_are_accepted(url: str) -> None:
    assert override({AWS_ENDPOINT_ENV: url}, AWS_ENDPOINT_ENV, service="AWS STS") == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "https://sts.amazonaws.com",
        "http://10.0.0.1:80",
        "http://attacker.example@127.0.0.1.example.net",
        "ftp://127.0.0.1",
        "127.0.0.1:5000",
        "http://[::1",
    ],
)
def test_other_overrides_are_refused(url: str) -> None:
    with pytest.raises(MintRequestInvalid) as caught:
        AwsProvider(environ={AWS_ENDPOINT_ENV: url})
    assert "testing only" in caught.value.message
    assert f"unset {AWS_ENDPOINT_ENV}" in (caught.value.fix or "")
    with pytest.raises(MintRequestInvalid):
        GcpProvider(environ={GCP_STS_ENV: url})


def test_no_override_means_none() -> None:
    assert override({}, AWS_ENDPOINT_ENV, service="AWS STS") is None
    assert AwsProvider(environ={}).endpoint_override is None


def test_https_or_loopback() -> None:
    assert require_https_or_loopback("https://vault.example.com/", what="u", service="V") == (
        "https://vault.example.com"
    )
    with pytest.raises(MintRequestInvalid, match="not an https://"):
        require_https_or_loopback("http://vault.example.com", what="u", service="V")


def test_gcp_provider_name_and_audience() -> None:
    settings = ProviderSettings(
        "gcp", (("workload-identity-provider", "//iam.googleapis.com/" + WIF),)
    )
    assert provider_path(settings) == WIF
    assert GcpProvider(environ={}).audience(settings) == f"https://iam.googleapis.com/{WIF}"
    custom = ProviderSettings("gcp", (("audience", "my-aud"), ("workload-identity-provider", WIF)))
    assert GcpProvider(environ={}).audience(custom) == "my-aud"
    with pytest.raises(MintRequestInvalid, match="not a workload identity provider"):
        provider_path(ProviderSettings("gcp", (("workload-identity-provider", "projects/x"),)))


def _gcp_request(**values: str) -> MintRequest:
    settings = ProviderSettings(
        "gcp", tuple(sorted({"workload-identity-provider": WIF, **values}.items()))
    )
    return MintRequest("dec_1", "sha256:ab", "p@sha256:cd", "1", "1", settings)


def test_gcp_refuses_bad_settings_before_any_call() -> None:
    provider = GcpProvider(environ={GCP_STS_ENV: "http://127.0.0.1:1"})
    with pytest.raises(MintRequestInvalid, match="not a service account"):
        provider.mint(_gcp_request(**{"service-account": "not-an-email"}), "a.b.c")
    request = _gcp_request()
    with pytest.raises(MintRequestInvalid, match="lifetime 7200"):
        provider.mint(replace(request, duration_seconds=7200), "a.b.c")
    with pytest.raises(MintRequestInvalid, match="no OIDC token"):
        provider.mint(request, "")


def test_vault_url_and_audience() -> None:
    settings = ProviderSettings(
        "vault", (("role", "deploy"), ("url", "https://vault.example.com:8200/"))
    )
    assert vault_url(settings) == "https://vault.example.com:8200"
    assert VaultProvider().audience(settings) == "https://vault.example.com:8200"
    for url in (
        "http://vault.example.com",
        "https://vault.example.com/?x=1",
        "https://u:p@vault.example.com",
    ):
        with pytest.raises(MintRequestInvalid):
            vault_url(ProviderSettings("vault", (("role", "r"), ("url", url))))


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"role": "bad role"}, "not a Vault role name"),
        ({"auth-path": "../sys"}, "not a plain path"),
        ({"auth-path": "jwt/.."}, "not a plain path"),
        ({"namespace": "a//b"}, "not a plain path"),
    ],
)
def test_vault_refuses_bad_settings_before_any_call(values: dict[str, str], words: str) -> None:
    base = {"url": "http://127.0.0.1:1", "role": "deploy", **values}
    settings = ProviderSettings("vault", tuple(sorted(base.items())))
    request = MintRequest("dec_1", "sha256:ab", "p@sha256:cd", "1", "1", settings)
    with pytest.raises(MintRequestInvalid, match=words):
        VaultProvider().mint(request, "a.b.c")


def test_the_registry_names_every_policy_provider() -> None:
    from envsecops.policy.model import PROVIDERS as POLICY_PROVIDERS

    assert set(PROVIDERS) == set(POLICY_PROVIDERS)
    assert provider_for("aws").name == "aws"
    assert provider_for("gcp").name == "gcp"
    assert provider_for("vault").name == "vault"
    with pytest.raises(KeyError, match="known: aws, gcp, vault"):
        provider_for("azure")
