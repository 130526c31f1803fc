"""Checks `workflow-token-read-only` and `sha-pinning-required`: the Actions settings.

``GET …/actions/permissions/workflow`` answers ``default_workflow_permissions`` ("read" or
"write") and ``can_approve_pull_request_reviews``; ``GET …/actions/permissions`` answers the
allowed-actions policy, with ``sha_pinning_required`` (whether every action must be pinned to a
full-length commit SHA) where GitHub supports that policy. Both exist for a repository
(``/repos/{o}/{r}``) and an organization (``/orgs/{org}``).
"""

from __future__ import annotations

import json

from envsecops.doctor.api import ORG_ADMIN, REPO_ADMIN, Permission
from envsecops.doctor.context import Context
from envsecops.doctor.model import CheckResult, Status
from envsecops.errors import InfraError

TOKEN = "workflow-token-read-only"  # noqa: S105 - a check id
TOKEN_TITLE = "default GITHUB_TOKEN permissions are read-only"  # noqa: S105
PINNING = "sha-pinning-required"
PINNING_TITLE = "actions must be pinned to a full-length commit SHA"


def _scope(ctx: Context) -> tuple[str, Permission, str]:
    """The API prefix, the permission it needs, and the settings page that holds the switch."""
    if ctx.target.kind == "org":
        prefix = f"/orgs/{ctx.target.name}"
        return prefix, ORG_ADMIN, f"organization {ctx.target.name}: Settings → Actions → General"
    prefix = f"/repos/{ctx.target.name}"
    return prefix, REPO_ADMIN, f"repository {ctx.target.name}: Settings → Actions → General"


def workflow_token(ctx: Context) -> CheckResult:
    """default_workflow_permissions is "read" and Actions may not approve pull requests."""
    prefix, needs, page = _scope(ctx)
    read = ctx.api.get(f"{prefix}/actions/permissions/workflow", "the workflow token defaults")
    if read.refused is not None:
        return ctx.cannot_check(TOKEN, TOKEN_TITLE, read, needs)
    data = read.data if isinstance(read.data, dict) else {}
    default = data.get("default_workflow_permissions")
    approve = data.get("can_approve_pull_request_reviews")
    if default not in {"read", "write"} or not isinstance(approve, bool):
        raise InfraError(
            f"{ctx.api.settings.service}: {read.route} answered default_workflow_permissions "
            f"{str(default)[:20]!r}, can_approve_pull_request_reviews {str(approve)[:20]!r}",
            fix="check that $GITHUB_API_URL points at a GitHub REST API",
        )
    detail = (
        f"default_workflow_permissions: {default}; "
        f"can_approve_pull_request_reviews: {str(approve).lower()}"
    )
    if default == "read" and not approve:
        return CheckResult(TOKEN, TOKEN_TITLE, Status.PASS, detail, "", (read.route,))
    fix = (
        f"{page} → Workflow permissions: choose `Read repository contents and packages "
        "permissions` and clear `Allow GitHub Actions to create and approve pull requests`; or "
        f'PUT {prefix}/actions/permissions/workflow with {{"default_workflow_permissions": '
        '"read", "can_approve_pull_request_reviews": false}'
    )
    return CheckResult(TOKEN, TOKEN_TITLE, Status.FAIL, detail, fix, (read.route,))


def sha_pinning(ctx: Context) -> CheckResult:
    """sha_pinning_required is true in the allowed-actions policy."""
    prefix, needs, page = _scope(ctx)
    read = ctx.api.get(f"{prefix}/actions/permissions", "the allowed-actions policy")
    if read.refused is not None:
        return ctx.cannot_check(PINNING, PINNING_TITLE, read, needs)
    data = read.data if isinstance(read.data, dict) else {}
    value = data.get("sha_pinning_required")
    required = "enabled_repositories" if ctx.target.kind == "org" else "enabled"
    body = json.dumps(
        {
            required: data.get(required, "all" if ctx.target.kind == "org" else True),
            "allowed_actions": data.get("allowed_actions", "all"),
            "sha_pinning_required": True,
        }
    )
    fix = (
        f"{page} → Policies: turn on `Require actions to be pinned to a full-length commit SHA`; "
        f"or PUT {prefix}/actions/permissions with {body}"
    )
    if value is None:
        return CheckResult(
            PINNING,
            PINNING_TITLE,
            Status.CANNOT_CHECK,
            f"cannot check: {read.route} answered without sha_pinning_required (a GitHub "
            "that predates the policy, e.g. an older GitHub Enterprise Server)",
            "upgrade to a GitHub that offers the policy, then: " + fix,
            (read.route,),
        )
    if not isinstance(value, bool):
        raise InfraError(
            f"{ctx.api.settings.service}: {read.route}: sha_pinning_required is "
            f"{str(value)[:20]!r}, not a boolean",
            fix="check that $GITHUB_API_URL points at a GitHub REST API",
        )
    allowed = data.get("allowed_actions")
    detail = f"sha_pinning_required: {str(value).lower()}; allowed_actions: {allowed}"
    if value:
        return CheckResult(PINNING, PINNING_TITLE, Status.PASS, detail, "", (read.route,))
    return CheckResult(PINNING, PINNING_TITLE, Status.FAIL, detail, fix, (read.route,))
