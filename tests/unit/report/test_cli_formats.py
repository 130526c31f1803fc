"""End to end: `pin-check --format json|sarif|github` on a fixture tree, validated as published."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from envsecops.gh.commands import STEP_SUMMARY_LIMIT
from envsecops.pins.registry import RULES
from tests.conftest import CliResult
from tests.unit.gh import runner_model
from tests.unit.report.reports import FIXTURE_REPO, pin_check_schema, sarif_schema

Run = Callable[..., CliResult]

ACTIVE = {
    ("duplicate-key", ".github/workflows/broken.yml", 6, 3),
    ("unpinned-uses", ".github/workflows/ci.yml", 9, 15),
}
SUPPRESSED = {
    ("unpinned-uses", ".github/workflows/ci.yml", 12, "inline"),
    ("parse-error", ".github/workflows/legacy.yml", 4, "policy"),
}


@pytest.fixture
def in_fixture(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(FIXTURE_REPO)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return FIXTURE_REPO


def _json(run_cli: Run, *args: str) -> dict[str, Any]:
    result = run_cli("pin-check", "--format", "json", ".", *args)
    assert result.code == 1, result.err
    loaded: dict[str, Any] = json.loads(result.out)
    return loaded


def test_the_fixture_needs_the_rules_it_exercises() -> None:
    assert {"unpinned-uses", "duplicate-key", "parse-error"} <= set(RULES)


def test_json_output_matches_the_published_schema(in_fixture: Path, run_cli: Run) -> None:
    document = _json(run_cli)
    validator = Draft202012Validator(
        pin_check_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors
    assert {(f["rule"], f["path"], f["line"], f["column"]) for f in document["findings"]} == ACTIVE
    assert {
        (s["finding"]["rule"], s["finding"]["path"], s["finding"]["line"], s["by"])
        for s in document["suppressed"]
    } == SUPPRESSED
    assert document["policy"] == ".github/envsecops.yml"


def test_sarif_output_is_valid_and_complete(in_fixture: Path, run_cli: Run) -> None:
    schema = sarif_schema()
    if schema is None:
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is absent (CI provides it)")
    result = run_cli("pin-check", "--format", "sarif", ".")
    assert result.code == 1, result.err
    log = json.loads(result.out)
    validator = Draft4Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors
    (run,) = log["runs"]
    got = set()
    for item in run["results"]:
        location = item["locations"][0]["physicalLocation"]
        key = (item["ruleId"], location["artifactLocation"]["uri"], location["region"]["startLine"])
        kinds = [s["kind"] for s in item.get("suppressions", [])]
        got.add((*key, kinds[0] if kinds else None))
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert got == {(r, p, line, None) for r, p, line, _ in ACTIVE} | {
        (r, p, line, {"inline": "inSource", "policy": "external"}[by])
        for r, p, line, by in SUPPRESSED
    }
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} == set(RULES)


def test_sarif_file_is_written_beside_any_format(
    in_fixture: Path, run_cli: Run, tmp_path: Path
) -> None:
    target = tmp_path / "pin-check.sarif"
    result = run_cli("pin-check", "--sarif-file", target, ".")
    assert result.code == 1
    assert result.out.startswith(".github/workflows/")
    assert json.loads(target.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_github_format_annotates_and_writes_the_summary(
    in_fixture: Path, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("## an earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run_cli("pin-check", "--format", "github", ".")
    assert result.code == 1, result.err
    commands = runner_model.process(result.out)
    assert {
        (c.name, c.properties["file"], int(c.properties["line"]), int(c.properties["col"]))
        for c in commands
    } == {("error", path, line, col) for _, path, line, col in ACTIVE}
    assert "pin-check: 3 files, 2 findings" in result.out
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## an earlier step\n## envsecops pin-check\n")
    assert "**❌ Failed**: 2 findings at or above `low`" in text
    assert "kept broken on purpose" in text
    assert len(text.encode("utf-8")) < STEP_SUMMARY_LIMIT


def test_github_format_without_a_summary_file_only_prints(in_fixture: Path, run_cli: Run) -> None:
    result = run_cli("pin-check", "--format", "github", "--fail-on", "high", ".")
    assert result.code == 1
    assert result.out.count("::error ") == 2


def test_github_format_keeps_hostile_names_and_refs_inert(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "x\n::error::injected-from-path,line=1:%0A.yml"
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / name).write_text(
        "on: push\njobs:\n  a: {}\n  a:\n    runs-on: x\n"
        '    steps:\n      - uses: "o/r@v1\\n::warning::injected-from-ref"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = run_cli("pin-check", "--format", "github", ".")
    assert result.code == 1, result.err
    (command,) = runner_model.process(result.out)
    assert command.name == "error"
    assert command.properties["file"] == f".github/workflows/{name}"
    assert command.properties["line"] == "4"
    assert "injected-from-path" in result.out  # the text report shows it, inertly
