"""How the AWS provider reads a failed STS call: retry it, or stop naming the call, role and fix.

Throttling (``Throttling``, ``RequestLimitExceeded``, …), 5xx answers, ``IDPCommunicationError``
(STS could not reach the OIDC issuer), connection errors and timeouts are retryable. A refusal —
``AccessDenied``, ``InvalidIdentityToken``, ``ExpiredToken``, ``IDPRejectedClaim`` — is a
:class:`ProviderRefused` and is never retried: asking again with the same token cannot succeed
and only spends its five minutes. Every message is scrubbed of the token and of any secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from envsecops.creds.aws_names import SERVICE
from envsecops.creds.interface import MintError, ProviderRefused, scrub

RETRYABLE = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "IDPCommunicationError",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
REFUSED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "InvalidIdentityToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "IDPRejectedClaim",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "RegionDisabledException",
    }
)
TRUST_FIX = (
    "the target role's trust policy must allow the gate role sts:AssumeRole, sts:TagSession "
    "and sts:SetSourceIdentity, and the gate role's own policy must allow those actions on "
    "the target role"
)


@dataclass(frozen=True, slots=True)
class Call:
    """Which STS call on which role (for messages), and the strings never to repeat."""

    name: str
    role: str
    audience: str
    region: str
    secrets: tuple[str, ...] = ()


def _fix(call: Call, code: str) -> str:
    web = call.name == "AssumeRoleWithWebIdentity"
    if code in {"AccessDenied", "AccessDeniedException"}:
        if web:
            return (
                f"the trust policy of {call.role} must allow sts:AssumeRoleWithWebIdentity for "
                "the GitHub OIDC provider (token.actions.githubusercontent.com) with "
                f"`aud` = {call.audience!r} and a `sub`/`job_workflow_ref` condition matching "
                "this job"
            )
        if call.name == "AssumeRole":
            return TRUST_FIX
        return "the minted session needs no permission for GetCallerIdentity; check SCPs"
    if code == "InvalidIdentityToken":
        return (
            "create the IAM OIDC identity provider for https://token.actions.githubusercontent."
            f"com in the role's account with audience {call.audience!r}, and pass the token "
            "exactly as GitHub issued it"
        )
    if code in {"ExpiredToken", "ExpiredTokenException"}:
        return (
            "GitHub's tokens live 5 minutes: request a fresh one right before minting, and "
            "check that the runner's clock is correct"
        )
    if code == "IDPRejectedClaim":
        return f"the IAM OIDC provider must list {call.audience!r} among its audiences"
    if code == "RegionDisabledException":
        return f"activate STS in {call.region} (IAM console → Account settings), or change region"
    if code == "PackedPolicyTooLarge":
        return "the session tags are too large for the role: shorten policy names or ids"
    if code in RETRYABLE:
        return "STS is throttling or failing; re-run the job in a minute"
    return "see the STS error above; the role, its trust policy or the request needs attention"


def _client_error(exc: Exception, call: Call) -> MintError:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {}) or {}
    code = str(error.get("Code", "") or "")
    status = int((response.get("ResponseMetadata", {}) or {}).get("HTTPStatusCode", 0) or 0)
    text = scrub(str(error.get("Message", "") or ""), call.secrets)
    message = (
        f"{SERVICE} {call.name} for {call.role} failed: {code or 'HTTP ' + str(status)}"
        + (f" (HTTP {status})" if status else "")
        + (f": {text}" if text else "")
    )
    details: dict[str, Any] = {
        "fix": _fix(call, code),
        "service": SERVICE,
        "call": call.name,
        "target": call.role,
        "code": code,
        "status": status or None,
    }
    if code in REFUSED:
        return ProviderRefused(message, **details)
    retryable = code in RETRYABLE or status == 429 or status >= 500
    return MintError(message, retryable=retryable, **details)


def classify(exc: Exception, call: Call) -> MintError:
    """A MintError for a botocore exception; anything else is re-raised as it is."""
    from botocore import exceptions as bce

    if isinstance(exc, bce.ClientError):
        return _client_error(exc, call)
    where = f"{SERVICE} {call.name} for {call.role}"
    details: dict[str, Any] = {"service": SERVICE, "call": call.name, "target": call.role}
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectTimeoutError):
        return MintError(
            f"{where} could not connect ({type(exc).__name__})",
            fix=f"check that the STS endpoint for {call.region} is reachable from the runner",
            retryable=True,
            **details,
        )
    if isinstance(exc, bce.HTTPClientError):  # read timeout, reset, closed mid-answer
        return MintError(
            f"{where} got no complete answer ({type(exc).__name__})",
            fix="the network or STS is slow or failing; re-run the job",
            retryable=True,
            **details,
        )
    if isinstance(exc, bce.BotoCoreError):
        return MintError(
            f"{where} failed in the SDK: {type(exc).__name__}",
            fix="check the provider settings (region, role ARNs); this is not a network fault",
            **details,
        )
    raise exc


def secrets_of(values: Iterable[str | None]) -> tuple[str, ...]:
    """The non-empty strings of ``values``, for :attr:`Call.secrets`."""
    return tuple(v for v in values if v)
