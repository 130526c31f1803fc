"""The GCP provider: GitHub OIDC token → Workload Identity Federation → optional service account.

First an RFC 8693 token exchange at Google's Security Token Service, ``POST
https://sts.googleapis.com/v1/token`` with a form body (``grant_type`` token-exchange,
``audience`` the workload identity provider's full resource name, ``scope`` cloud-platform,
``requested_token_type`` access_token, ``subject_token_type`` jwt, ``subject_token`` the OIDC
JWT); the answer carries ``access_token``, ``issued_token_type``, ``token_type`` (Bearer) and
``expires_in``. With a ``service-account`` the federated token then impersonates it through
IAM Credentials, ``POST https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/
SA:generateAccessToken`` with ``{"scope": [...], "lifetime": "600s"}`` and ``Authorization:
Bearer <federated token>``; the answer is ``{"accessToken", "expireTime"}``. Without one, the
federated token itself is issued; its lifetime is Google's and a note says so. The access
token has no public id, so the record keeps a SHA-256 fingerprint of it as the key id.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from envsecops.creds.endpoints import (
    GCP_IAM_CREDENTIALS_ENV,
    GCP_STS_ENV,
    TESTING_ONLY,
    override,
)
from envsecops.creds.interface import (
    IssuedCredential,
    MintError,
    MintRequest,
    MintRequestInvalid,
    Provider,
    fingerprint,
    session_label,
)
from envsecops.creds.retry import Backoff
from envsecops.creds.token_exchange import Endpoint, JsonHttp
from envsecops.model.decision import Credential
from envsecops.policy.model import ProviderSettings

EXPORTS = ("CLOUDSDK_AUTH_ACCESS_TOKEN", "GOOGLE_OAUTH_ACCESS_TOKEN")
"""What a GCP credential exports (both hold the access token), and when asked outputs."""
SERVICE_STS = "Google STS"
SERVICE_IAM = "Google IAM Credentials"
STS_URL = "https://sts.googleapis.com"
IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 - a URN
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 - a URN
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_LIFETIME = 600
MAX_LIFETIME = 3600
IAM_PREFIX = "//iam.googleapis.com/"
PROVIDER_PATH = re.compile(
    r"^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$"
)
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
EXPIRE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?Z$")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid(message: str, fix: str, target: str) -> MintRequestInvalid:
    return MintRequestInvalid(
        message, fix=fix, service=SERVICE_STS, call="configure", target=target
    )


def provider_path(settings: ProviderSettings) -> str:
    """``projects/N/locations/global/workloadIdentityPools/P/providers/X``, checked."""
    value = settings.get("workload-identity-provider") or ""
    path = value.removeprefix(IAM_PREFIX)
    if not PROVIDER_PATH.match(path):
        raise _invalid(
            f"`workload-identity-provider` {value!r} is not a workload identity provider name",
            "use projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER",
            "workload-identity-provider",
        )
    return path


def _sts_fix(status: int, code: str) -> str:
    if code == "invalid_grant":
        return (
            "the provider rejected the token: its attribute condition or mapping does not "
            "accept this job's claims, the issuer is not https://token.actions.githubusercontent"
            ".com, or the token's audience is not one the provider allows"
        )
    if code == "invalid_target":
        return "the workload identity pool or provider does not exist or is disabled"
    if status in {401, 403}:
        return "the workload identity pool refused the exchange; check the provider's settings"
    return ""


def _iam_fix(status: int, code: str) -> str:
    if status == 403 or code == "PERMISSION_DENIED":
        return (
            "grant the federated principal (principalSet://iam.googleapis.com/projects/NUMBER/"
            "locations/global/workloadIdentityPools/POOL/attribute.repository/OWNER/REPO) "
            "roles/iam.workloadIdentityUser on the service account"
        )
    if status == 404:
        return "the service account does not exist; check `service-account`"
    return ""


def expire_time(text: object, call: str, url: str) -> str:
    """An RFC 3339 ``expireTime`` (up to nanoseconds) as ISO 8601 Z to the second."""
    match = EXPIRE_TIME.match(text) if isinstance(text, str) else None
    if match is None:
        raise MintError(
            f"{SERVICE_IAM} {call} at {url} answered an unreadable expireTime",
            fix="the URL does not point at IAM Credentials; check the endpoint",
            service=SERVICE_IAM,
            call=call,
            target=url,
        )
    return match.group(1) + "Z"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GcpProvider(Provider):
    """Mint a Google Cloud access token (see the module docstring)."""

    name = "gcp"

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        backoff: Backoff | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        trust_env: bool = False,
        clock: Clock = _now,
    ) -> None:
        env = os.environ if environ is None else environ
        self.sts_override = override(env, GCP_STS_ENV, service=SERVICE_STS)
        self.iam_override = override(env, GCP_IAM_CREDENTIALS_ENV, service=SERVICE_IAM)
        self.http = JsonHttp(
            backoff=backoff,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            trust_env=trust_env,
        )
        self.clock = clock

    def audience(self, settings: ProviderSettings) -> str:
        """``audience`` from the settings, else ``https://iam.googleapis.com/<provider name>``."""
        return settings.get("audience") or "https://iam.googleapis.com/" + provider_path(settings)

    def mint(self, request: MintRequest, token: str) -> IssuedCredential:
        """Federate, then impersonate when a service account is configured."""
        path = provider_path(request.settings)
        account = request.setting("service-account")
        if account is not None and not EMAIL.match(account):
            raise _invalid(
                f"`service-account` {account!r} is not a service account e-mail address",
                "use NAME@PROJECT.iam.gserviceaccount.com",
                "service-account",
            )
        lifetime = (
            DEFAULT_LIFETIME if request.duration_seconds is None else request.duration_seconds
        )
        if isinstance(lifetime, bool) or not 1 <= lifetime <= MAX_LIFETIME:
            raise _invalid(
                f"lifetime {lifetime!r} s is outside 1-{MAX_LIFETIME} s",
                "ask for at most an hour (600 s by default)",
                "lifetime",
            )
        if not token:
            raise _invalid("no OIDC token to exchange", "request the OIDC token first", path)
        federated, expires_in = self._federate(path, token)
        notes: list[str] = []
        if account is None:
            final, expires_at, role = federated, self.clock() + timedelta(seconds=expires_in), path
            notes.append(
                f"lifetime: no service-account, so the federated token is issued as it is; "
                f"Google set its lifetime ({expires_in} s), nothing requested it"
            )
            expiry = _iso(expires_at)
        else:
            final, expiry = self._impersonate(account, lifetime, token, federated)
            role = account
        if self.sts_override or self.iam_override:
            notes.append(f"endpoint: {GCP_STS_ENV}/{GCP_IAM_CREDENTIALS_ENV} set ({TESTING_ONLY})")
        credential = Credential(
            provider=self.name,
            role=role,
            session_name=session_label(request.run_id, request.run_attempt, request.env_hash_hex),
            key_id=fingerprint(final),
            expires_at=expiry,
        )
        return IssuedCredential(
            credential=credential,
            secrets={"access_token": final},
            exports=dict.fromkeys(EXPORTS, final),
            notes=tuple(notes),
        )

    def _federate(self, path: str, token: str) -> tuple[str, int]:
        url = (self.sts_override or STS_URL) + "/v1/token"
        endpoint = Endpoint(SERVICE_STS, "token", url, (token,), _sts_fix)
        answer = self.http.post(
            endpoint,
            form={
                "grant_type": GRANT_TYPE,
                "audience": IAM_PREFIX + path,
                "scope": CLOUD_PLATFORM,
                "requested_token_type": ACCESS_TOKEN_TYPE,
                "subject_token_type": JWT_TOKEN_TYPE,
                "subject_token": token,
            },
        )
        access = answer.get("access_token")
        expires_in = answer.get("expires_in")
        token_type = answer.get("token_type", "Bearer")
        issued_type = answer.get("issued_token_type", ACCESS_TOKEN_TYPE)
        if (
            not isinstance(access, str)
            or not access
            or not isinstance(expires_in, int)
            or isinstance(expires_in, bool)
            or expires_in <= 0
            or not isinstance(token_type, str)
            or token_type.lower() != "bearer"
            or issued_type != ACCESS_TOKEN_TYPE
        ):
            raise MintError(
                f"{SERVICE_STS} token at {url} answered without a Bearer access token and "
                "a positive expires_in",
                fix="the URL does not point at Google's STS; check the endpoint",
                service=SERVICE_STS,
                call="token",
                target=url,
            )
        return access, expires_in

    def _impersonate(
        self, account: str, lifetime: int, token: str, federated: str
    ) -> tuple[str, str]:
        base = self.iam_override or IAM_CREDENTIALS_URL
        url = f"{base}/v1/projects/-/serviceAccounts/{quote(account, safe='@')}:generateAccessToken"
        endpoint = Endpoint(SERVICE_IAM, "generateAccessToken", url, (token, federated), _iam_fix)
        answer = self.http.post(
            endpoint,
            body={"scope": [CLOUD_PLATFORM], "lifetime": f"{lifetime}s"},
            headers={"Authorization": f"Bearer {federated}"},
        )
        access = answer.get("accessToken")
        if not isinstance(access, str) or not access:
            raise MintError(
                f"{SERVICE_IAM} generateAccessToken at {url} answered without an accessToken",
                fix="the URL does not point at IAM Credentials; check the endpoint",
                service=SERVICE_IAM,
                call="generateAccessToken",
                target=url,
            )
        return access, expire_time(answer.get("expireTime"), "generateAccessToken", url)
