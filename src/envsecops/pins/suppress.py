"""Suppressions: inline `# envsecops: ignore[rule] reason` comments and policy exceptions."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from envsecops.model import Finding
from envsecops.pins.source import SourceFile
from envsecops.policy.pins import PinsPolicy

INLINE = re.compile(r"envsecops:\s*ignore\[(?P<rules>[a-z0-9,\s-]+)\](?P<reason>[^\n]*)")
COMMENT_ONLY = re.compile(r"^\s*(#|//)")


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding that was accepted, by what (inline or policy), and why."""

    finding: Finding
    by: str
    reason: str
    expires: date | None = None


def _inline_reason(line: str, rule_id: str) -> str | None:
    match = INLINE.search(line)
    if match is None:
        return None
    rules = {part.strip() for part in match.group("rules").split(",")}
    if rule_id not in rules:
        return None
    return match.group("reason").strip(" \t-:#*/") or ""


def apply_inline(
    source: SourceFile, findings: list[Finding]
) -> tuple[list[Finding], list[Suppressed]]:
    """Drop findings ignored on their own line or on a comment line just above, with a reason."""
    active: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in findings:
        candidates = [source.line(finding.line)]
        above = source.line(finding.line - 1)
        if COMMENT_ONLY.match(above):
            candidates.append(above)
        reasons = [
            r for r in (_inline_reason(c, finding.rule_id) for c in candidates) if r is not None
        ]
        if not reasons:
            active.append(finding)
        elif not reasons[0]:
            active.append(
                replace(
                    finding,
                    message=finding.message
                    + " (an inline ignore without a reason is not honoured: add one after the `]`)",
                )
            )
        else:
            suppressed.append(Suppressed(finding, "inline", reasons[0]))
    return active, suppressed


def apply_policy(
    policy: PinsPolicy, findings: list[Finding], today: date, base: Path
) -> tuple[list[Finding], list[Suppressed]]:
    """Drop findings covered by an unexpired exception; an expired one is a finding again."""
    active: list[Finding] = []
    suppressed: list[Suppressed] = []
    for finding in findings:
        path = policy.relative(finding.path, base)
        match = next(
            (e for e in policy.exceptions if e.matches(finding.rule_id, path, finding.reference)),
            None,
        )
        if match is None:
            active.append(finding)
        elif match.expires < today:
            active.append(
                replace(
                    finding,
                    message=f"{finding.message} (the exception in {policy.source}:{match.line} "
                    f"expired on {match.expires.isoformat()}: renew it with a new reason or fix "
                    "the reference)",
                )
            )
        else:
            suppressed.append(Suppressed(finding, "policy", match.reason, match.expires))
    return active, suppressed
