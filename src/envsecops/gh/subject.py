"""The GitHub OIDC ``sub`` claim: both repository forms, customised templates, and a cross-check.

GitHub's default subject is ``repo:OWNER/REPO:<context>`` where the context is
``environment:NAME``, ``ref:REF`` or ``pull_request``. Repositories created after 2026-07-15
get immutable subjects ``repo:OWNER@OWNER_ID/REPO@REPO_ID:<context>`` (renaming the owner or the
repository no longer changes them). Organisations can customise the template
(``include_claim_keys``), which yields ``key:value`` pairs of other claims, e.g.
``repo:o/r:environment:prod:job_workflow_ref:o/w/.github/workflows/gate.yml@refs/heads/main``.

A value may itself contain ``:`` (a workflow name), so a value runs until the next token that is
a known claim name. The repository part is cross-checked against the ``repository``,
``repository_id`` and ``repository_owner_id`` claims of the same token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from envsecops.gh.jwks import TokenRejected

SUBJECT_KEYS = frozenset(
    {
        "repo",
        "context",
        "environment",
        "ref",
        "pull_request",
        "actor",
        "actor_id",
        "base_ref",
        "enterprise",
        "enterprise_id",
        "event_name",
        "head_ref",
        "job_workflow_ref",
        "job_workflow_sha",
        "ref_protected",
        "ref_type",
        "repository",
        "repository_id",
        "repository_owner",
        "repository_owner_id",
        "repository_visibility",
        "run_attempt",
        "run_id",
        "run_number",
        "runner_environment",
        "sha",
        "workflow",
        "workflow_ref",
        "workflow_sha",
    }
)
"""Claim names that can start a part of a (customised) subject."""
FLAGS = frozenset({"pull_request"})
"""Parts that stand alone, without a value."""

_NAME = r"[A-Za-z0-9_.-]+"
_REPO = re.compile(rf"^(?P<owner>{_NAME})(?:@(?P<oid>\d+))?/(?P<repo>{_NAME})(?:@(?P<rid>\d+))?$")


@dataclass(frozen=True, slots=True)
class Subject:
    """A parsed ``sub``: the repository (with ids in the immutable form) and the other parts."""

    raw: str
    parts: tuple[tuple[str, str], ...]
    owner: str | None = None
    repo: str | None = None
    owner_id: str | None = None
    repo_id: str | None = None

    @property
    def repository(self) -> str | None:
        """``OWNER/REPO`` when the subject names a repository."""
        return f"{self.owner}/{self.repo}" if self.owner and self.repo else None

    @property
    def immutable(self) -> bool:
        """Whether the repository part carries owner and repository ids."""
        return self.owner_id is not None

    def get(self, key: str) -> str | None:
        """The value of the first part named ``key`` (``""`` for a flag), or None."""
        return next((value for name, value in self.parts if name == key), None)


def _reject(sub: str, why: str) -> TokenRejected:
    return TokenRejected(
        f"subject {sub!r} {why}",
        claim="sub",
        fix="GitHub subjects look like repo:OWNER/REPO:ref:refs/heads/main or "
        "repo:OWNER@ID/REPO@ID:environment:NAME",
    )


def parse_subject(sub: str) -> Subject:
    """Parse ``sub``; an empty or unrecognised subject is a :class:`TokenRejected`."""
    tokens = sub.split(":")
    if not sub or tokens[0] not in SUBJECT_KEYS:
        raise _reject(sub, "does not start with a known claim name")
    parts: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        key = tokens[index]
        index += 1
        if key in FLAGS:
            parts.append((key, ""))
            continue
        value: list[str] = []
        while index < len(tokens) and (not value or tokens[index] not in SUBJECT_KEYS):
            value.append(tokens[index])
            index += 1
        if not value or not value[0]:
            raise _reject(sub, f"has no value for `{key}`")
        parts.append((key, ":".join(value)))
    repo_parts = [value for key, value in parts if key == "repo"]
    if len(repo_parts) > 1:
        raise _reject(sub, "names a repository twice")
    if not repo_parts:
        return Subject(sub, tuple(parts))
    match = _REPO.match(repo_parts[0])
    if match is None or (match["oid"] is None) != (match["rid"] is None):
        raise _reject(sub, "has a repository part that is neither OWNER/REPO nor OWNER@ID/REPO@ID")
    return Subject(sub, tuple(parts), match["owner"], match["repo"], match["oid"], match["rid"])


def check_subject(claims: Mapping[str, str]) -> Subject:
    """Parse ``claims["sub"]`` and check that its repository agrees with the other claims."""
    subject = parse_subject(claims["sub"])
    if subject.repository is None:
        return subject
    repository = claims.get("repository")
    if repository is not None and repository.lower() != subject.repository.lower():
        raise _reject(
            claims["sub"],
            f"names {subject.repository}, the token's `repository` claim names {repository}",
        )
    for mine, claim in (("owner_id", "repository_owner_id"), ("repo_id", "repository_id")):
        value = getattr(subject, mine)
        if value is not None and claims.get(claim) is not None and claims[claim] != value:
            raise _reject(claims["sub"], f"carries {mine} {value}, `{claim}` is {claims[claim]}")
    return subject
