"""The `github` format: capped annotations per level, and nothing untrusted acts as a command."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from envsecops.model import Severity
from envsecops.pins.engine import PinReport
from envsecops.report import pins_github
from envsecops.report.pins_github import PER_LEVEL, render_with
from tests.unit.gh import runner_model
from tests.unit.report.reports import (
    CONTEXT,
    RULES,
    SHA,
    UNPINNED,
    finding,
    many_findings,
    small_report,
)


def _commands(report: PinReport) -> list[runner_model.Command]:
    return runner_model.process(render_with(report, CONTEXT, RULES))


def _report(counts: dict[Severity, int]) -> PinReport:
    findings = [
        finding(UNPINNED, f"w{sev}.yml", i + 1, 1, f"o/r{i}@v1", f"{sev} {i}", severity=sev)
        for sev, n in counts.items()
        for i in range(n)
    ]
    return replace(many_findings(0), findings=findings)


def test_small_report_annotates_every_finding() -> None:
    commands = _commands(small_report())
    assert [(c.name, c.properties["file"], c.properties["line"]) for c in commands] == [
        ("error", ".github/workflows/ci.yml", "12"),
        ("error", ".github/workflows/release.yml", "7"),
        ("warning", ".github/workflows/ci.yml", "20"),
        ("notice", "action.yml", "9"),
    ]
    first = commands[0]
    assert first.properties["title"] == "Action not pinned to a commit SHA (unpinned-uses)"
    assert first.properties["col"] == "15"
    assert first.properties["endColumn"] == "33"  # inclusive, from the exclusive 34
    assert first.data.endswith(f"\nFix: actions/checkout@{SHA} # v4.1.7")


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({Severity.HIGH: 10}, {"error": (10, 0)}),
        ({Severity.HIGH: 11}, {"error": (9, 2)}),
        (
            {Severity.HIGH: 25, Severity.MEDIUM: 3, Severity.LOW: 8, Severity.INFO: 8},
            {"error": (9, 16), "warning": (3, 0), "notice": (9, 7)},
        ),
        ({Severity.INFO: 10, Severity.LOW: 1}, {"notice": (9, 2)}),
    ],
)
def test_at_most_ten_per_level_then_one_aggregate(
    counts: dict[Severity, int], expected: dict[str, tuple[int, int]]
) -> None:
    commands = _commands(_report(counts))
    per_level = Counter(c.name for c in commands)
    assert all(n <= PER_LEVEL for n in per_level.values())
    got: dict[str, tuple[int, int]] = {}
    for level in per_level:
        located = [c for c in commands if c.name == level and "file" in c.properties]
        aggregate = [c for c in commands if c.name == level and "file" not in c.properties]
        hidden = 0
        if aggregate:
            (line,) = aggregate
            hidden = int(line.data.split(" ", 1)[0])
            assert f"{hidden} more" in line.properties["title"]
            assert "SARIF" in line.data
            assert "summary" in line.data
        got[level] = (len(located), hidden)
    assert got == expected


def test_most_severe_first_within_a_level() -> None:
    commands = _commands(_report({Severity.INFO: 12, Severity.LOW: 5}))
    notices = [c for c in commands if "file" in c.properties]
    assert [c.properties["file"] for c in notices] == ["wlow.yml"] * 5 + ["winfo.yml"] * 4


HOSTILE_PATH = ".github/workflows/::add-mask::x,line=1:%0A\n::error::path.yml"
HOSTILE_MESSAGE = (
    "bad ref\n::add-mask::secret\r\n::error file=evil::spoof %0A ::warning::x ##[error]y"
)


def test_hostile_paths_and_messages_cannot_become_commands() -> None:
    hostile = finding(UNPINNED, HOSTILE_PATH, 3, 9, "x@" + HOSTILE_MESSAGE, HOSTILE_MESSAGE)
    hostile = replace(hostile, fix="::stop-commands::guess\n::error::y")
    report = replace(small_report(), findings=[hostile])
    output = render_with(report, CONTEXT, RULES)
    commands = runner_model.process(output)
    (command,) = commands
    assert command.name == "error"
    assert command.properties["file"] == HOSTILE_PATH
    assert command.properties["line"] == "3"
    assert command.data == f"{HOSTILE_MESSAGE}\nFix: ::stop-commands::guess\n::error::y"
    assert set(command.properties) == {"file", "line", "col", "title"}
    assert "::add-mask::secret" in output  # the text report still shows it, inertly


def test_text_report_follows_inside_stop_commands() -> None:
    output = render_with(small_report(), CONTEXT, RULES)
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].removeprefix("::stop-commands::")
    assert lines[-1] == f"::{token}::"
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines[:start])
    assert lines[-2].startswith("pin-check: 4 files, 4 findings")


def test_no_findings_prints_only_the_inert_text() -> None:
    report = replace(small_report(), findings=[])
    assert _commands(report) == []
    assert render_with(report, CONTEXT, RULES).startswith("::stop-commands::")


def test_undecodable_file_names_do_not_break_the_log() -> None:
    report = replace(small_report(), findings=[finding(UNPINNED, "caf\udce9.yml", 1, 1, "r", "m")])
    output = pins_github.render(report, CONTEXT)
    output.encode("utf-8")
    (command,) = runner_model.process(output)
    assert command.properties["file"] == "caf?.yml"
