"""Checks `oidc-subject` and `oidc-repos-opted-in`: OIDC subjects that name `job_workflow_ref`.

A cloud trust policy can only pin the gate workflow through the token's ``sub`` when the
subject template includes ``job_workflow_ref`` (DESIGN §1, point 3). An organization's template
(``GET /orgs/{org}/actions/oidc/customization/sub``: ``include_claim_keys``) reaches a
repository only when the repository opts in: ``GET /repos/{o}/{r}/actions/oidc/customization/sub``
answers ``use_default`` — true: GitHub's default subject; false with ``include_claim_keys``:
the repository's own template; false without keys: the organization's template.
"""

from __future__ import annotations

import json
from typing import Any

from envsecops.doctor.api import ORG_READ, REPO_ACTIONS, Read
from envsecops.doctor.context import Context
from envsecops.doctor.model import CheckResult, Status
from envsecops.errors import InfraError

CLAIM = "job_workflow_ref"
SUBJECT = "oidc-subject"
SUBJECT_TITLE = "OIDC subject includes job_workflow_ref"
OPT_IN = "oidc-repos-opted-in"
OPT_IN_TITLE = "every repository uses a subject with job_workflow_ref"
KEYS = ["repo", "context", CLAIM]
SHOWN = 10


def _org_fix(org: str) -> str:
    body = json.dumps({"include_claim_keys": KEYS})
    return (
        f"PUT /orgs/{org}/actions/oidc/customization/sub with {body} (API only; no settings page)"
    )


def _repo_fix(repo: str) -> str:
    return (
        f"PUT /repos/{repo}/actions/oidc/customization/sub with "
        f'{{"use_default": false}} to use the organization\'s template, or with '
        f"{json.dumps({'use_default': False, 'include_claim_keys': KEYS})}; then trust "
        "the new subject in the cloud (`envsecops trust-policy`)"
    )


def _keys(ctx: Context, read: Read) -> list[str] | None:
    data = read.data
    keys = data.get("include_claim_keys") if isinstance(data, dict) else None
    if keys is None:
        return None
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise InfraError(
            f"{ctx.api.settings.service}: {read.route}: include_claim_keys is not a list of names",
            fix="check that $GITHUB_API_URL points at a GitHub REST API",
        )
    return list(keys)


def _use_default(ctx: Context, read: Read) -> bool:
    value = read.data.get("use_default") if isinstance(read.data, dict) else None
    if not isinstance(value, bool):
        raise InfraError(
            f"{ctx.api.settings.service}: {read.route}: use_default is {str(value)[:20]!r}, "
            "not a boolean",
            fix="check that $GITHUB_API_URL points at a GitHub REST API",
        )
    return value


def _org_template(ctx: Context, org: str) -> Read:
    path = f"/orgs/{org}/actions/oidc/customization/sub"
    return ctx.once(f"oidc {org}", lambda: ctx.api.get(path, "the organization's OIDC template"))


def org_subject(ctx: Context) -> CheckResult:
    """The organization's template includes job_workflow_ref."""
    org = ctx.target.name
    read = _org_template(ctx, org)
    if read.refused is not None:
        return ctx.cannot_check(SUBJECT, SUBJECT_TITLE, read, ORG_READ)
    keys = _keys(ctx, read) or []
    if CLAIM in keys:
        return CheckResult(
            SUBJECT, SUBJECT_TITLE, Status.PASS, f"organization template: {keys}", "", (read.route,)
        )
    return CheckResult(
        SUBJECT,
        SUBJECT_TITLE,
        Status.FAIL,
        f"the organization template {keys or '(none: GitHub default)'} lacks {CLAIM}",
        _org_fix(org),
        (read.route,),
    )


def repo_subject(ctx: Context) -> CheckResult:
    """The repository's effective subject template includes job_workflow_ref."""
    name = ctx.target.name
    read = ctx.api.get(f"/repos/{name}/actions/oidc/customization/sub", "the OIDC template")
    if read.refused is not None:
        return ctx.cannot_check(SUBJECT, SUBJECT_TITLE, read, REPO_ACTIONS)
    keys = _keys(ctx, read)
    if _use_default(ctx, read):
        return CheckResult(
            SUBJECT,
            SUBJECT_TITLE,
            Status.FAIL,
            f"use_default is true: GitHub's default subject (repo:{name}:…) lacks {CLAIM}",
            _repo_fix(name),
            (read.route,),
        )
    if keys:
        status = Status.PASS if CLAIM in keys else Status.FAIL
        detail = f"repository template: {keys}" + (
            "" if status is Status.PASS else f" lacks {CLAIM}"
        )
        fix = "" if status is Status.PASS else _repo_fix(name)
        return CheckResult(SUBJECT, SUBJECT_TITLE, status, detail, fix, (read.route,))
    return _inherited(ctx, read)


def _inherited(ctx: Context, own: Read) -> CheckResult:
    """use_default false without keys: the organization's template applies, if there is one."""
    repo = ctx.repository()
    if repo.refused is not None:
        return ctx.cannot_check(SUBJECT, SUBJECT_TITLE, repo, REPO_ACTIONS, own.route)
    owner: Any = repo.data.get("owner") if isinstance(repo.data, dict) else None
    if not isinstance(owner, dict) or owner.get("type") != "Organization":
        return CheckResult(
            SUBJECT,
            SUBJECT_TITLE,
            Status.FAIL,
            "the repository uses no template of its own and its owner is no organization: "
            f"GitHub's default subject applies, without {CLAIM}",
            _repo_fix(ctx.target.name),
            (own.route, repo.route),
        )
    org = ctx.target.owner
    read = _org_template(ctx, org)
    if read.refused is not None:
        return ctx.cannot_check(SUBJECT, SUBJECT_TITLE, read, ORG_READ, own.route)
    keys = _keys(ctx, read) or []
    evidence = (own.route, read.route)
    if CLAIM in keys:
        detail = f"opted in to the organization template: {keys}"
        return CheckResult(SUBJECT, SUBJECT_TITLE, Status.PASS, detail, "", evidence)
    detail = f"opted in to the organization template {keys or '(none)'}, which lacks {CLAIM}"
    return CheckResult(SUBJECT, SUBJECT_TITLE, Status.FAIL, detail, _org_fix(org), evidence)


def repos_opted_in(ctx: Context) -> CheckResult:
    """Each unarchived repository of the organization has a subject naming job_workflow_ref."""
    org = ctx.target.name
    listing = ctx.api.pages(f"/orgs/{org}/repos", "the organization's repositories")
    if listing.refused is not None:
        return ctx.cannot_check(OPT_IN, OPT_IN_TITLE, listing, ORG_READ)
    names = sorted(
        str(item["full_name"])
        for item in listing.data
        if isinstance(item, dict)
        and isinstance(item.get("full_name"), str)
        and not item.get("archived")
    )
    if not names:
        return CheckResult(
            OPT_IN,
            OPT_IN_TITLE,
            Status.CANNOT_CHECK,
            f"cannot check: {listing.route} listed no unarchived repository (none exist, or the "
            "token sees none)",
            "use a token that can list the organization's repositories ("
            '"Metadata" repository (read) on all of them)',
            (listing.route,),
        )
    out, refused, evidence = _classify(ctx, names)
    routes = (listing.route, *evidence)
    if out:
        shown = ", ".join(out[:SHOWN]) + (
            f" and {len(out) - SHOWN} more" if len(out) > SHOWN else ""
        )
        return CheckResult(
            OPT_IN,
            OPT_IN_TITLE,
            Status.FAIL,
            f"{len(out)} of {len(names)} repositories do not use a subject with {CLAIM}: {shown}",
            _repo_fix("OWNER/REPO") + ", for each repository named",
            routes,
        )
    if refused:
        return CheckResult(
            OPT_IN,
            OPT_IN_TITLE,
            Status.CANNOT_CHECK,
            f"cannot check: token lacks the {REPO_ACTIONS.fine_grained} permission on "
            f"{len(refused)} of {len(names)} repositories: {', '.join(refused[:SHOWN])}",
            REPO_ACTIONS.fix(ctx.api.anonymous),
            routes,
        )
    return CheckResult(
        OPT_IN,
        OPT_IN_TITLE,
        Status.PASS,
        f"all {len(names)} repositories opted in (the organization template itself is "
        f"checked by {SUBJECT})",
        "",
        routes,
    )


def _classify(ctx: Context, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    out: list[str] = []
    refused: list[str] = []
    routes: list[str] = []
    for name in names:
        read = ctx.api.get(f"/repos/{name}/actions/oidc/customization/sub", "the OIDC template")
        routes.append(read.route)
        if read.refused is not None:
            refused.append(name)
            continue
        keys = _keys(ctx, read)
        if _use_default(ctx, read) or (keys and CLAIM not in keys):
            out.append(name)
    return out, refused, routes
