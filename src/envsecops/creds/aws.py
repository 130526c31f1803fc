"""The AWS provider: GitHub OIDC token → gate role → target role session stamped with the bag.

Web identity alone cannot carry session tags (GitHub's token has no tags claim), so the stamped
path is two hops. ``AssumeRoleWithWebIdentity`` with the OIDC token into the narrow *gate* role,
whose only right is to assume the target; then ``AssumeRole`` on the target with ``Tags``
{env_hash, policy_id, decision_id}, the same keys as ``TransitiveTagKeys``, ``SourceIdentity`` =
the decision id and ``DurationSeconds`` 900 by default (never above the one-hour chaining cap).
Every CloudTrail event of the session then names the bag and the policy that allowed it. With
no gate role configured the provider makes one hop straight into the target: that session
carries no tags and no source identity, and the result says so in a ``tags`` note. With
``allowed-account-ids`` the role ARNs are checked before any call and the minted session with
``GetCallerIdentity`` after. Names, limits and sanitisation: :mod:`.aws_names`; clients:
:mod:`.aws_client`; errors and retries: :mod:`.aws_errors`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from envsecops.creds.aws_client import (
    AwsSettings,
    StsClients,
    account_of,
    quiet_sdk_logs,
    sts_endpoint,
)
from envsecops.creds.aws_errors import Call, classify, secrets_of
from envsecops.creds.aws_names import (
    DEFAULT_DURATION,
    SERVICE,
    TAG_KEYS,
    Sanitised,
    check_duration,
    role_session_name,
    session_tags,
    source_identity,
)
from envsecops.creds.endpoints import AWS_ENDPOINT_ENV, TESTING_ONLY, override
from envsecops.creds.interface import (
    IssuedCredential,
    MintError,
    MintRequest,
    MintRequestInvalid,
    Provider,
    ProviderRefused,
)
from envsecops.creds.retry import Backoff, with_retries
from envsecops.model.decision import Credential
from envsecops.policy.model import ProviderSettings

T = TypeVar("T")
EXPORTS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)
"""What an AWS credential exports to ``$GITHUB_ENV`` (and, when asked, as step outputs)."""
SINGLE_HOP_NOTE = (
    "tags: single-hop session (no gate-role-arn configured): AssumeRoleWithWebIdentity cannot "
    "set session tags or a source identity from GitHub's token, so this session carries "
    "neither; configure gate-role-arn for the stamped two-hop path"
)


def iso_z(moment: datetime) -> str:
    """ISO 8601 UTC with a Z, to the second."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _answer(response: Any, call: Call) -> tuple[dict[str, str], str, Any]:
    """Credentials, assumed-role ARN and expiry from an AssumeRole* answer, checked."""
    creds = response.get("Credentials") if isinstance(response, Mapping) else None
    user = response.get("AssumedRoleUser") if isinstance(response, Mapping) else None
    names = ("AccessKeyId", "SecretAccessKey", "SessionToken")
    if (
        not isinstance(creds, Mapping)
        or not all(isinstance(creds.get(n), str) and creds.get(n) for n in names)
        or not isinstance(creds.get("Expiration"), datetime)
        or not isinstance(user, Mapping)
        or not isinstance(user.get("Arn"), str)
    ):
        raise MintError(
            f"{SERVICE} {call.name} for {call.role} answered without complete credentials",
            fix="the STS endpoint is not behaving like STS; check the endpoint and re-run",
            service=SERVICE,
            call=call.name,
            target=call.role,
        )
    return {n: str(creds[n]) for n in names}, str(user["Arn"]), creds["Expiration"]


class AwsProvider(Provider):
    """Mint AWS credentials through STS (see the module docstring)."""

    name = "aws"

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        backoff: Backoff | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        trust_env: bool = False,
    ) -> None:
        env = os.environ if environ is None else environ
        self.endpoint_override = override(env, AWS_ENDPOINT_ENV, service=SERVICE)
        self.backoff = backoff or Backoff()
        self.timeouts = (connect_timeout, read_timeout)
        self.trust_env = trust_env

    def audience(self, settings: ProviderSettings) -> str:
        """``audience`` from the settings, else ``sts.amazonaws.com``."""
        return AwsSettings.parse(settings).audience

    def mint(self, request: MintRequest, token: str) -> IssuedCredential:
        """Exchange the OIDC token; every check that needs no network runs before any call."""
        settings = AwsSettings.parse(request.settings)
        duration = check_duration(request.duration_seconds)
        if not isinstance(token, str) or not token:
            raise MintRequestInvalid(
                "no OIDC token to exchange",
                fix="request the GitHub OIDC token right before minting",
                service=SERVICE,
                call="AssumeRoleWithWebIdentity",
                target=settings.gate_role_arn or settings.role_arn,
            )
        session_name = role_session_name(request.run_id, request.run_attempt, request.env_hash_hex)
        stamp = (
            session_tags(request.env_hash, request.policy_id, request.decision_id),
            source_identity(request.decision_id),
        )
        self._check_accounts(settings)
        clients = StsClients(
            settings.region,
            self.endpoint_override or sts_endpoint(settings.region),
            connect_timeout=self.timeouts[0],
            read_timeout=self.timeouts[1],
            trust_env=self.trust_env,
        )
        with quiet_sdk_logs():
            if settings.gate_role_arn:
                issued = self._two_hop(clients, settings, token, session_name, duration, stamp)
            else:
                issued = self._single_hop(clients, settings, token, session_name, duration)
            if settings.allowed_accounts:
                self._check_identity(clients, settings, issued, token)
        if self.endpoint_override:
            note = f"endpoint: {AWS_ENDPOINT_ENV}={self.endpoint_override} ({TESTING_ONLY})"
            issued = IssuedCredential(
                issued.credential, issued.secrets, issued.exports, (*issued.notes, note)
            )
        return issued

    # the two paths ---------------------------------------------------------------------------
    def _retrying(self, call: Call, action: Callable[[], T]) -> T:
        return with_retries(self.backoff, action, lambda exc: classify(exc, call))

    def _web_identity(
        self, clients: StsClients, settings: AwsSettings, role: str, token: str, name: str, dur: int
    ) -> tuple[dict[str, str], str, Any]:
        call = Call("AssumeRoleWithWebIdentity", role, settings.audience, settings.region, (token,))
        client = clients.anonymous()
        response = self._retrying(
            call,
            lambda: client.assume_role_with_web_identity(
                RoleArn=role, RoleSessionName=name, WebIdentityToken=token, DurationSeconds=dur
            ),
        )
        return _answer(response, call)

    def _two_hop(
        self,
        clients: StsClients,
        settings: AwsSettings,
        token: str,
        name: str,
        duration: int,
        stamp: tuple[tuple[Sanitised, ...], Sanitised],
    ) -> IssuedCredential:
        gate_role = settings.gate_role_arn or ""
        gate, _gate_arn, _ = self._web_identity(
            clients, settings, gate_role, token, name, DEFAULT_DURATION
        )
        tags, identity = stamp
        secrets = secrets_of((token, gate["SecretAccessKey"], gate["SessionToken"]))
        call = Call("AssumeRole", settings.role_arn, settings.audience, settings.region, secrets)
        client = clients.signed(gate)
        response = self._retrying(
            call,
            lambda: client.assume_role(
                RoleArn=settings.role_arn,
                RoleSessionName=name,
                DurationSeconds=duration,
                Tags=[
                    {"Key": key, "Value": tag.value}
                    for key, tag in zip(TAG_KEYS, tags, strict=True)
                ],
                TransitiveTagKeys=list(TAG_KEYS),
                SourceIdentity=identity.value,
            ),
        )
        creds, arn, expires = _answer(response, call)
        notes = tuple(n for n in (*(t.note for t in tags), identity.note) if n)
        credential = Credential(
            provider=self.name,
            role=settings.role_arn,
            session_name=name,
            key_id=creds["AccessKeyId"],
            expires_at=iso_z(expires),
            tags=tuple(sorted((k, t.value) for k, t in zip(TAG_KEYS, tags, strict=True))),
            source_identity=identity.value,
            session_arn=arn,
        )
        return self._issued(credential, creds, settings.region, notes)

    def _single_hop(
        self, clients: StsClients, settings: AwsSettings, token: str, name: str, duration: int
    ) -> IssuedCredential:
        creds, arn, expires = self._web_identity(
            clients, settings, settings.role_arn, token, name, duration
        )
        credential = Credential(
            provider=self.name,
            role=settings.role_arn,
            session_name=name,
            key_id=creds["AccessKeyId"],
            expires_at=iso_z(expires),
            session_arn=arn,
        )
        return self._issued(credential, creds, settings.region, (SINGLE_HOP_NOTE,))

    @staticmethod
    def _issued(
        credential: Credential, creds: Mapping[str, str], region: str, notes: tuple[str, ...]
    ) -> IssuedCredential:
        return IssuedCredential(
            credential=credential,
            secrets={
                "secret_access_key": creds["SecretAccessKey"],
                "session_token": creds["SessionToken"],
            },
            exports=dict(
                zip(
                    EXPORTS,
                    (
                        creds["AccessKeyId"],
                        creds["SecretAccessKey"],
                        creds["SessionToken"],
                        region,
                        region,
                    ),
                    strict=True,
                )
            ),
            notes=notes,
        )

    # account guard rails ---------------------------------------------------------------------
    def _check_accounts(self, settings: AwsSettings) -> None:
        if not settings.allowed_accounts:
            return
        for role in (settings.gate_role_arn, settings.role_arn):
            if role and account_of(role) not in settings.allowed_accounts:
                raise MintRequestInvalid(
                    f"{role} is in account {account_of(role)}, which `allowed-account-ids` "
                    f"({', '.join(sorted(settings.allowed_accounts))}) does not list; no call made",
                    fix="fix the role ARN, or add the account to `allowed-account-ids`",
                    service=SERVICE,
                    call="AssumeRole",
                    target=role,
                )

    def _check_identity(
        self, clients: StsClients, settings: AwsSettings, issued: IssuedCredential, token: str
    ) -> None:
        minted = {
            "AccessKeyId": issued.exports["AWS_ACCESS_KEY_ID"],
            "SecretAccessKey": issued.secrets["secret_access_key"],
            "SessionToken": issued.secrets["session_token"],
        }
        secrets = secrets_of((token, *issued.secrets.values()))
        call = Call(
            "GetCallerIdentity", settings.role_arn, settings.audience, settings.region, secrets
        )
        client = clients.signed(minted)
        answer = self._retrying(call, client.get_caller_identity)
        account = str(answer.get("Account", "")) if isinstance(answer, Mapping) else ""
        arn = str(answer.get("Arn", "")) if isinstance(answer, Mapping) else ""
        if account not in settings.allowed_accounts or arn != issued.credential.session_arn:
            raise ProviderRefused(
                f"{SERVICE} GetCallerIdentity for the minted session answered account "
                f"{account or '?'} and {arn or 'no ARN'}, expected one of "
                f"{', '.join(sorted(settings.allowed_accounts))} and "
                f"{issued.credential.session_arn}; the credentials are not exported",
                fix="the STS endpoint or the role is not the one configured; check "
                "`role-arn`, `allowed-account-ids` and the endpoint",
                service=SERVICE,
                call="GetCallerIdentity",
                target=settings.role_arn,
            )
