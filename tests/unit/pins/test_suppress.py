"""Suppression: inline ignores need a reason; policy exceptions expire back into findings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from envsecops.model import Confidence, Finding, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile
from envsecops.pins.suppress import apply_inline, apply_policy
from envsecops.policy.pins import PinException, PinsPolicy


def _finding(line: int, rule: str = "unpinned-uses", ref: str = "actions/checkout@v4") -> Finding:
    return Finding(rule, Severity.HIGH, Confidence.HIGH, "w.yml", line, 9, ref, "unpinned")


def test_inline_ignore_on_the_line_or_the_comment_line_above() -> None:
    text = (
        "steps:\n"
        "  - uses: actions/checkout@v4  # envsecops: ignore[unpinned-uses] vendored mirror\n"
        "  # envsecops: ignore[unpinned-uses, parse-error] -- reviewed in #12\n"
        "  - uses: actions/checkout@v4\n"
        "  - uses: actions/checkout@v4  # envsecops: ignore[pin-comment] wrong rule\n"
        "  - uses: actions/checkout@v4  # envsecops: ignore[unpinned-uses]\n"
    )
    source = SourceFile.from_text("w.yml", FileKind.WORKFLOW, text)
    active, suppressed = apply_inline(source, [_finding(2), _finding(4), _finding(5), _finding(6)])
    assert [s.finding.line for s in suppressed] == [2, 4]
    assert [s.reason for s in suppressed] == ["vendored mirror", "reviewed in #12"]
    assert [f.line for f in active] == [5, 6]
    assert "without a reason is not honoured" in active[1].message


def test_policy_exceptions_match_and_expire() -> None:
    policy = PinsPolicy(
        source=".github/envsecops.yml",
        exceptions=(
            PinException("unpinned-uses", "*.yml", "actions/checkout@*", "ok", date(2027, 1, 1), 4),
            PinException("unpinned-uses", "*.yml", "actions/cache@*", "old", date(2026, 1, 1), 9),
        ),
    )
    findings = [
        _finding(1),
        _finding(2, ref="actions/cache@v4"),
        _finding(3, ref="actions/setup-node@v4"),
    ]
    active, suppressed = apply_policy(policy, findings, today=date(2026, 11, 22), base=Path())
    assert [(s.finding.line, s.by, s.reason) for s in suppressed] == [(1, "policy", "ok")]
    assert [f.line for f in active] == [2, 3]
    assert "expired on 2026-01-01" in active[0].message
    assert ".github/envsecops.yml:9" in active[0].message
    # the day an exception expires it still holds; the day after it does not
    active, _ = apply_policy(policy, [_finding(1)], today=date(2027, 1, 1), base=Path())
    assert active == []
    active, _ = apply_policy(policy, [_finding(1)], today=date(2027, 1, 2), base=Path())
    assert len(active) == 1
