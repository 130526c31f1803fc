"""Data-driven fixtures for the image and dependency checks: `<case>.<kind>[.<ext>]` files.

Each rule has `tests/fixtures/pins/<rule-id>/positive/` and `.../negative/`. The kind is a
dotted part of the name (`dockerfile`, `compose`, `k8s`, `devcontainer`, `requirements`).
A fixture lists every finding the rule must report in it as `# expect: LINE:COLUMN WORDS`
(`// expect:` in JSONC), where WORDS must appear in the message. A negative fixture has no
`expect:` line and must yield no finding of that rule. Fixtures run through the real
document parser, with the fixture's own path, so relative paths resolve beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from envsecops.model import Finding
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check
from tests.unit.pins.helpers import run_check

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pins"
EXPECT = re.compile(r"^\s*(?:#|//) expect: (\d+):(\d+) (.+)$")
KINDS = {
    "dockerfile": FileKind.DOCKERFILE,
    "compose": FileKind.COMPOSE,
    "k8s": FileKind.K8S,
    "devcontainer": FileKind.DEVCONTAINER,
    "requirements": FileKind.REQUIREMENTS,
}


@dataclass(frozen=True)
class FileCase:
    """One fixture file and the findings it promises."""

    rule_id: str
    path: Path
    kind: FileKind
    positive: bool
    expected: tuple[tuple[int, int, str], ...]

    @property
    def name(self) -> str:
        """`positive/tagged.dockerfile`, the pytest id."""
        return f"{self.path.parent.name}/{self.path.name}"


def _kind(path: Path) -> FileKind:
    parts = [part for part in path.name.split(".")[1:] if part in KINDS]
    if len(parts) != 1:
        raise ValueError(f"{path}: name the kind once, as in `case.dockerfile`")
    return KINDS[parts[0]]


def load_file_cases(rule_id: str) -> list[FileCase]:
    """Every fixture of ``rule_id``, positive and negative, sorted by name."""
    found: list[FileCase] = []
    for folder in ("positive", "negative"):
        for path in sorted((FIXTURES / rule_id / folder).iterdir()):
            if not path.is_file():
                continue
            expected = tuple(
                (int(m[1]), int(m[2]), m[3])
                for m in (EXPECT.match(line) for line in path.read_text("utf-8").splitlines())
                if m
            )
            found.append(FileCase(rule_id, path, _kind(path), folder == "positive", expected))
    if not found:
        raise AssertionError(f"no fixtures for {rule_id}")
    return found


def assert_file_case(case: FileCase, check: Check) -> list[Finding]:
    """Run ``check`` on the fixture and compare positions, words and fixes with its promises."""
    text = case.path.read_text("utf-8")
    findings = [
        f for f in run_check(check, case.kind, text, str(case.path)) if f.rule_id == case.rule_id
    ]
    if case.positive:
        assert case.expected, f"{case.name}: a positive fixture must list its findings"
    else:
        assert not case.expected, f"{case.name}: a negative fixture lists no findings"
    got = sorted((f.line, f.column) for f in findings)
    assert got == sorted((line, column) for line, column, _ in case.expected), [
        (f.line, f.column, f.message) for f in findings
    ]
    by_position = {(f.line, f.column): f for f in findings}
    for line, column, words in case.expected:
        finding = by_position[(line, column)]
        assert words in finding.message, (words, finding.message)
        assert finding.fix
        assert finding.reference
    return findings
