"""The Vault provider against a loopback stand-in for the JWT auth method.

Request and response shapes follow Vault's documentation (the stand validates them strictly):

- JWT/OIDC auth method, "Via the API": ``POST /v1/auth/jwt/login`` with ``{"jwt", "role"}``,
  the token at ``auth.client_token`` with ``accessor`` and ``lease_duration``:
  https://www.vaultproject.io/docs/auth/jwt.html
- the JWT auth method's HTTP API (mount path, error bodies):
  https://git.st8l.com/luxolus/open-vault/src/commit/d736324b509b8ce09fe6b647cb03e51ce9f74bed/website/source/api/auth/jwt/index.html.md
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from envsecops.creds.interface import MintError, MintRequest, ProviderRefused
from envsecops.creds.retry import Backoff
from envsecops.creds.vault import VaultProvider
from envsecops.policy.model import ProviderSettings
from tests.integration.creds.leaks import assert_no_secret, exception_texts, issued_texts
from tests.integration.creds.vault_server import VaultStand
from tests.integration.moto_s3 import closed_port
from tests.integration.oidc_issuer.server import LocalIssuer


@pytest.fixture
def vault() -> Iterator[VaultStand]:
    """A running Vault stand-in with a `deploy` role on the `jwt` mount, 900 s TTL."""
    with VaultStand() as stand:
        yield stand


def _settings(stand: VaultStand, **extra: str) -> ProviderSettings:
    values = {"url": stand.url, "role": "deploy", **extra}
    return ProviderSettings("vault", tuple(sorted(values.items())))


def _request(settings: ProviderSettings, duration: int | None = None) -> MintRequest:
    return MintRequest(
        decision_id="dec_" + "9" * 32,
        env_hash="sha256:" + "ef56" * 16,
        policy_id="octo-policy@sha256:0123456789ab",
        run_id="22259804324",
        run_attempt="3",
        settings=settings,
        duration_seconds=duration,
    )


def _provider(sleeps: list[float]) -> VaultProvider:
    return VaultProvider(
        backoff=Backoff(attempts=3, base=0.05, cap=0.1, sleep=sleeps.append), read_timeout=2.0
    )


def _jwt(issuer: LocalIssuer, audience: str) -> str:
    return issuer.mint(issuer.claims(audience))


def test_jwt_login(
    vault: VaultStand,
    oidc_issuer: LocalIssuer,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps: list[float] = []
    provider = _provider(sleeps)
    settings = _settings(vault)
    assert provider.audience(settings) == vault.url
    jwt = _jwt(oidc_issuer, vault.url)
    issued = provider.mint(_request(settings), jwt)

    assert vault.violations == []
    assert vault.count("login") == 1
    assert vault.requests[0].json() == {"role": "deploy", "jwt": jwt}
    (token,) = vault.issued
    credential = issued.credential
    assert credential.provider == "vault"
    assert credential.role == "auth/jwt/role/deploy"
    assert credential.key_id not in {"", token}
    assert credential.session_name == "envsecops-22259804324-3-ef56ef56ef56"
    expiry = datetime.strptime(credential.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(expiry - (datetime.now(UTC) + timedelta(seconds=900))) < timedelta(seconds=5)
    assert dict(issued.exports) == {"VAULT_ADDR": vault.url, "VAULT_TOKEN": token}
    assert sleeps == []
    assert vault.revoked == []
    out, err = capfd.readouterr()
    assert_no_secret({jwt, token}, out, err, caplog.text, issued_texts(issued))


def test_another_mount_and_a_namespace(vault: VaultStand, oidc_issuer: LocalIssuer) -> None:
    vault.mount, vault.namespace = "github-actions", "admin/ci"
    settings = _settings(vault, **{"auth-path": "github-actions", "namespace": "admin/ci"})
    issued = _provider([]).mint(_request(settings), _jwt(oidc_issuer, vault.url))
    assert vault.violations == []
    assert vault.requests[0].path == "/v1/auth/github-actions/login"
    assert issued.exports["VAULT_NAMESPACE"] == "admin/ci"
    assert issued.credential.role == "auth/github-actions/role/deploy"


def test_a_token_the_role_rejects_is_refused_once(
    vault: VaultStand, oidc_issuer: LocalIssuer, capfd: pytest.CaptureFixture[str]
) -> None:
    sleeps: list[float] = []
    jwt = _jwt(oidc_issuer, "sts.amazonaws.com")
    with pytest.raises(ProviderRefused) as caught:
        _provider(sleeps).mint(_request(_settings(vault)), jwt)
    error = caught.value
    assert vault.count("login") == 1
    assert sleeps == []
    assert error.message == (
        f"Vault auth/jwt/login at {vault.url}/v1/auth/jwt/login answered HTTP 400: error "
        "validating token: invalid audience (aud) claim: audience claim does not match any "
        "expected audience"
    )
    assert "bound_audiences" in (error.fix or "")
    out, err = capfd.readouterr()
    assert_no_secret({jwt}, exception_texts(error), out, err)


def test_permission_denied(vault: VaultStand, oidc_issuer: LocalIssuer) -> None:
    vault.fail("login", (403, {"errors": ["permission denied"]}))
    with pytest.raises(ProviderRefused) as caught:
        _provider([]).mint(_request(_settings(vault)), _jwt(oidc_issuer, vault.url))
    assert caught.value.status == 403
    assert caught.value.message.endswith("answered HTTP 403: permission denied")


def test_429_then_success(vault: VaultStand, oidc_issuer: LocalIssuer) -> None:
    sleeps: list[float] = []
    vault.fail(
        "login", (429, {"errors": ['request path "auth/jwt/login": rate limit quota exceeded']})
    )
    issued = _provider(sleeps).mint(_request(_settings(vault)), _jwt(oidc_issuer, vault.url))
    assert vault.count("login") == 2
    assert len(sleeps) == 1
    assert issued.secrets["client_token"] == vault.issued[0]


def test_sealed_every_time_fails_after_the_attempts(
    vault: VaultStand, oidc_issuer: LocalIssuer
) -> None:
    sleeps: list[float] = []
    vault.fail("login", *[(503, {"errors": ["Vault is sealed"]})] * 3, (500, {"errors": ["x"]}))
    with pytest.raises(MintError) as caught:
        _provider(sleeps).mint(_request(_settings(vault)), _jwt(oidc_issuer, vault.url))
    error = caught.value
    assert error.retryable
    assert vault.count("login") == 3
    assert len(sleeps) == 2
    assert "HTTP 503: Vault is sealed (gave up after 3 attempts)" in error.message
    assert "unsealed" in (error.fix or "")


@pytest.mark.parametrize(("ttl", "lived"), [(3600, "lives 3600 s"), (0, "never expires")])
def test_a_token_living_longer_than_asked_is_revoked_and_refused(
    vault: VaultStand,
    oidc_issuer: LocalIssuer,
    capfd: pytest.CaptureFixture[str],
    ttl: int,
    lived: str,
) -> None:
    vault.ttl = ttl
    jwt = _jwt(oidc_issuer, vault.url)
    with pytest.raises(ProviderRefused) as caught:
        _provider([]).mint(_request(_settings(vault)), jwt)
    error = caught.value
    assert vault.revoked == vault.issued
    assert len(vault.revoked) == 1
    assert (
        f"issued a token that {lived}, more than the 900 s asked for; it was revoked"
        in error.message
    )
    assert "token_ttl=900s" in (error.fix or "")
    out, err = capfd.readouterr()
    assert_no_secret({jwt, *vault.issued}, exception_texts(error), out, err)


def test_a_longer_duration_allows_a_longer_lease(
    vault: VaultStand, oidc_issuer: LocalIssuer
) -> None:
    vault.ttl = 3600
    issued = _provider([]).mint(
        _request(_settings(vault), duration=3600), _jwt(oidc_issuer, vault.url)
    )
    assert vault.revoked == []
    assert issued.secrets["client_token"] == vault.issued[0]


def test_proxies_and_ca_bundles_from_the_environment_are_ignored(
    vault: VaultStand, oidc_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    nowhere = f"http://127.0.0.1:{closed_port()}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"):
        monkeypatch.setenv(name, nowhere)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent.pem")
    issued = _provider([]).mint(_request(_settings(vault)), _jwt(oidc_issuer, vault.url))
    assert vault.count("login") == 1
    assert issued.secrets["client_token"] == vault.issued[0]
