"""The credential-provider interface: what is asked (MintRequest), what comes back, what fails.

A provider turns a GitHub OIDC token into short-lived cloud credentials with one verb,
:meth:`Provider.mint`. What it returns, :class:`IssuedCredential`, pairs the public record
(:class:`envsecops.model.decision.Credential`, never a secret: it goes to ledgers and summaries)
with the secrets themselves and the ``$GITHUB_ENV`` exports, which are never serialised and
never shown by ``repr``. Every failure is a :class:`MintError` naming the service, the call,
the role or URL and the fix; messages pass through :func:`scrub`, so no token or secret ever
appears in one.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, NoReturn

from envsecops.errors import ExitCode, InfraError
from envsecops.model.decision import Credential
from envsecops.policy.model import ProviderSettings

MAX_QUOTED = 300
"""How many characters of a service's own error text an error message quotes."""
REDACTED = "[redacted]"
LABEL_CHARS = re.compile(r"[^A-Za-z0-9_+=,.@-]")
MAX_LABEL = 64


def scrub(text: str, secrets: Iterable[str] = (), *, limit: int = MAX_QUOTED) -> str:
    """``text`` with every secret redacted, control characters escaped, cut to ``limit``.

    Secrets are redacted before truncation so that a cut can never leave half a secret, and
    again after escaping so that an escaped form of one cannot slip through.
    """
    cleaned = text
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        cleaned = cleaned.replace(secret, REDACTED)
    escaped = "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in cleaned
    )
    for secret in secrets:
        if secret:
            escaped = escaped.replace(secret, REDACTED)
    if len(escaped) > limit:
        escaped = escaped[: limit - 1] + "…"
    return escaped


def session_label(run_id: str, run_attempt: str, env_hash_hex: str) -> str:
    """``envsecops-<run_id>-<attempt>-<env hash prefix>``: at most 64 of ``[\\w+=,.@-]``.

    AWS sends it as the RoleSessionName (so CloudTrail names the run); the other providers
    have no session name and record it as a label only.
    """
    run = LABEL_CHARS.sub("_", run_id)[:24] or "local"
    attempt = LABEL_CHARS.sub("_", run_attempt)[:4] or "1"
    base = f"envsecops-{run}-{attempt}-"
    digest = LABEL_CHARS.sub("_", env_hash_hex)[: min(12, MAX_LABEL - len(base))]
    return base + (digest or "nohash")


def fingerprint(secret: str) -> str:
    """A short, non-reversible id for a bearer token that has no public id of its own."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


class MintError(InfraError):
    """A provider call failed; ``retryable`` says whether trying again later may succeed."""

    def __init__(
        self,
        message: str,
        *,
        fix: str,
        service: str,
        call: str,
        target: str,
        retryable: bool = False,
        code: str = "",
        status: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, fix=fix)
        self.service = service
        self.call = call
        self.target = target
        self.retryable = retryable
        self.code = code
        self.status = status
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, retryable={self.retryable})"

    def with_attempts(self, attempts: int) -> MintError:
        """The same error, saying how many attempts were made (after a retry loop gave up)."""
        if attempts <= 1:
            return self
        return type(self)(
            f"{self.message} (gave up after {attempts} attempts)",
            fix=self.fix or "",
            service=self.service,
            call=self.call,
            target=self.target,
            retryable=self.retryable,
            code=self.code,
            status=self.status,
            attempts=attempts,
        )


class ProviderRefused(MintError):
    """The provider said no (AccessDenied, invalid or expired token): retrying cannot help."""

    def __init__(self, message: str, **details: Any) -> None:
        details["retryable"] = False
        super().__init__(message, **details)


class MintRequestInvalid(MintError):
    """The request or the provider settings cannot work; refused before any call was made."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, **details: Any) -> None:
        details["retryable"] = False
        super().__init__(message, **details)


@dataclass(frozen=True, slots=True)
class MintRequest:
    """What to mint, for which decision: the stamp (ids, env hash, policy) and the settings.

    ``duration_seconds`` is the lifetime asked for; None means the provider's default
    (AWS: 900 s; GCP impersonation: 600 s; Vault: the role's TTL, at most 900 s).
    """

    decision_id: str
    env_hash: str
    policy_id: str
    run_id: str
    run_attempt: str
    settings: ProviderSettings
    duration_seconds: int | None = None

    def setting(self, name: str) -> str | None:
        """One provider setting, or None."""
        return self.settings.get(name)

    @property
    def env_hash_hex(self) -> str:
        """The env hash's hex digits, without the ``sha256:`` prefix."""
        return self.env_hash.split(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """The public record plus the secrets; ``repr`` and :meth:`to_json` never show a secret.

    ``secrets`` names each secret part (``secret_access_key``, ``session_token``, …);
    ``exports`` maps environment variable names to values for ``$GITHUB_ENV`` (secrets
    included, so it is hidden too); ``notes`` say what the record alone does not (a tag
    value that had to be rewritten, a session without tags).
    """

    credential: Credential
    secrets: Mapping[str, str] = field(repr=False)
    exports: Mapping[str, str] = field(repr=False)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "secrets", MappingProxyType(dict(self.secrets)))
        object.__setattr__(self, "exports", MappingProxyType(dict(self.exports)))

    def mask_values(self) -> list[str]:
        """Every value to ``::add-mask::`` before anything prints: the key id and each secret."""
        values = [self.credential.key_id, *self.secrets.values()]
        return [v for v in dict.fromkeys(values) if v]

    def to_json(self) -> dict[str, Any]:
        """The public record and the notes; never a secret, never an export."""
        out = self.credential.to_json()
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def __getstate__(self) -> NoReturn:
        raise TypeError("an IssuedCredential holds secrets and is never serialised")


class Provider(ABC):
    """One credential provider: the OIDC audience it wants, and the exchange itself."""

    name: ClassVar[str]

    @abstractmethod
    def audience(self, settings: ProviderSettings) -> str:
        """The ``aud`` to request the GitHub OIDC token with, for these settings."""

    @abstractmethod
    def mint(self, request: MintRequest, token: str) -> IssuedCredential:
        """Exchange ``token`` (the GitHub OIDC JWT) for credentials, or raise MintError."""
