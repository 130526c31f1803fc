"""This job's facts, as the binding check and the decision see them: OIDC claims first, else env.

The facts are derived exactly as attest derives its binding (:meth:`Binding.collect`), so the
two sides of the comparison are read the same way; what differs is only when they were read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from envsecops.attest.binding import JOB_FACTS, Binding, Origin
from envsecops.model.bag import ModelError
from envsecops.model.decision import Principal

_PLACEHOLDER_NONCE = "verify-side-facts-only"
_EPOCH = "1970-01-01T00:00:00Z"
PRINCIPAL_ENVIRONMENT = {
    "repository": "GITHUB_REPOSITORY",
    "repository_id": "GITHUB_REPOSITORY_ID",
    "repository_owner": "GITHUB_REPOSITORY_OWNER",
    "workflow_ref": "GITHUB_WORKFLOW_REF",
    "ref": "GITHUB_REF",
    "sha": "GITHUB_SHA",
    "run_id": "GITHUB_RUN_ID",
    "run_attempt": "GITHUB_RUN_ATTEMPT",
    "actor": "GITHUB_ACTOR",
    "runner_environment": "RUNNER_ENVIRONMENT",
}
"""Where a local run (no validated token) finds each principal claim; all unverified."""
UNKNOWN_PART = "-"
"""Stands for an unknown part of the job id (never a valid owner, repository, run or job)."""


@dataclass(frozen=True, slots=True)
class JobFacts:
    """The current job: each binding fact (None when unknown) and where it came from."""

    facts: tuple[tuple[str, str | None], ...]
    origins: tuple[tuple[str, Origin], ...]
    in_actions: bool
    problem: str | None = None  # why the environment's facts could not be read at all

    def get(self, name: str) -> str | None:
        """One fact, or None."""
        return dict(self.facts).get(name)

    def origin(self, name: str) -> Origin | None:
        """Where fact ``name`` came from, or None when unknown."""
        return dict(self.origins).get(name)

    @property
    def any_known(self) -> bool:
        """Whether any fact is known."""
        return any(value is not None for _, value in self.facts)

    def job_id(self) -> str:
        """``OWNER/REPO/RUN_ID/ATTEMPT/JOB``, with ``-`` for what is unknown."""
        repository = self.get("repository") or f"{UNKNOWN_PART}/{UNKNOWN_PART}"
        parts = [self.get(name) or UNKNOWN_PART for name in ("run_id", "run_attempt", "job")]
        return "/".join([repository, *parts])


def current_job(
    claims: Mapping[str, str] | None, environ: Mapping[str, str], *, in_actions: bool
) -> JobFacts:
    """This job's facts from the validated ``claims`` when present, else from ``environ``."""
    try:
        binding = Binding.collect(claims, environ, nonce=_PLACEHOLDER_NONCE, created_at=_EPOCH)
    except ModelError as exc:
        return JobFacts(
            tuple((name, None) for name in JOB_FACTS),
            (),
            in_actions,
            problem=f"this job's own facts are malformed: {exc}",
        )
    return JobFacts(
        tuple((name, getattr(binding, name)) for name in JOB_FACTS),
        binding.origins,
        in_actions,
    )


def principal_of(claims: Mapping[str, str] | None, environ: Mapping[str, str]) -> Principal:
    """Who asked: the validated claims (origin ``oidc``), else the environment (unverified)."""
    if claims:
        return Principal.from_claims(claims, "oidc")
    found = {
        claim: environ[name]
        for claim, name in PRINCIPAL_ENVIRONMENT.items()
        if environ.get(name) and environ[name].isprintable()
    }
    return Principal.from_claims(found, "environment")
