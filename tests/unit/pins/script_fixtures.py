"""Fixture runner for the `run:` script rules: exact positions, message words, fix, reference.

The fixtures use the `# expect: LINE:COLUMN WORDS` headers of :mod:`pin_fixtures`. On top of
its checks, the finding must point at the command it names: the file text at LINE:COLUMN is
the command's first word (or, for a command nested in `bash -c '…'`, the outer command whose
span contains it), and a single-line span is exactly the reference, whitespace collapsed.
"""

from __future__ import annotations

from envsecops.model import Finding
from envsecops.pins.rules.base import Check
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case


def assert_points_at_command(text: str, finding: Finding) -> None:
    """The finding's position and span in ``text`` hold the command it reports."""
    lines = text.splitlines()
    line = lines[finding.line - 1]
    at = line[finding.column - 1 :]
    assert at, f"{finding.line}:{finding.column} is past the end of the line"
    assert not at[0].isspace(), f"{finding.line}:{finding.column} points at whitespace"
    if finding.end_line == finding.line and finding.end_column is not None:
        span = " ".join(line[finding.column - 1 : finding.end_column - 1].split())
        assert finding.reference == span or finding.reference in span, (finding.reference, span)
    else:
        assert at.startswith(finding.reference.split()[0]), (finding.reference, at)


def assert_script_case(case: Case, check: Check) -> list[Finding]:
    """Run ``check`` on the fixture through the real document parser; compare with its header."""
    text = case.path.read_text("utf-8")
    findings = [
        f for f in run_check(check, case.kind, text, case.name) if f.rule_id == case.rule_id
    ]
    if case.positive:
        assert case.expected, f"{case.name}: a positive fixture must list its findings"
    else:
        assert not case.expected, f"{case.name}: a negative fixture lists no findings"
    got = sorted((f.line, f.column) for f in findings)
    assert got == sorted((line, column) for line, column, _ in case.expected)
    by_position = {(f.line, f.column): f for f in findings}
    for line, column, words in case.expected:
        finding = by_position[(line, column)]
        assert words in finding.message, (words, finding.message)
        assert finding.fix
        assert_points_at_command(text, finding)
    return findings
