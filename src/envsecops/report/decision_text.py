"""The readable verify result: verdict, mode, env hash, policy, signer, then reasons by code.

The renderer decides nothing: it receives the finished decision. Reason text comes from the
bag (file paths, package names, variable names), so every character that is not printable is
shown escaped and long text is clipped; the caller wraps the whole table in
``::stop-commands::`` when it prints in GitHub Actions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from envsecops.model.decision import Decision, Mode, Reason, Verdict

ROWS_PER_CODE = 10
"""Reasons printed per code; the rest are counted (every one is in decision.json)."""
MAX_CELL = 400
"""Characters of untrusted text shown per field."""


def clean(text: str, limit: int = MAX_CELL) -> str:
    """``text`` with non-printable characters escaped and clipped to ``limit`` characters."""
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class DecisionView:
    """What the table shows besides the decision itself."""

    decision: Decision
    policy_source: str  # where the policy was read: a path, or OWNER/REPO@BRANCH:PATH (commit)
    attestation_signer: str | None  # who signed the bag attestation; None when it did not verify
    decision_path: str
    decision_attestation: str | None  # the signed decision file; None when unsigned
    drift_path: str | None = None
    notes: Sequence[str] = ()


def headline(decision: Decision) -> str:
    """The first line: the verdict, and in audit mode that a deny does not fail the step."""
    verdict = decision.verdict.value.upper()
    if decision.verdict is Verdict.DENY and decision.mode is Mode.AUDIT:
        return (
            f"verdict: {verdict} (AUDIT MODE: the decision is deny, the step passes only "
            "because the policy is in audit mode; no credential will be minted on it)"
        )
    return f"verdict: {verdict} ({decision.mode.value} mode)"


def _grouped(reasons: Sequence[Reason]) -> dict[str, list[Reason]]:
    groups: dict[str, list[Reason]] = defaultdict(list)
    for reason in reasons:
        groups[reason.code].append(reason)
    return dict(sorted(groups.items()))


def render_decision(view: DecisionView, *, rows_per_code: int = ROWS_PER_CODE) -> str:
    """The table as text, ending with a newline."""
    decision = view.decision
    origin = decision.principal.origin
    rows = [
        ("decision", decision.decision_id),
        ("env hash", decision.env_hash or "(unknown: no readable bag)"),
        (
            "policy",
            f"{decision.policy_id or '(none loaded)'} from {view.policy_source} "
            f"({decision.policy_source})",
        ),
        ("attestation", view.attestation_signer or "(did not verify)"),
        ("job", f"{decision.job} (facts from {origin})"),
        ("issued", f"{decision.issued_at}, expires {decision.expires_at}"),
        ("written", view.decision_path),
        ("signed", view.decision_attestation or "(NOT signed: see decision.unsigned)"),
    ]
    if view.drift_path:
        rows.append(("drift", view.drift_path))
    lines = [headline(decision)]
    lines += [f"  {name:<12} {clean(value)}" for name, value in rows]
    lines += [f"  note: {clean(note)}" for note in view.notes]
    if not decision.reasons:
        lines.append("no reasons: every check passed")
        return "\n".join(lines) + "\n"
    groups = _grouped(decision.reasons)
    lines.append(f"reasons: {len(decision.reasons)} in {len(groups)} codes")
    for code, reasons in groups.items():
        lines.append(f"  {clean(code)} ({len(reasons)})")
        for reason in reasons[:rows_per_code]:
            lines.append(f"    {clean(reason.subject, 200)}: {clean(reason.message)}")
        hidden = len(reasons) - rows_per_code
        if hidden > 0:
            lines.append(f"    ... and {hidden} more {clean(code)} reasons (all in decision.json)")
    return "\n".join(lines) + "\n"
