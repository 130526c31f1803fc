"""The binding of an attestation to one job attempt: its facts, their origins, a nonce, a time.

No I/O. A fact is taken from the validated GitHub OIDC token when it has it, otherwise from
the environment (which any earlier step can change through `$GITHUB_ENV`), and the binding
records which, so a verifier can weigh it. An unknown fact is null and never matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from envsecops.model.bag import ModelError

JOB_FACTS = (
    "repository",
    "repository_id",
    "workflow_ref",
    "job_workflow_ref",
    "sha",
    "run_id",
    "run_attempt",
    "job",
    "runner_name",
)
MAX_FACT = 1024
_FACT_SHAPES = {
    "repository": re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+"),
    "repository_id": re.compile(r"[0-9]{1,20}"),
    "run_id": re.compile(r"[0-9]{1,20}"),
    "run_attempt": re.compile(r"[0-9]{1,10}"),
    "sha": re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}"),
}
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")


class Origin(StrEnum):
    """Where a binding fact came from."""

    OIDC = "oidc"  # a claim of the validated GitHub OIDC token: trustworthy
    ENVIRONMENT = "environment"  # an environment variable: any earlier step could set it


def is_nonce(text: str) -> bool:
    """Whether ``text`` is an acceptable binding nonce: 16-128 of ``[A-Za-z0-9_-]``."""
    return bool(_NONCE.fullmatch(text))


def _printable(value: str) -> bool:
    return value.isprintable() and 0 < len(value) <= MAX_FACT


def check_time(value: object, what: str) -> str:
    """``value`` if it is an RFC 3339 UTC time like ``2026-01-02T03:04:05Z``."""
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise ModelError(f"`{what}` must be an RFC 3339 UTC time like 2026-01-02T03:04:05Z")
    try:
        datetime.fromisoformat(value[:19])
    except ValueError as exc:
        raise ModelError(f"`{what}` is not a real date and time: {value!r}") from exc
    return value


@dataclass(frozen=True, slots=True)
class Binding:
    """What ties an attestation to one job attempt; ``None`` means the fact was unknown.

    ``origins`` names, for every known fact, whether it came from the OIDC token or the
    environment. A verifier must treat an unknown fact as not matching.
    """

    repository: str | None
    repository_id: str | None
    workflow_ref: str | None
    run_id: str | None
    run_attempt: str | None
    job: str | None
    runner_name: str | None
    nonce: str
    created_at: str
    origins: tuple[tuple[str, Origin], ...] = ()
    job_workflow_ref: str | None = None
    sha: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.nonce, str) or not is_nonce(self.nonce):
            raise ModelError("`nonce` must be 16-128 characters of [A-Za-z0-9_-]")
        check_time(self.created_at, "created_at")
        known = set()
        for name in JOB_FACTS:
            value = getattr(self, name)
            if value is None:
                continue
            shape = _FACT_SHAPES.get(name)
            if not isinstance(value, str) or not _printable(value):
                raise ModelError(f"`{name}` must be a printable string of at most {MAX_FACT}")
            if shape is not None and not shape.fullmatch(value):
                raise ModelError(f"`{name}` has an impossible value {value!r}")
            known.add(name)
        origin_names = [name for name, _ in self.origins]
        if sorted(origin_names) != sorted(known) or len(set(origin_names)) != len(origin_names):
            raise ModelError(
                f"`origins` must name exactly the known facts {sorted(known)}, "
                f"not {sorted(origin_names)}"
            )
        object.__setattr__(self, "origins", tuple(sorted(self.origins)))
        for name, origin in self.origins:
            if not isinstance(origin, Origin):
                raise ModelError(
                    f"the origin of `{name}` must be one of {[o.value for o in Origin]}"
                )

    def origin(self, name: str) -> Origin | None:
        """Where fact ``name`` came from, or None when it is unknown."""
        return dict(self.origins).get(name)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form: every fact (null when unknown), nonce, time, origins."""
        out: dict[str, Any] = {name: getattr(self, name) for name in JOB_FACTS}
        out["nonce"] = self.nonce
        out["created_at"] = self.created_at
        out["origins"] = {name: origin.value for name, origin in sorted(self.origins)}
        return out

    @classmethod
    def from_json(cls, data: Any) -> Binding:
        """Parse and validate; unknown fields are refused."""
        if not isinstance(data, Mapping):
            raise ModelError("`binding` must be a JSON object")
        expected = {*JOB_FACTS, "nonce", "created_at", "origins"}
        if set(data) != expected:
            raise ModelError(
                f"`binding` fields differ from v1: missing {sorted(expected - set(data))}, "
                f"unknown {sorted(set(data) - expected)}"
            )
        origins = data["origins"]
        if not isinstance(origins, Mapping):
            raise ModelError("`binding.origins` must be an object")
        try:
            parsed = tuple(sorted((str(k), Origin(v)) for k, v in origins.items()))
        except ValueError as exc:
            raise ModelError(f"`binding.origins`: {exc}") from exc
        return cls(
            **{name: data[name] for name in JOB_FACTS},
            nonce=data["nonce"],
            created_at=data["created_at"],
            origins=parsed,
        )

    @classmethod
    def collect(
        cls,
        claims: Mapping[str, str] | None,
        environ: Mapping[str, str],
        *,
        nonce: str,
        created_at: str,
    ) -> Binding:
        """Take each fact from the validated OIDC ``claims`` when present, else from the
        environment (``GITHUB_*``, ``RUNNER_NAME``), else leave it unknown."""
        facts: dict[str, str | None] = {}
        origins: list[tuple[str, Origin]] = []
        for name in JOB_FACTS:
            claim = (claims or {}).get(name) if name in _CLAIMED else None
            env_name = _ENVIRONMENT.get(name)
            env_value = environ.get(env_name) if env_name else None
            if claim:
                facts[name], origin = claim, Origin.OIDC
            elif env_value:
                facts[name], origin = env_value, Origin.ENVIRONMENT
            else:
                facts[name] = None
                continue
            origins.append((name, origin))
        return cls(**facts, nonce=nonce, created_at=created_at, origins=tuple(origins))


_CLAIMED = frozenset(JOB_FACTS) - {"job", "runner_name"}
_ENVIRONMENT = {
    "repository": "GITHUB_REPOSITORY",
    "repository_id": "GITHUB_REPOSITORY_ID",
    "workflow_ref": "GITHUB_WORKFLOW_REF",
    "sha": "GITHUB_SHA",
    "run_id": "GITHUB_RUN_ID",
    "run_attempt": "GITHUB_RUN_ATTEMPT",
    "job": "GITHUB_JOB",
    "runner_name": "RUNNER_NAME",
}
