"""Who asked (Principal), what was decided (Decision) and what was issued (Credential)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from envsecops.model.bag import ModelError

PRINCIPAL_CLAIMS = (
    "sub",
    "repository",
    "repository_id",
    "repository_owner",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "sha",
    "run_id",
    "run_attempt",
    "actor",
    "runner_environment",
)


def _strings(data: Any, what: str) -> dict[str, str]:
    if not isinstance(data, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ModelError(f"`{what}` must map strings to strings")
    return dict(data)


@dataclass(frozen=True, slots=True)
class Principal:
    """The job that asked, from the signed OIDC claims (every claim a string) or, locally, env."""

    claims: tuple[tuple[str, str], ...]
    origin: str  # "oidc" (validated token) or "environment" (local, unverified)

    def get(self, name: str) -> str | None:
        """One claim, or None."""
        return dict(self.claims).get(name)

    @classmethod
    def from_claims(cls, claims: Mapping[str, object], origin: str) -> Principal:
        """Keep the principal claims that are present as strings."""
        kept = {k: v for k, v in claims.items() if k in PRINCIPAL_CLAIMS and isinstance(v, str)}
        return cls(tuple(sorted(kept.items())), origin)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form."""
        return {"claims": dict(self.claims), "origin": self.origin}

    @classmethod
    def from_json(cls, data: Any) -> Principal:
        """Parse and validate."""
        if not isinstance(data, Mapping) or not isinstance(data.get("origin"), str):
            raise ModelError("a principal needs `claims` and `origin`")
        return cls(tuple(sorted(_strings(data.get("claims"), "claims").items())), data["origin"])


class Verdict(StrEnum):
    """The outcome."""

    ALLOW = "allow"
    DENY = "deny"


class Mode(StrEnum):
    """enforce: a deny fails the step; audit: a deny is recorded and shown, the step passes."""

    ENFORCE = "enforce"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision went the way it did: a stable code, the subject it names, a message."""

    code: str
    subject: str
    message: str

    def to_json(self) -> dict[str, str]:
        """Stable JSON form."""
        return {"code": self.code, "subject": self.subject, "message": self.message}

    @classmethod
    def from_json(cls, data: Any) -> Reason:
        """Parse and validate."""
        values = _strings(data, "reason")
        try:
            return cls(values["code"], values["subject"], values["message"])
        except KeyError as exc:
            raise ModelError(f"a reason needs `{exc.args[0]}`") from exc


@dataclass(frozen=True, slots=True)
class Decision:
    """A verdict over one bag, one policy and one job; times are ISO 8601 UTC strings."""

    decision_id: str
    verdict: Verdict
    mode: Mode
    reasons: tuple[Reason, ...]
    env_hash: str
    policy_id: str
    attestation_digest: str
    principal: Principal
    job: str
    issued_at: str
    expires_at: str
    policy_source: str = "default-branch"
    policy_ref: str = ""  # what exactly was read: OWNER/REPO@BRANCH:PATH (commit), or a path

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["verdict"] = self.verdict.value
        out["mode"] = self.mode.value
        out["reasons"] = [r.to_json() for r in self.reasons]
        out["principal"] = self.principal.to_json()
        return out

    @classmethod
    def from_json(cls, data: Any) -> Decision:
        """Parse and validate."""
        if not isinstance(data, Mapping):
            raise ModelError("a decision must be a JSON object")
        text = {
            f.name: data.get(f.name)
            for f in fields(cls)
            if f.name not in {"verdict", "mode", "reasons", "principal"}
        }
        text["policy_ref"] = data.get("policy_ref", "")  # absent from older decisions
        for name, value in text.items():
            if not isinstance(value, str):
                raise ModelError(f"decision `{name}` must be a string")
        reasons = data.get("reasons")
        if not isinstance(reasons, list):
            raise ModelError("decision `reasons` must be a list")
        try:
            verdict, mode = Verdict(str(data.get("verdict"))), Mode(str(data.get("mode")))
        except ValueError as exc:
            raise ModelError(str(exc)) from exc
        return cls(
            verdict=verdict,
            mode=mode,
            reasons=tuple(Reason.from_json(r) for r in reasons),
            principal=Principal.from_json(data.get("principal")),
            **text,  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class Credential:
    """What was issued, never the secret: provider, role, session, key id, expiry, tags."""

    provider: str
    role: str
    session_name: str
    key_id: str
    expires_at: str
    tags: tuple[tuple[str, str], ...] = ()
    source_identity: str | None = None
    session_arn: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form; None fields omitted."""
        out: dict[str, Any] = {
            "provider": self.provider,
            "role": self.role,
            "session_name": self.session_name,
            "key_id": self.key_id,
            "expires_at": self.expires_at,
            "tags": dict(self.tags),
        }
        if self.source_identity is not None:
            out["source_identity"] = self.source_identity
        if self.session_arn is not None:
            out["session_arn"] = self.session_arn
        return out

    @classmethod
    def from_json(cls, data: Any) -> Credential:
        """Parse and validate."""
        if not isinstance(data, Mapping):
            raise ModelError("a credential must be a JSON object")
        required = ("provider", "role", "session_name", "key_id", "expires_at")
        values = {k: data.get(k) for k in required}
        if not all(isinstance(v, str) for v in values.values()):
            raise ModelError(f"a credential needs string {', '.join(required)}")
        optional = {k: data.get(k) for k in ("source_identity", "session_arn")}
        if not all(v is None or isinstance(v, str) for v in optional.values()):
            raise ModelError("credential `source_identity`/`session_arn` must be strings")
        tags = tuple(sorted(_strings(data.get("tags", {}), "tags").items()))
        return cls(tags=tags, **values, **optional)  # type: ignore[arg-type]
