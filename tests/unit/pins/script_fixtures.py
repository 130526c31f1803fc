"""Fixture runner for the `run:` script rules: exact positions, message words, fix, reference.

The fixtures use the `# expect: LINE:COLUMN WORDS` headers of :mod:`pin_fixtures`. On top of
its checks, the finding must point at the command it names: the file text at LINE:COLUMN is
the command's first word (or, for a command nested in `bash -c '…'`, the outer command whose
span contains it), and a single-line span is exactly the reference, whitespace collapsed.
"""

from __future__ import annotations

from envsecops.model import Finding
from envsecops.pins.rules.base import Check
from tests.unit.pins.pin_fixtures import Case, assert_case


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
    return assert_case(case, check, points_at=assert_points_at_command)
