"""Checks `default-branch-protected` and `policy-codeowners`: who can change the policy file.

The policy is read from the default branch (DESIGN §1, point 1), so that branch must take
changes only through reviewed pull requests, and the policy file must belong to code owners
whose review is required. Protection comes from classic branch protection
(``GET /repos/{o}/{r}/branches/{b}/protection``; 404 "Branch not protected" when there is
none) or from rulesets (``GET /repos/{o}/{r}/rules/branches/{b}``: every active rule on the
branch, whatever level it is set at); either one is enough.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from envsecops.doctor import codeowners
from envsecops.doctor.api import CONTENTS, METADATA, REPO_ADMIN, Read, path_part
from envsecops.doctor.context import Context
from envsecops.doctor.model import CheckResult, Status

PROTECTED = "default-branch-protected"
PROTECTED_TITLE = "the default branch takes changes only through pull requests"
OWNED = "policy-codeowners"
OWNED_TITLE = "the policy file is owned in CODEOWNERS and code-owner review is required"
NOT_PROTECTED = "Branch not protected"


@dataclass(frozen=True, slots=True)
class Protection:
    """What the two sources say: True/False when known, None when no readable source says."""

    pull_requests: bool | None
    code_owner_review: bool | None
    found: tuple[str, ...]
    refused: tuple[Read, ...]
    evidence: tuple[str, ...]


def _ruleset_body() -> str:
    return json.dumps(
        {
            "name": "envsecops: reviewed changes only",
            "target": "branch",
            "enforcement": "active",
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
            "rules": [
                {
                    "type": "pull_request",
                    "parameters": {
                        "required_approving_review_count": 1,
                        "require_code_owner_review": True,
                        "dismiss_stale_reviews_on_push": True,
                        "require_last_push_approval": True,
                        "required_review_thread_resolution": False,
                    },
                },
                {"type": "non_fast_forward"},
                {"type": "deletion"},
            ],
        }
    )


def _protect_fix(ctx: Context, branch: str) -> str:
    return (
        f"repository {ctx.target.name}: Settings → Rules → Rulesets → New branch ruleset "
        f"targeting the default branch ({branch}) with `Require a pull request before merging` "
        f"and `Require review from Code Owners`; or POST /repos/{ctx.target.name}/rulesets with "
        + _ruleset_body()
    )


def _classic(ctx: Context, branch: str) -> Read:
    path = f"/repos/{ctx.target.name}/branches/{path_part(branch)}/protection"
    return ctx.once("protection", lambda: ctx.api.get(path, "the branch protection"))


def protection(ctx: Context, branch: str) -> Protection:
    """Combine classic protection and the rules on the branch."""
    classic = _classic(ctx, branch)
    rules = ctx.branch_rules()
    found: list[str] = []
    refused: list[Read] = []
    pull_requests = code_owners = False
    known = True
    if classic.refused is None:
        reviews: Any = (
            classic.data.get("required_pull_request_reviews")
            if isinstance(classic.data, dict)
            else None
        )
        if isinstance(reviews, dict):
            pull_requests = True
            code_owners = reviews.get("require_code_owner_reviews") is True
            found.append(
                f"branch protection requires reviews (code owners: {str(code_owners).lower()})"
            )
        else:
            found.append("branch protection without required reviews")
    elif classic.refused.status == 404 and classic.refused.message == NOT_PROTECTED:
        found.append("no branch protection")
    else:
        refused.append(classic)
        known = False
    if rules.refused is None:
        for rule in rules.data or []:
            if isinstance(rule, dict) and rule.get("type") == "pull_request":
                params: Any = rule.get("parameters")
                owners = (
                    isinstance(params, dict) and params.get("require_code_owner_review") is True
                )
                pull_requests = True
                code_owners = code_owners or owners
                found.append(
                    f"ruleset {rule.get('ruleset_id')} ({rule.get('ruleset_source_type')} "
                    f"{rule.get('ruleset_source')}) requires a pull request (code owners: "
                    f"{str(owners).lower()})"
                )
        if not any("ruleset" in item for item in found):
            found.append("no active ruleset rule requires a pull request")
    else:
        refused.append(rules)
        known = False
    return Protection(
        True if pull_requests else (False if known else None),
        True if code_owners else (False if known else None),
        tuple(found),
        tuple(refused),
        (classic.route, rules.route),
    )


def default_branch_protected(ctx: Context) -> CheckResult:
    """A pull request is required on the default branch (classic protection or a ruleset)."""
    branch = ctx.default_branch()
    if branch is None:
        return ctx.cannot_check(PROTECTED, PROTECTED_TITLE, ctx.repository(), METADATA)
    seen = protection(ctx, branch)
    detail = f"{branch}: " + "; ".join(seen.found)
    if seen.pull_requests:
        return CheckResult(PROTECTED, PROTECTED_TITLE, Status.PASS, detail, "", seen.evidence)
    if seen.pull_requests is False:
        return CheckResult(
            PROTECTED,
            PROTECTED_TITLE,
            Status.FAIL,
            detail,
            _protect_fix(ctx, branch),
            seen.evidence,
        )
    first = seen.refused[0]
    needs = REPO_ADMIN if "/protection" in first.route else METADATA
    result = ctx.cannot_check(PROTECTED, PROTECTED_TITLE, first, needs, *seen.evidence)
    return CheckResult(
        result.id,
        result.title,
        result.status,
        f"{result.detail}; {detail}",
        result.fix,
        seen.evidence,
    )


def policy_codeowners(ctx: Context) -> CheckResult:
    """The policy file's last matching CODEOWNERS rule names owners, whose review is required."""
    branch = ctx.default_branch()
    if branch is None:
        return ctx.cannot_check(OWNED, OWNED_TITLE, ctx.repository(), METADATA)
    policy = ctx.options.policy_path
    routes: list[str] = []
    location = text = None
    for candidate in codeowners.LOCATIONS:
        read = ctx.api.file(ctx.target.name, candidate, branch)
        routes.append(read.route)
        if read.refused is not None:
            return ctx.cannot_check(OWNED, OWNED_TITLE, read, CONTENTS, *routes[:-1])
        if read.data is not None:
            location, text = candidate, bytes(read.data).decode("utf-8", "replace")
            break
    line = f"/{policy} @{ctx.target.owner}/security-team"
    add = f"add `{line}` (and `/.github/CODEOWNERS` with the same owners)"
    if location is None or text is None:
        detail = f"no CODEOWNERS on {branch} in {', '.join(codeowners.LOCATIONS)}"
        return CheckResult(
            OWNED,
            OWNED_TITLE,
            Status.FAIL,
            detail,
            f"create .github/CODEOWNERS on {branch}: {add}",
            tuple(routes),
        )
    rules = codeowners.parse(text)
    owner = codeowners.owner_rule(rules, policy)
    itself = codeowners.owner_rule(rules, location)
    problems = []
    if owner is None or not owner.owners:
        how = (
            "no rule matches it"
            if owner is None
            else f"line {owner.line} `{owner.pattern}` names no owner"
        )
        problems.append(f"{policy} is not owned ({how})")
    if itself is None or not itself.owners:
        problems.append(f"{location} itself is not owned, so anyone who can merge can rewrite it")
    if problems:
        return CheckResult(
            OWNED,
            OWNED_TITLE,
            Status.FAIL,
            f"{location}: " + "; ".join(problems),
            f"in {location} on {branch}: {add}",
            tuple(routes),
        )
    if owner is None:  # unreachable: an unowned policy is a problem above
        raise ValueError("no owner rule")
    detail = f"{location} line {owner.line} `{owner.pattern}` → {' '.join(owner.owners)}"
    seen = protection(ctx, branch)
    evidence = (*routes, *seen.evidence)
    if seen.code_owner_review:
        return CheckResult(
            OWNED,
            OWNED_TITLE,
            Status.PASS,
            detail + "; code-owner review is required",
            "",
            evidence,
        )
    if seen.code_owner_review is False:
        return CheckResult(
            OWNED,
            OWNED_TITLE,
            Status.FAIL,
            detail + "; but code-owner review is not required on " + branch,
            _protect_fix(ctx, branch),
            evidence,
        )
    first = seen.refused[0]
    needs = REPO_ADMIN if "/protection" in first.route else METADATA
    result = ctx.cannot_check(OWNED, OWNED_TITLE, first, needs)
    return CheckResult(
        OWNED, OWNED_TITLE, result.status, f"{detail}; {result.detail}", result.fix, evidence
    )
