"""The record-decision job summary (Markdown under 1 MiB) and the deny-reason annotations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from envsecops.gh.commands import (
    ANNOTATIONS_PER_LEVEL,
    STEP_SUMMARY_LIMIT,
    AnnotationLevel,
    annotation,
    capped_annotations,
)
from envsecops.ledger.interface import Receipt
from envsecops.model.bag import BagDiff, Component, ModelError
from envsecops.model.decision import PRINCIPAL_CLAIMS, Credential, Decision, Mode, Reason, Verdict
from envsecops.model.ledger import EntryKind
from envsecops.report.markdown import template_environment

TEMPLATE = "decision-summary.md.j2"
MAX_REASON_ROWS = 200
MAX_DRIFT_ROWS = 200
CELL_CHARS = 300
"""Untrusted text is clipped to this many characters per table cell."""
BUDGET = STEP_SUMMARY_LIMIT - 64 * 1024
"""Room kept free below the runner's cap for other steps' summaries in the same file."""
SEVERITIES = ("high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `record` is reporting: the entry, its parts, and where it was (not) written."""

    kind: EntryKind
    decision: Decision
    receipts: tuple[Receipt, ...]
    failures: tuple[tuple[str, str], ...] = ()
    credential: Credential | None = None
    drift: BagDiff | None = None
    pin_check: Mapping[str, Any] | None = None
    error: str | None = None
    version: str = field(default="")


def pin_check_counts(document: Any) -> dict[str, Any]:
    """Findings and suppressions by severity from a pin-check JSON (v1) report."""
    if not isinstance(document, Mapping) or document.get("version") != "1":
        raise ModelError("not a pin-check JSON report (version 1): run `pin-check --format json`")
    findings, suppressed, files = (document.get(k) for k in ("findings", "suppressed", "files"))
    if not (
        isinstance(findings, list) and isinstance(suppressed, list) and isinstance(files, list)
    ):
        raise ModelError("a pin-check report needs `findings`, `suppressed` and `files` lists")
    try:
        active = Counter(str(f["severity"]) for f in findings)
        held = Counter(str(s["finding"]["severity"]) for s in suppressed)
    except (KeyError, TypeError) as exc:
        raise ModelError(f"a pin-check finding has no severity ({exc})") from exc
    unknown = (set(active) | set(held)) - set(SEVERITIES)
    if unknown:
        raise ModelError(f"unknown pin-check severities: {', '.join(sorted(unknown))}")
    policy = document.get("policy")
    return {
        "files": len(files),
        "policy": policy if isinstance(policy, str) else None,
        "findings": {s: active[s] for s in SEVERITIES},
        "suppressed": {s: held[s] for s in SEVERITIES},
    }


def _component_text(component: Component) -> str:
    return component.digest or component.version or component.status.value


def _drift(diff: BagDiff, cap: int) -> dict[str, Any]:
    rows: list[dict[str, str]] = []
    for change, items in (("added", diff.added), ("removed", diff.removed)):
        for c in items:
            text = _component_text(c)
            before, after = ("", text) if change == "added" else (text, "")
            rows.append(
                {"change": change, "kind": c.kind.value, "name": c.name, "path": c.path or ""}
                | {"before": before, "after": after}
            )
    for old, new in diff.changed:
        rows.append(
            {"change": "changed", "kind": new.kind.value, "name": new.name, "path": new.path or ""}
            | {"before": _component_text(old), "after": _component_text(new)}
        )
    return {
        "added": len(diff.added),
        "removed": len(diff.removed),
        "changed": len(diff.changed),
        "rows": rows[:cap],
        "more": max(0, len(rows) - cap),
    }


def _context(recorded: Recorded, reason_cap: int, drift_cap: int) -> dict[str, Any]:
    decision, credential = recorded.decision, recorded.credential
    claims = [
        {"claim": name, "value": value}
        for name in PRINCIPAL_CLAIMS
        if (value := decision.principal.get(name)) is not None
    ]
    pin = recorded.pin_check
    return {
        "kind": recorded.kind.value,
        "verdict": decision.verdict.value,
        "mode": decision.mode.value,
        "decision_id": decision.decision_id,
        "env_hash": decision.env_hash,
        "policy_id": decision.policy_id,
        "policy_source": decision.policy_source,
        "policy_ref": decision.policy_ref,
        "attestation": decision.attestation_digest,
        "issued_at": decision.issued_at,
        "expires_at": decision.expires_at,
        "job": decision.job,
        "error": recorded.error,
        "origin": decision.principal.origin,
        "principal": claims,
        "reason_total": len(decision.reasons),
        "reasons": [r.to_json() for r in decision.reasons[:reason_cap]],
        "more_reasons": max(0, len(decision.reasons) - reason_cap),
        "drift": _drift(recorded.drift, drift_cap) if recorded.drift is not None else None,
        "pin_check": None
        if pin is None
        else {
            "files": pin["files"],
            "policy": pin["policy"],
            "rows": [
                {"severity": s, "findings": pin["findings"][s], "suppressed": pin["suppressed"][s]}
                for s in SEVERITIES
            ],
        },
        "credential": None
        if credential is None
        else {
            "provider": credential.provider,
            "role": credential.role,
            "session_name": credential.session_name,
            "expires_at": credential.expires_at,
            "source_identity": credential.source_identity,
            "tags": [{"key": k, "value": v} for k, v in credential.tags],
        },
        "receipts": [
            {"ledger": r.ledger, "location": r.location, "seq": r.seq, "digest": r.digest}
            for r in recorded.receipts
        ],
        "failures": [{"ledger": name, "error": error} for name, error in recorded.failures],
        "version": recorded.version,
        "cell": CELL_CHARS,
    }


def render_summary(recorded: Recorded, *, budget: int = BUDGET) -> str:
    """The summary Markdown, listing fewer reasons and drift rows until it fits ``budget``."""
    template = template_environment().get_template(TEMPLATE)
    reason_cap, drift_cap = MAX_REASON_ROWS, MAX_DRIFT_ROWS
    while True:
        text = template.render(_context(recorded, reason_cap, drift_cap))
        if len(text.encode("utf-8")) <= budget or reason_cap == drift_cap == 0:
            return text
        reason_cap, drift_cap = reason_cap // 2, drift_cap // 2


def _reason_annotation(level: AnnotationLevel, reason: Reason) -> str:
    return annotation(
        level, f"{reason.subject}: {reason.message}", title=f"envsecops deny: {reason.code}"
    )


def _aggregate(decision_id: str, level: AnnotationLevel, hidden: int, shown: int) -> str:
    return annotation(
        level,
        f"{hidden} more deny reasons are not annotated: GitHub shows only "
        f"{ANNOTATIONS_PER_LEVEL} annotations of a level per step ({shown} shown above). Every "
        f"reason is in the job summary and in the ledger (`envsecops audit why {decision_id}`).",
        title=f"envsecops deny: {hidden} more reasons",
    )


def annotation_lines(decision: Decision, failures: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Errors for ledgers that refused the entry, then the deny reasons, capped per level.

    A deny in enforce mode annotates its reasons as errors, in audit mode as warnings; the
    ledger errors share the error level's 10 lines, so the reasons get what is left.
    """
    lines = [
        annotation(
            AnnotationLevel.ERROR,
            f"the decision was not recorded in {name}: {error}",
            title="envsecops record: ledger failed",
        )
        for name, error in failures
    ]
    if decision.verdict is not Verdict.DENY:
        return lines
    enforce = decision.mode is Mode.ENFORCE
    level = AnnotationLevel.ERROR if enforce else AnnotationLevel.WARNING
    room = max(1, ANNOTATIONS_PER_LEVEL - (len(lines) if enforce else 0))
    reasons = decision.reasons or (
        Reason("no-reason-given", decision.decision_id, "the decision is a deny without reasons"),
    )
    return lines + capped_annotations(
        reasons,
        partial(_reason_annotation, level),
        partial(_aggregate, decision.decision_id, level),
        room,
    )
