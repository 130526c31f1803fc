"""The GCP provider against a loopback stand-in for Google's STS and IAM Credentials.

Request and response shapes follow Google's reference pages (the stand validates them strictly):

- STS ``token`` (form body, no Authorization header):
  https://googleapis.dev/nodejs/googleapis/latest/sts/classes/Resource$V1.html and the
  ``GoogleIdentityStsV1ExchangeTokenRequest`` / ``…Response`` messages,
  https://googleapis.dev/dotnet/Google.Apis.CloudSecurityToken.v1/latest/api/Google.Apis.CloudSecurityToken.v1.Data.GoogleIdentityStsV1ExchangeTokenRequest.html
  and https://docs.rs/crate/google-sts1/latest/target-redirect/i686-unknown-linux-gnu/google_sts1/api/struct.GoogleIdentityStsV1ExchangeTokenResponse.html
- IAM Credentials ``generateAccessToken``:
  https://docs.cloud.google.com/iam/docs/reference/credentials/rest/v1/projects.serviceAccounts/generateAccessToken
- OAuth error bodies as Google's STS returns them (``{"error": "invalid_target",
  "error_description": ...}``): https://github.com/google-github-actions/auth/issues/202
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from envsecops.creds.endpoints import GCP_IAM_CREDENTIALS_ENV, GCP_STS_ENV
from envsecops.creds.gcp import GcpProvider
from envsecops.creds.interface import MintError, MintRequest, ProviderRefused, fingerprint
from envsecops.creds.retry import Backoff
from envsecops.policy.model import ProviderSettings
from tests.integration.creds.gcp_server import GoogleStand, google_error
from tests.integration.creds.leaks import assert_no_secret, exception_texts, issued_texts
from tests.integration.moto_s3 import closed_port
from tests.integration.oidc_issuer.server import LocalIssuer

ACCOUNT = "deployer@octo-project.iam.gserviceaccount.com"


@pytest.fixture
def google() -> Iterator[GoogleStand]:
    """A running stand-in for sts.googleapis.com and iamcredentials.googleapis.com."""
    with GoogleStand(service_account=ACCOUNT) as stand:
        yield stand


def _settings(stand: GoogleStand, *, account: str | None = ACCOUNT) -> ProviderSettings:
    values = {"workload-identity-provider": stand.provider}
    if account is not None:
        values["service-account"] = account
    return ProviderSettings("gcp", tuple(sorted(values.items())))


def _request(settings: ProviderSettings) -> MintRequest:
    return MintRequest(
        decision_id="dec_" + "7" * 32,
        env_hash="sha256:" + "cd34" * 16,
        policy_id="octo-policy@sha256:0123456789ab",
        run_id="22259804324",
        run_attempt="1",
        settings=settings,
    )


def _provider(stand: GoogleStand, sleeps: list[float], url: str | None = None) -> GcpProvider:
    base = url or stand.url
    return GcpProvider(
        environ={GCP_STS_ENV: base, GCP_IAM_CREDENTIALS_ENV: base},
        backoff=Backoff(attempts=3, base=0.05, cap=0.1, sleep=sleeps.append),
        read_timeout=2.0,
    )


def _token(issuer: LocalIssuer, stand: GoogleStand, audience: str | None = None) -> str:
    return issuer.mint(issuer.claims(audience or stand.audience))


def test_federate_then_impersonate(
    google: GoogleStand,
    oidc_issuer: LocalIssuer,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps: list[float] = []
    provider = _provider(google, sleeps)
    settings = _settings(google)
    assert provider.audience(settings) == google.audience
    jwt = _token(oidc_issuer, google)
    issued = provider.mint(_request(settings), jwt)

    assert google.violations == []
    assert [google.route(r.path) for r in google.requests] == ["token", "generateAccessToken"]
    assert google.requests[1].json() == {
        "scope": ["https://www.googleapis.com/auth/cloud-platform"],
        "lifetime": "600s",
    }
    (final,) = google.access_tokens
    credential = issued.credential
    assert credential.provider == "gcp"
    assert credential.role == ACCOUNT
    assert credential.key_id == fingerprint(final)
    assert credential.session_name == "envsecops-22259804324-1-cd34cd34cd34"
    expiry = datetime.strptime(credential.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(expiry - (datetime.now(UTC) + timedelta(seconds=600))) < timedelta(seconds=5)
    assert dict(issued.exports) == {
        "CLOUDSDK_AUTH_ACCESS_TOKEN": final,
        "GOOGLE_OAUTH_ACCESS_TOKEN": final,
    }
    assert issued.mask_values() == [credential.key_id, final]
    assert sleeps == []
    out, err = capfd.readouterr()
    assert_no_secret({jwt, *google.secrets()}, out, err, caplog.text, issued_texts(issued))


def test_federated_token_alone_without_a_service_account(
    google: GoogleStand, oidc_issuer: LocalIssuer
) -> None:
    issued = _provider(google, []).mint(
        _request(_settings(google, account=None)), _token(oidc_issuer, google)
    )
    (federated,) = google.federated
    assert google.count("generateAccessToken") == 0
    assert issued.secrets == {"access_token": federated}
    assert issued.credential.role == google.provider
    assert "Google set its lifetime (3599 s)" in issued.notes[0]


def test_a_token_for_another_audience_is_invalid_grant_and_not_retried(
    google: GoogleStand, oidc_issuer: LocalIssuer, capfd: pytest.CaptureFixture[str]
) -> None:
    sleeps: list[float] = []
    jwt = _token(oidc_issuer, google, audience="sts.amazonaws.com")
    with pytest.raises(ProviderRefused) as caught:
        _provider(google, sleeps).mint(_request(_settings(google)), jwt)
    error = caught.value
    assert google.count("token") == 1
    assert sleeps == []
    assert error.status == 400
    assert error.code == "invalid_grant"
    assert error.message.startswith(
        f"Google STS token at {google.url}/v1/token answered HTTP 400: invalid_grant: "
        "The audience in ID Token [sts.amazonaws.com]"
    )
    assert "attribute condition" in (error.fix or "")
    out, err = capfd.readouterr()
    assert_no_secret({jwt}, exception_texts(error), out, err)


def test_permission_denied_on_the_service_account_is_refused(
    google: GoogleStand, oidc_issuer: LocalIssuer, capfd: pytest.CaptureFixture[str]
) -> None:
    message = (
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."
    )
    google.fail("generateAccessToken", google_error(403, "PERMISSION_DENIED", message))
    jwt = _token(oidc_issuer, google)
    with pytest.raises(ProviderRefused) as caught:
        _provider(google, []).mint(_request(_settings(google)), jwt)
    error = caught.value
    assert google.count("generateAccessToken") == 1
    assert error.service == "Google IAM Credentials"
    assert f"answered HTTP 403: PERMISSION_DENIED: {message}" in error.message
    assert "roles/iam.workloadIdentityUser" in (error.fix or "")
    out, err = capfd.readouterr()
    assert_no_secret({jwt, *google.secrets()}, exception_texts(error), out, err)


def test_429_then_success(google: GoogleStand, oidc_issuer: LocalIssuer) -> None:
    sleeps: list[float] = []
    google.fail("token", (429, {"error": "rate_limited", "error_description": "slow down"}))
    issued = _provider(google, sleeps).mint(
        _request(_settings(google)), _token(oidc_issuer, google)
    )
    assert google.count("token") == 2
    assert len(sleeps) == 1
    assert issued.credential.role == ACCOUNT


def test_500_every_time_fails_after_the_attempts(
    google: GoogleStand, oidc_issuer: LocalIssuer
) -> None:
    sleeps: list[float] = []
    google.fail("generateAccessToken", *[google_error(500, "INTERNAL", "Internal error.")] * 3)
    with pytest.raises(MintError) as caught:
        _provider(google, sleeps).mint(_request(_settings(google)), _token(oidc_issuer, google))
    error = caught.value
    assert error.retryable
    assert error.attempts == 3
    assert google.count("generateAccessToken") == 3
    assert len(sleeps) == 2
    assert "HTTP 500: INTERNAL: Internal error. (gave up after 3 attempts)" in error.message


def test_a_service_that_echoes_the_token_is_redacted(
    google: GoogleStand, oidc_issuer: LocalIssuer
) -> None:
    jwt = _token(oidc_issuer, google)
    echo = {"error": "invalid_request", "error_description": f"bad subject_token {jwt}\n\x1b[31m"}
    google.fail("token", (400, echo))
    with pytest.raises(MintError) as caught:
        _provider(google, []).mint(_request(_settings(google)), jwt)
    assert "bad subject_token [redacted]\\n\\x1b[31m" in caught.value.message
    assert_no_secret({jwt}, exception_texts(caught.value))


def test_nothing_listening_is_retryable(google: GoogleStand, oidc_issuer: LocalIssuer) -> None:
    sleeps: list[float] = []
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(MintError) as caught:
        _provider(google, sleeps, url).mint(
            _request(_settings(google)), _token(oidc_issuer, google)
        )
    assert caught.value.retryable
    assert "ConnectionError (no answer)" in caught.value.message
    assert len(sleeps) == 2
