"""The pin-check job summary: Markdown from a jinja2 template, escaped and kept under 1 MiB."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from envsecops.gh.commands import STEP_SUMMARY_LIMIT, SummaryWrite, append_step_summary
from envsecops.model import Finding, Severity
from envsecops.pins.engine import PinReport
from envsecops.pins.rules.base import Rule
from envsecops.report.context import RenderContext
from envsecops.report.markdown import markdown_escape as markdown_escape  # noqa: PLC0414 - re-export
from envsecops.report.markdown import template_environment

TEMPLATE = "pin-check-summary.md.j2"
MAX_FINDING_ROWS = 300
MAX_SUPPRESSED_ROWS = 100
MAX_SKIPPED_ROWS = 50
CELL_CHARS = 300
"""Untrusted text is clipped to this many characters per table cell."""
BUDGET = STEP_SUMMARY_LIMIT - 64 * 1024
"""Room kept free below the runner's cap for other steps' summaries in the same file."""

SEVERITIES = (Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


def _environment() -> jinja2.Environment:
    return template_environment()


@dataclass(frozen=True, slots=True)
class Caps:
    """How many rows of each list the summary shows."""

    findings: int = MAX_FINDING_ROWS
    suppressed: int = MAX_SUPPRESSED_ROWS
    skipped: int = MAX_SKIPPED_ROWS

    def halved(self) -> Caps:
        """Half the rows of every list."""
        return Caps(self.findings // 2, self.suppressed // 2, self.skipped // 2)


def _location(finding: Finding) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}"


def _context(
    report: PinReport, context: RenderContext, rules: Mapping[str, Rule], caps: Caps
) -> dict[str, Any]:
    active = Counter(f.severity for f in report.findings)
    held = Counter(s.finding.severity for s in report.suppressed)
    by_rule = Counter(f.rule_id for f in report.findings)
    held_by_rule = Counter(s.finding.rule_id for s in report.suppressed)
    failing = sum(1 for f in report.findings if f.severity.rank >= context.fail_on.rank)
    rule_rows = []
    for rule_id in sorted(set(by_rule) | set(held_by_rule), key=lambda r: (-by_rule[r], r)):
        rule = rules.get(rule_id)
        rule_rows.append(
            {
                "id": rule_id,
                "title": rule.title if rule else "",
                "help_uri": rule.help_uri if rule else None,
                "severity": str(rule.severity) if rule else "",
                "active": by_rule[rule_id],
                "suppressed": held_by_rule[rule_id],
            }
        )
    ordered = sorted(report.findings, key=lambda f: (-f.severity.rank, f.sort_key()))
    findings = [
        {
            "severity": str(f.severity),
            "rule_id": f.rule_id,
            "location": _location(f),
            "reference": f.reference,
            "message": f.message + (f" Fix: {f.fix}" if f.fix else ""),
        }
        for f in ordered[: caps.findings]
    ]
    suppressed = [
        {
            "rule_id": s.finding.rule_id,
            "location": _location(s.finding),
            "reference": s.finding.reference,
            "by": s.by,
            "reason": s.reason,
            "expires": s.expires.isoformat() if s.expires else None,
        }
        for s in report.suppressed[: caps.suppressed]
    ]
    return {
        "failing": failing,
        "below": len(report.findings) - failing,
        "fail_on": str(context.fail_on),
        "files": len(report.files),
        "suppressed_total": len(report.suppressed),
        "version": context.version,
        "policy": context.policy_source,
        "severities": [
            {"severity": str(s), "active": active[s], "suppressed": held[s]} for s in SEVERITIES
        ],
        "rule_rows": rule_rows,
        "findings": findings,
        "more_findings": len(report.findings) - len(findings),
        "suppressed": suppressed,
        "more_suppressed": len(report.suppressed) - len(suppressed),
        "skipped": [{"path": p, "reason": r} for p, r in report.skipped[: caps.skipped]],
        "more_skipped": max(0, len(report.skipped) - caps.skipped),
        "stats": [
            {"kind": kind, "metric": metric, "count": count}
            for kind, metrics in report.stats().items()
            for metric, count in metrics.items()
        ],
        "cell": CELL_CHARS,
    }


def render_summary_with(
    report: PinReport,
    context: RenderContext,
    rules: Mapping[str, Rule],
    *,
    budget: int = BUDGET,
    caps: Caps | None = None,
) -> str:
    """The summary Markdown, with fewer rows until it fits in ``budget`` UTF-8 bytes."""
    template = _environment().get_template(TEMPLATE)
    caps = caps or Caps()
    while True:
        text = template.render(_context(report, context, rules, caps))
        if len(text.encode("utf-8")) <= budget or caps == Caps(0, 0, 0):
            return text
        caps = caps.halved()


def render_summary(report: PinReport, context: RenderContext) -> str:
    """The summary Markdown, titling rules from the registry."""
    from envsecops.pins.registry import RULES

    return render_summary_with(report, context, RULES)


def append_summary(path: Path, report: PinReport, context: RenderContext) -> SummaryWrite:
    """Append the summary to ``$GITHUB_STEP_SUMMARY``; the file never exceeds 1 MiB."""
    return append_step_summary(path, render_summary(report, context))
