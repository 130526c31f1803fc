"""The Vault provider: GitHub OIDC token → Vault token through the JWT auth method.

``POST {url}/v1/auth/{auth-path}/login`` (the mount defaults to ``jwt``) with ``{"role": ...,
"jwt": ...}``, ``X-Vault-Request: true`` and, when configured, ``X-Vault-Namespace``; the
answer's ``auth`` carries ``client_token`` (the secret), ``accessor`` (a public handle, kept as
the key id) and ``lease_duration``. A Vault token's lifetime is the role's TTL, which the login
cannot ask for, so the provider checks it instead: a token that never expires, or outlives the
requested duration (900 s by default), is revoked at once (``auth/token/revoke-self``) and
refused, with the role setting that fixes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from envsecops.creds.endpoints import require_https_or_loopback
from envsecops.creds.interface import (
    IssuedCredential,
    MintError,
    MintRequest,
    MintRequestInvalid,
    Provider,
    ProviderRefused,
    session_label,
)
from envsecops.creds.retry import NO_RETRY, Backoff
from envsecops.creds.token_exchange import Endpoint, JsonHttp
from envsecops.model.decision import Credential
from envsecops.policy.model import ProviderSettings

EXPORTS = ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE")
"""What a Vault credential exports (VAULT_NAMESPACE only with a namespace), and when asked
outputs."""
SERVICE = "Vault"
DEFAULT_MOUNT = "jwt"
DEFAULT_MAX_LEASE = 900
MAX_LEASE = 12 * 3600
PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
DOT_SEGMENTS = frozenset({".", ".."})


def plain_path(value: str) -> bool:
    """A mount path or namespace: segments of ``[A-Za-z0-9_.-]``, none of them ``.`` or ``..``."""
    return bool(PATH.match(value)) and not DOT_SEGMENTS & set(value.split("/"))


ROLE = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(message: str, fix: str, target: str) -> MintRequestInvalid:
    return MintRequestInvalid(message, fix=fix, service=SERVICE, call="configure", target=target)


def vault_url(settings: ProviderSettings) -> str:
    """The Vault address from the settings: https, or http to a loopback address."""
    url = settings.get("url") or ""
    checked = require_https_or_loopback(
        url, what="`credentials.providers.vault.url`", service=SERVICE
    )
    parts = urlsplit(checked)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise _invalid(
            f"`url` {url!r} carries a query, fragment or user info",
            "give the Vault address only, e.g. https://vault.example.com:8200",
            url,
        )
    return checked


def _login_fix(status: int, code: str) -> str:
    if status in {400, 403}:
        return (
            "the JWT role refused the token: check the role's bound_audiences (the audience "
            "requested), bound_claims / bound_subject (this repository and workflow), and that "
            "the auth method trusts https://token.actions.githubusercontent.com "
            "(oidc_discovery_url or jwks_url)"
        )
    if status == 404:
        return "no auth method is mounted at that path; check `auth-path` (default jwt)"
    if status == 503:
        return "Vault is sealed or in standby; re-run once it is unsealed"
    return ""


class VaultProvider(Provider):
    """Mint a Vault token (see the module docstring)."""

    name = "vault"

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        trust_env: bool = False,
        clock: Clock = _now,
    ) -> None:
        self.http = JsonHttp(
            backoff=backoff,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            trust_env=trust_env,
        )
        self.once = JsonHttp(
            backoff=NO_RETRY,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            trust_env=trust_env,
        )
        self.clock = clock

    def audience(self, settings: ProviderSettings) -> str:
        """``audience`` from the settings, else the Vault address (bind it in bound_audiences)."""
        return settings.get("audience") or vault_url(settings)

    def mint(self, request: MintRequest, token: str) -> IssuedCredential:
        """Log in with the JWT; refuse (and revoke) a token that lives longer than asked."""
        url = vault_url(request.settings)
        role = request.setting("role") or ""
        mount = request.setting("auth-path") or DEFAULT_MOUNT
        namespace = request.setting("namespace")
        if not ROLE.match(role):
            raise _invalid(f"`role` {role!r} is not a Vault role name", "set `role:`", "role")
        if not plain_path(mount) or (namespace is not None and not plain_path(namespace)):
            raise _invalid(
                f"`auth-path` {mount!r} or `namespace` {namespace!r} is not a plain path",
                "use a mount path like jwt or github-actions, a namespace like admin/ci",
                "auth-path",
            )
        limit = DEFAULT_MAX_LEASE if request.duration_seconds is None else request.duration_seconds
        if isinstance(limit, bool) or not 1 <= limit <= MAX_LEASE:
            raise _invalid(f"duration {limit!r} s is outside 1-{MAX_LEASE} s", "ask for less", url)
        if not token:
            raise _invalid("no OIDC token to exchange", "request the OIDC token first", url)
        headers = {"X-Vault-Request": "true"}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        login = f"{url}/v1/auth/{mount}/login"
        answer = self.http.post(
            Endpoint(
                SERVICE,
                f"auth/{mount}/login",
                login,
                (token,),
                _login_fix,
                refusals=frozenset({400, 401, 403}),  # Vault answers a rejected JWT with 400
            ),
            body={"role": role, "jwt": token},
            headers=headers,
        )
        auth = answer.get("auth")
        client_token = auth.get("client_token") if isinstance(auth, dict) else None
        accessor = auth.get("accessor") if isinstance(auth, dict) else None
        lease = auth.get("lease_duration") if isinstance(auth, dict) else None
        if (
            not isinstance(client_token, str)
            or not client_token
            or not isinstance(accessor, str)
            or not accessor
            or not isinstance(lease, int)
            or isinstance(lease, bool)
        ):
            raise MintError(
                f"{SERVICE} auth/{mount}/login at {login} answered without auth.client_token, "
                "auth.accessor and auth.lease_duration",
                fix="the URL does not point at Vault's JWT auth method; check `url`/`auth-path`",
                service=SERVICE,
                call=f"auth/{mount}/login",
                target=login,
            )
        if lease <= 0 or lease > limit:
            self._refuse_lease(url, headers, client_token, token, lease, limit, role, mount)
        credential = Credential(
            provider=self.name,
            role=f"auth/{mount}/role/{role}",
            session_name=session_label(request.run_id, request.run_attempt, request.env_hash_hex),
            key_id=accessor,
            expires_at=(self.clock() + timedelta(seconds=lease)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        address, token_name, namespace_name = EXPORTS
        exports = {address: url, token_name: client_token}
        if namespace:
            exports[namespace_name] = namespace
        return IssuedCredential(
            credential=credential, secrets={"client_token": client_token}, exports=exports
        )

    def _refuse_lease(
        self,
        url: str,
        headers: dict[str, str],
        client_token: str,
        token: str,
        lease: int,
        limit: int,
        role: str,
        mount: str,
    ) -> None:
        revoke = f"{url}/v1/auth/token/revoke-self"
        try:
            self.once.post(
                Endpoint(SERVICE, "auth/token/revoke-self", revoke, (token, client_token)),
                body={},
                headers={**headers, "X-Vault-Token": client_token},
            )
            revoked = "it was revoked"
        except MintError as exc:
            revoked = f"revoking it failed ({exc.message}); it expires on its own"
        lived = "never expires" if lease <= 0 else f"lives {lease} s"
        raise ProviderRefused(
            f"{SERVICE} auth/{mount}/login issued a token that {lived}, more than the "
            f"{limit} s asked for; {revoked} and nothing is exported",
            fix=f"set token_ttl and token_max_ttl ≤ {limit}s on the role: vault write "
            f"auth/{mount}/role/{role} token_ttl={limit}s token_max_ttl={limit}s",
            service=SERVICE,
            call=f"auth/{mount}/login",
            target=f"{url}/v1/auth/{mount}/login",
        )
