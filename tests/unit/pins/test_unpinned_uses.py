"""`unpinned-uses`: fixtures through the real parser, then the engine, suppressions and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.model import Confidence, Severity
from envsecops.pins.engine import check_file
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.unpinned_uses import UNPINNED_USES, UnpinnedUses
from tests.conftest import CliResult
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, assert_case, load_cases

CASES = load_cases("unpinned-uses")
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def _workflow(*uses: str) -> str:
    steps = "".join(f"      - uses: {value}\n" for value in uses)
    return f"on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_case(case, UnpinnedUses())


def test_fixture_set_covers_both_kinds_and_outcomes() -> None:
    assert {(c.kind, c.positive) for c in CASES} == {
        (FileKind.WORKFLOW, True),
        (FileKind.WORKFLOW, False),
        (FileKind.ACTION, True),
        (FileKind.ACTION, False),
    }


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, UnpinnedUses) for check in CHECKS) == 1
    assert RULES["unpinned-uses"] is UNPINNED_USES
    assert UNPINNED_USES.severity is Severity.HIGH


@pytest.mark.parametrize(
    ("value", "confidence", "words"),
    [
        ("actions/checkout@v4", Confidence.HIGH, "(tag)"),
        ("actions/checkout@main", Confidence.HIGH, "(branch)"),
        ("actions/checkout@feature-x", Confidence.HIGH, "(branch or tag)"),
        ("actions/checkout", Confidence.HIGH, "(missing `@`)"),
        ("actions/checkout@11bd719", Confidence.HIGH, "(short SHA)"),
        ("actions/checkout@${{ inputs.ref }}", Confidence.MEDIUM, "(expression in the ref)"),
        (f"actions/checkout@{SHA.upper()}", Confidence.MEDIUM, "(SHA not in lowercase)"),
        ("checkout@v4", Confidence.HIGH, "(malformed `uses:`)"),
    ],
)
def test_each_problem_is_named_with_a_sensible_confidence(
    value: str, confidence: Confidence, words: str
) -> None:
    (finding,) = run_check(UnpinnedUses(), FileKind.WORKFLOW, _workflow(value))
    assert finding.confidence is confidence
    assert finding.severity is Severity.HIGH
    assert words in finding.message
    assert "jobs.build.steps[0]" in finding.message
    assert finding.reference == value.strip('"')


def test_fix_says_exactly_what_to_write() -> None:
    tag, branch, short, upper = run_check(
        UnpinnedUses(),
        FileKind.WORKFLOW,
        _workflow(
            "actions/checkout@v4.2.2",
            "actions/checkout@main",
            "actions/checkout@11bd719",
            f"actions/checkout@{SHA.upper()}",
        ),
    )
    assert tag.fix is not None
    assert "`actions/checkout@<40-hex commit sha> # v4.2.2`" in tag.fix
    assert "envsecops pin-check --fix" in tag.fix
    assert branch.fix is not None
    assert "# <release tag>" in branch.fix
    assert short.fix is not None
    assert "full 40-hex SHA" in short.fix
    assert upper.fix == f"write the SHA in lowercase: `actions/checkout@{SHA} # <tag>`"


def test_location_is_the_scalar_span() -> None:
    (finding,) = run_check(UnpinnedUses(), FileKind.WORKFLOW, _workflow("actions/checkout@v4"))
    assert (finding.line, finding.column) == (6, 15)
    assert (finding.end_line, finding.end_column) == (6, 15 + len("actions/checkout@v4"))


def test_non_github_documents_are_refused_loudly() -> None:
    with pytest.raises(TypeError, match="has no `uses:` view"):
        run_check(UnpinnedUses(), FileKind.DEPENDABOT, "version: 2\nupdates: []\n")


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_inline_ignore_with_a_reason_suppresses_through_the_engine(tmp_path: Path) -> None:
    text = _workflow(
        "actions/checkout@v4  # envsecops: ignore[unpinned-uses] internal mirror, see #12",
        "actions/cache@v4  # envsecops: ignore[unpinned-uses]",
        "actions/setup-go@v5  # envsecops: ignore[pin-comment] wrong rule id",
    )
    path = _write(tmp_path, ".github/workflows/ci.yml", text)
    result = check_file(path, ".github/workflows/ci.yml", FileKind.WORKFLOW)
    (suppressed,) = result.suppressed
    assert suppressed.finding.reference == "actions/checkout@v4"
    assert suppressed.reason == "internal mirror, see #12"
    no_reason, wrong_rule = (f for f in result.findings if f.rule_id == "unpinned-uses")
    assert no_reason.reference == "actions/cache@v4"
    assert "without a reason is not honoured" in no_reason.message
    assert wrong_rule.reference == "actions/setup-go@v5"


def test_inline_ignore_on_the_comment_line_above(tmp_path: Path) -> None:
    text = (
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      # envsecops: ignore[unpinned-uses] the vendor publishes no tags\n"
        "      - uses: vendor/action@main\n"
    )
    path = _write(tmp_path, ".github/workflows/ci.yml", text)
    result = check_file(path, ".github/workflows/ci.yml", FileKind.WORKFLOW)
    assert [f.rule_id for f in result.findings] == []
    assert [s.reason for s in result.suppressed] == ["the vendor publishes no tags"]


def test_cli_json_reports_findings_and_exits_1(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    _write(tmp_path, ".github/workflows/ci.yml", _workflow("actions/checkout@v4"))
    _write(
        tmp_path,
        "actions/setup/action.yml",
        "name: s\ndescription: d\nruns:\n  using: composite\n  steps:\n"
        "    - uses: actions/setup-node@v4\n",
    )
    result = run_cli("pin-check", "--format", "json", tmp_path)
    assert result.code == 1, result.err
    document = json.loads(result.out)
    unpinned = [f for f in document["findings"] if f["rule"] == "unpinned-uses"]
    assert sorted((f["path"].rsplit("/", 3)[-1], f["line"], f["column"]) for f in unpinned) == [
        ("action.yml", 6, 13),
        ("ci.yml", 6, 15),
    ]
    assert document["stats"]["workflow"]["uses_unpinned_ref"] == 1
    assert document["stats"]["action"]["uses_unpinned_ref"] == 1


def test_cli_json_clean_repository_exits_0(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    _write(
        tmp_path,
        ".github/workflows/ci.yml",
        _workflow(f"actions/checkout@{SHA} # v4.2.2", "./.github/actions/local"),
    )
    result = run_cli("pin-check", "--format", "json", tmp_path)
    assert result.code == 0, result.out + result.err
    assert json.loads(result.out)["findings"] == []


def test_cli_inline_ignore_turns_a_failing_run_into_a_pass(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    _write(
        tmp_path,
        ".github/workflows/ci.yml",
        _workflow("actions/checkout@v4 # envsecops: ignore[unpinned-uses] accepted until Q3"),
    )
    result = run_cli("pin-check", "--format", "json", tmp_path)
    assert result.code == 0, result.out
    (suppressed,) = json.loads(result.out)["suppressed"]
    assert suppressed["by"] == "inline"
    assert suppressed["finding"]["rule"] == "unpinned-uses"
