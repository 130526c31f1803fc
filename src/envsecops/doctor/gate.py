"""Check `gate-workflow-required`: a ruleset makes the gate workflow a required workflow.

A ruleset rule of type ``workflows`` lists workflows that must pass, each as ``repository_id``,
``path`` and optionally ``ref`` or ``sha``. For a repository the rules in force on its default
branch come from ``GET /repos/{o}/{r}/rules/branches/{b}`` (active rules only, whatever level
they are set at); for an organization each ruleset of ``GET /orgs/{org}/rulesets`` is read with
``GET /orgs/{org}/rulesets/{id}`` for its rules. The gate named by ``--gate-workflow`` is matched
by its repository's id (``GET /repos/{owner}/{repo}``) and its path.
"""

from __future__ import annotations

import json
from typing import Any

from envsecops.doctor.api import METADATA, ORG_ADMIN
from envsecops.doctor.context import Context, GateWorkflow
from envsecops.doctor.model import CheckResult, Status

GATE = "gate-workflow-required"
GATE_TITLE = "a ruleset requires the gate workflow"


def _workflows(rules: Any) -> list[dict[str, Any]]:
    """Every workflow entry of every `workflows` rule in ``rules``."""
    out: list[dict[str, Any]] = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict) or rule.get("type") != "workflows":
            continue
        params = rule.get("parameters")
        entries = params.get("workflows") if isinstance(params, dict) else None
        out.extend(entry for entry in entries or [] if isinstance(entry, dict))
    return out


def _names(entry: dict[str, Any]) -> str:
    where = entry.get("ref") or entry.get("sha") or "default branch"
    return f"repository {entry.get('repository_id')} {entry.get('path')} @ {where}"


def _matches(entry: dict[str, Any], gate: GateWorkflow, repo_id: object) -> bool:
    if entry.get("repository_id") != repo_id or entry.get("path") != gate.path:
        return False
    if gate.ref is None:
        return True
    pinned = {entry.get("sha"), entry.get("ref")}
    return bool({gate.ref, f"refs/heads/{gate.ref}", f"refs/tags/{gate.ref}"} & pinned)


def _fix(ctx: Context, gate: GateWorkflow | None, repo_id: object) -> str:
    org = ctx.target.owner
    entry: dict[str, Any] = {
        "repository_id": repo_id if repo_id is not None else "<id of OWNER/REPO>",
        "path": gate.path if gate else ".github/workflows/gate.yml",
    }
    if gate and gate.ref:
        entry["ref" if not _is_sha(gate.ref) else "sha"] = gate.ref
    body = json.dumps(
        {
            "name": "envsecops gate",
            "target": "branch",
            "enforcement": "active",
            "conditions": {
                "ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []},
                "repository_name": {"include": ["~ALL"], "exclude": []},
            },
            "rules": [{"type": "workflows", "parameters": {"workflows": [entry]}}],
        }
    )
    name = str(gate) if gate else "the gate workflow"
    return (
        f"organization {org}: Settings → Repository → Rulesets → New branch ruleset → "
        f"`Require workflows to pass before merging` → add {name}; or POST /orgs/{org}/rulesets "
        f"with {body}"
    )


def _is_sha(ref: str) -> bool:
    return len(ref) == 40 and all(char in "0123456789abcdef" for char in ref.lower())


def gate_required(ctx: Context) -> CheckResult:
    """The gate workflow is required by an active ruleset."""
    gate = ctx.options.gate
    repo_id: object = None
    routes: list[str] = []
    if gate is not None:
        read = ctx.repository(gate.repo)
        if read.refused is not None:
            return ctx.cannot_check(GATE, GATE_TITLE, read, METADATA)
        routes.append(read.route)
        repo_id = read.data.get("id") if isinstance(read.data, dict) else None
    if ctx.target.kind == "org":
        return _org(ctx, gate, repo_id, routes)
    rules = ctx.branch_rules()
    if rules.refused is not None:
        return ctx.cannot_check(GATE, GATE_TITLE, rules, METADATA, *routes)
    branch = ctx.default_branch()
    return _verdict(
        ctx, gate, repo_id, _workflows(rules.data), f"on {branch}", (*routes, rules.route)
    )


def _org(
    ctx: Context, gate: GateWorkflow | None, repo_id: object, routes: list[str]
) -> CheckResult:
    org = ctx.target.name
    listing = ctx.api.pages(f"/orgs/{org}/rulesets", "the organization's rulesets")
    if listing.refused is not None:
        return ctx.cannot_check(GATE, GATE_TITLE, listing, ORG_ADMIN, *routes)
    routes.append(listing.route)
    active: list[dict[str, Any]] = []
    evaluating: list[dict[str, Any]] = []
    for summary in listing.data:
        if not isinstance(summary, dict) or summary.get("enforcement") == "disabled":
            continue
        read = ctx.api.get(f"/orgs/{org}/rulesets/{int(summary['id'])}", "a ruleset")
        routes.append(read.route)
        if read.refused is not None:
            return ctx.cannot_check(GATE, GATE_TITLE, read, ORG_ADMIN, *routes[:-1])
        entries = _workflows(read.data.get("rules") if isinstance(read.data, dict) else None)
        bucket = active if summary.get("enforcement") == "active" else evaluating
        bucket.extend({**entry, "_ruleset": summary.get("name")} for entry in entries)
    result = _verdict(ctx, gate, repo_id, active, f"in the active rulesets of {org}", tuple(routes))
    if result.status is not Status.PASS and evaluating:
        names = sorted({str(entry["_ruleset"]) for entry in evaluating})
        return CheckResult(
            result.id,
            result.title,
            result.status,
            result.detail + f"; rulesets in evaluate mode (not enforced) name workflows: {names}",
            result.fix + "; or switch the evaluate-mode ruleset to active",
            result.evidence,
        )
    return result


def _verdict(
    ctx: Context,
    gate: GateWorkflow | None,
    repo_id: object,
    entries: list[dict[str, Any]],
    where: str,
    evidence: tuple[str, ...],
) -> CheckResult:
    required = "; ".join(_names(entry) for entry in entries) or "none"
    if gate is None:
        if entries:
            return CheckResult(
                GATE,
                GATE_TITLE,
                Status.CANNOT_CHECK,
                f"cannot check: no --gate-workflow given; required workflows {where}: {required}",
                "pass --gate-workflow OWNER/REPO/.github/workflows/gate.yml (the gate to look for)",
                evidence,
            )
        return CheckResult(
            GATE,
            GATE_TITLE,
            Status.FAIL,
            f"no workflow is required {where}",
            _fix(ctx, None, None),
            evidence,
        )
    hits = [entry for entry in entries if _matches(entry, gate, repo_id)]
    if hits:
        detail = f"{gate} (repository id {repo_id}) is required {where}: {_names(hits[0])}"
        return CheckResult(GATE, GATE_TITLE, Status.PASS, detail, "", evidence)
    detail = f"{gate} (repository id {repo_id}) is not required {where}; required: {required}"
    return CheckResult(GATE, GATE_TITLE, Status.FAIL, detail, _fix(ctx, gate, repo_id), evidence)
