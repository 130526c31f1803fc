"""Data-driven rule fixtures: `<case>.<kind>.yml` files whose `# expect:` lines name findings.

Each rule has `tests/fixtures/pins/<rule-id>/positive/` and `.../negative/`. A fixture's
header lists every finding the rule must report in it, as `# expect: LINE:COLUMN WORDS`,
where WORDS must appear in the message (they name the problem: `tag`, `short SHA`, ...).
A negative fixture has no `# expect:` line and must yield no finding of that rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from envsecops.model import Finding
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check
from tests.unit.pins.helpers import run_check

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pins"
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$")
KIND_BY_SUFFIX = {"workflow": FileKind.WORKFLOW, "action": FileKind.ACTION}


@dataclass(frozen=True)
class Case:
    """One fixture file and the findings it promises."""

    rule_id: str
    path: Path
    kind: FileKind
    positive: bool
    expected: tuple[tuple[int, int, str], ...]

    @property
    def name(self) -> str:
        """`positive/tag.workflow.yml`, the pytest id."""
        return f"{self.path.parent.name}/{self.path.name}"


def load_cases(rule_id: str) -> list[Case]:
    """Every fixture of ``rule_id``, positive and negative, sorted by name."""
    found: list[Case] = []
    for folder in ("positive", "negative"):
        for path in sorted((FIXTURES / rule_id / folder).glob("*.yml")):
            kind = KIND_BY_SUFFIX[path.name.split(".")[-2]]
            expected = tuple(
                (int(m[1]), int(m[2]), m[3])
                for m in (EXPECT.match(line) for line in path.read_text("utf-8").splitlines())
                if m
            )
            found.append(Case(rule_id, path, kind, folder == "positive", expected))
    return found


def span_text(text: str, finding: Finding) -> str | None:
    """The source text a single-line finding covers, or None when it spans lines."""
    if finding.end_line != finding.line or finding.end_column is None:
        return None
    line = text.splitlines()[finding.line - 1]
    return line[finding.column - 1 : finding.end_column - 1]


def assert_value_span(text: str, finding: Finding) -> None:
    """A single-line finding's span is exactly the value (quotes included) --fix rewrites."""
    span = span_text(text, finding)
    if span is not None and not finding.reference.startswith("<"):
        assert span.strip("'\"").strip() == finding.reference


def assert_case(
    case: Case,
    check: Check,
    points_at: Callable[[str, Finding], None] = assert_value_span,
) -> list[Finding]:
    """Run ``check`` on the fixture through the real parser and compare with its promises.

    ``points_at`` checks where each finding points in the text (by default: at the value).
    """
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
        points_at(text, finding)
    return findings
