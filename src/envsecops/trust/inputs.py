"""Strict parsing of the `trust-policy` inputs: every value is checked before it reaches a template.

The generated policies put these values into JSON, IAM ``StringLike`` patterns, CEL string
literals and shell commands, so each one is held to the narrowest shape GitHub, AWS or Google
allow: no ``*``, ``?``, quotes, backslashes, colons or control characters can arrive through a
repository name, a ref or an ARN. A bad value is a usage error (exit 2) with the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envsecops.errors import UsageError

GITHUB_ISSUER_HOST = "token.actions.githubusercontent.com"
GITHUB_ISSUER_URI = f"https://{GITHUB_ISSUER_HOST}"
DOCS = "docs/trust-policy.md"

_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_REPO = r"[A-Za-z0-9._-]{1,100}"
_ID = r"[1-9][0-9]{0,19}"
_REPO_SPEC = re.compile(
    rf"^(?P<owner>{_OWNER})(?:@(?P<oid>{_ID}))?/(?P<repo>{_REPO})(?:@(?P<rid>{_ID}))?$"
)
_WORKFLOW = re.compile(
    rf"^(?P<owner>{_OWNER})/(?P<repo>{_REPO})/(?P<path>\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml)"
    r"@(?P<ref>.+)$"
)
_SHA = re.compile(r"^[0-9a-f]{40}$")
_BRANCH_OR_TAG = re.compile(r"^refs/(?:heads|tags)/[A-Za-z0-9._/+-]{1,200}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_PARTITION = r"(?P<partition>aws|aws-cn|aws-us-gov)"
_OIDC_PROVIDER_ARN = re.compile(
    rf"^arn:{_PARTITION}:iam::(?P<account>[0-9]{{12}}):oidc-provider/"
    rf"{re.escape(GITHUB_ISSUER_HOST)}$"
)
_ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
_ROLE_ARN = re.compile(
    rf"^arn:{_PARTITION}:iam::(?P<account>[0-9]{{12}}):role/(?:[A-Za-z0-9+=,.@_-]+/)*"
    r"[A-Za-z0-9+=,.@_-]{1,64}$"
)
_AUDIENCE = re.compile(r"^[A-Za-z0-9._/-][A-Za-z0-9._/:-]{0,254}$")
_PROJECT_NUMBER = re.compile(r"^[1-9][0-9]{0,19}$")
_POOL_OR_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9-]{2,30}[a-z0-9]$")
_SERVICE_ACCOUNT = re.compile(
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$"
)


class TrustInputError(UsageError):
    """A `trust-policy` input has the wrong shape; the message names it and the fix."""


def _bad(what: str, value: str, fix: str) -> TrustInputError:
    shown = value if len(value) <= 120 else value[:117] + "..."
    return TrustInputError(f"{what} {shown!r} is not valid", fix=f"{fix} (see {DOCS})")


@dataclass(frozen=True, slots=True)
class GateWorkflow:
    """The reusable gate workflow at a pinned ref: what ``job_workflow_ref`` must say."""

    owner: str
    repo: str
    path: str
    ref: str

    @property
    def job_workflow_ref(self) -> str:
        """``OWNER/REPO/.github/workflows/FILE@REF`` exactly as GitHub puts it in the token."""
        return f"{self.owner}/{self.repo}/{self.path}@{self.ref}"

    @property
    def pinned_to_commit(self) -> bool:
        """Whether the ref is a full commit SHA (a branch or tag can be moved)."""
        return _SHA.fullmatch(self.ref) is not None

    @classmethod
    def parse(cls, value: str) -> GateWorkflow:
        """``OWNER/REPO/.github/workflows/FILE.yml@<40-hex sha | refs/heads/… | refs/tags/…>``."""
        fix = (
            "pass --gate-workflow OWNER/REPO/.github/workflows/gate.yml@<40-hex commit sha> "
            "(or @refs/heads/BRANCH, @refs/tags/TAG)"
        )
        match = _WORKFLOW.fullmatch(value)
        if match is None:
            raise _bad("--gate-workflow", value, fix)
        ref = match["ref"]
        if not (_SHA.fullmatch(ref) or _valid_branch_or_tag(ref)):
            raise _bad(
                "--gate-workflow ref",
                ref,
                "use a full 40-hex lowercase commit SHA, or refs/heads/NAME or refs/tags/NAME "
                "(a short name like `main` is not what GitHub puts in job_workflow_ref)",
            )
        return cls(match["owner"], match["repo"], match["path"], ref)


def _valid_branch_or_tag(ref: str) -> bool:
    if not _BRANCH_OR_TAG.fullmatch(ref):
        return False
    name = ref.split("/", 2)[2]
    return not (
        ".." in name
        or "//" in name
        or name.startswith(("/", ".", "-"))
        or name.endswith(("/", ".", ".lock"))
        or "/." in name
    )


@dataclass(frozen=True, slots=True)
class Repo:
    """A caller repository: its name and, ideally, its immutable owner and repository ids."""

    owner: str
    name: str
    repo_id: str | None = None
    owner_id: str | None = None

    @property
    def full_name(self) -> str:
        """``OWNER/REPO``."""
        return f"{self.owner}/{self.name}"

    @classmethod
    def parse(cls, value: str) -> Repo:
        """``OWNER/REPO``, ``OWNER/REPO@REPO_ID`` or ``OWNER@OWNER_ID/REPO@REPO_ID``."""
        match = _REPO_SPEC.fullmatch(value)
        if match is None or match["repo"] in {".", ".."}:
            raise _bad(
                "--repos entry",
                value,
                "write OWNER/REPO@REPO_ID (or OWNER@OWNER_ID/REPO@REPO_ID); the numeric id is "
                "`gh api repos/OWNER/REPO --jq .id`",
            )
        if match["oid"] and not match["rid"]:
            raise _bad("--repos entry", value, "an owner id needs the repository id too")
        return cls(match["owner"], match["repo"], match["rid"], match["oid"])


def parse_repos(values: list[str], *, require_ids: bool) -> tuple[Repo, ...]:
    """Every ``--repos`` entry, deduplicated; at least one; ids on all or (AWS only) on none."""
    repos: dict[str, Repo] = {}
    for value in values:
        repo = Repo.parse(value)
        key = repo.full_name.lower()
        if key in repos and repos[key] != repo:
            raise _bad("--repos entry", value, f"{repo.full_name} is listed twice, differently")
        repos[key] = repo
    if not repos:
        raise TrustInputError(
            "no repositories to trust",
            fix="pass --repos OWNER/REPO@REPO_ID at least once: an empty list trusts nobody",
        )
    with_ids = [r for r in repos.values() if r.repo_id]
    if require_ids and len(with_ids) != len(repos):
        missing = ", ".join(r.full_name for r in repos.values() if not r.repo_id)
        raise TrustInputError(
            f"repository ids are required here; missing for: {missing}",
            fix="write each as OWNER/REPO@REPO_ID (`gh api repos/OWNER/REPO --jq .id`)",
        )
    if with_ids and len(with_ids) != len(repos):
        missing = ", ".join(r.full_name for r in repos.values() if not r.repo_id)
        raise TrustInputError(
            f"some --repos have a repository id and some do not (missing: {missing})",
            fix="give every repository its id: a repository_id condition that omits one "
            "repository would refuse it",
        )
    return tuple(repos.values())


def account_id(value: str) -> str:
    """A 12-digit AWS account id."""
    if not _ACCOUNT.fullmatch(value):
        raise _bad("--account-id", value, "use the 12-digit AWS account id")
    return value


def oidc_provider_arn(value: str | None, account: str) -> tuple[str, str]:
    """The GitHub OIDC provider ARN (default: in ``account``, partition aws) and its partition."""
    if value is None:
        return f"arn:aws:iam::{account}:oidc-provider/{GITHUB_ISSUER_HOST}", "aws"
    match = _OIDC_PROVIDER_ARN.fullmatch(value)
    if match is None:
        raise _bad(
            "--oidc-provider-arn",
            value,
            f"use arn:aws:iam::ACCOUNT:oidc-provider/{GITHUB_ISSUER_HOST}",
        )
    if match["account"] != account:
        raise _bad("--oidc-provider-arn", value, f"the provider must be in account {account}")
    return value, match["partition"]


def role_name(value: str) -> str:
    """An IAM role name (no path)."""
    if not _ROLE_NAME.fullmatch(value):
        raise _bad("--gate-role-name", value, "use 1-64 characters of [A-Za-z0-9+=,.@_-]")
    return value


def role_arn(value: str, partition: str) -> str:
    """An IAM role ARN in ``partition``."""
    match = _ROLE_ARN.fullmatch(value)
    if match is None or match["partition"] != partition:
        raise _bad("--target-role-arn", value, f"use arn:{partition}:iam::ACCOUNT:role/NAME")
    return value


def audience(value: str) -> str:
    """An OIDC audience: a plain identifier or URL-like string, no wildcards or quotes."""
    if not _AUDIENCE.fullmatch(value):
        raise _bad("--audience", value, "use sts.amazonaws.com (what mint-creds requests)")
    return value


def project_number(value: str) -> str:
    """A GCP project number (digits, not the project id)."""
    if not _PROJECT_NUMBER.fullmatch(value):
        raise _bad(
            "--project-number",
            value,
            "use the numeric project number (`gcloud projects describe PROJECT_ID "
            "--format='value(projectNumber)'`)",
        )
    return value


def pool_or_provider(value: str, flag: str) -> str:
    """A workload identity pool or provider id: 4-32 of ``[a-z0-9-]``."""
    if not _POOL_OR_PROVIDER.fullmatch(value) or value.startswith("gcp-"):
        raise _bad(flag, value, "use 4-32 lowercase letters, digits and hyphens (not gcp-…)")
    return value


def service_account(value: str | None) -> str | None:
    """A user-managed service account e-mail, when given."""
    if value is not None and not _SERVICE_ACCOUNT.fullmatch(value):
        raise _bad("--service-account", value, "use NAME@PROJECT_ID.iam.gserviceaccount.com")
    return value
