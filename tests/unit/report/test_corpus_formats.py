"""Every output format over the real repositories of ../shared/corpus (skipped when absent)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from envsecops.gh.commands import STEP_SUMMARY_LIMIT
from envsecops.pins.engine import PinCheckOptions, PinReport, run_pin_check
from envsecops.policy.pins import PinsPolicy
from envsecops.report import pins_github, pins_json, pins_sarif, pins_summary
from envsecops.report.pins_github import PER_LEVEL
from tests.conftest import shared_dir
from tests.unit.gh import runner_model
from tests.unit.report.reports import CONTEXT, pin_check_schema, sarif_schema

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def reports() -> list[tuple[Path, PinReport]]:
    corpus = shared_dir("corpus")
    repos = sorted(p for p in corpus.iterdir() if p.is_dir())
    assert repos, "the corpus holds no repositories"
    return [
        (repo, run_pin_check(PinCheckOptions(paths=(repo,), base=repo), PinsPolicy(None)))
        for repo in repos
    ]


def _errors(validator: Any, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)][:10]


def test_sarif_is_valid_and_points_at_real_files(reports: list[tuple[Path, PinReport]]) -> None:
    schema = sarif_schema()
    if schema is None:
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is absent (CI provides it)")
    validator = Draft4Validator(schema)
    for repo, report in reports:
        log = json.loads(pins_sarif.render(report, CONTEXT))
        assert _errors(validator, log) == [], repo.name
        (run,) = log["runs"]
        assert len(run["results"]) == len(report.findings) + len(report.suppressed)
        for result in run["results"]:
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert not uri.startswith(("/", "./", "file:"))
            assert (repo / unquote(uri)).is_file(), f"{repo.name}: {uri}"


def test_json_matches_the_published_schema(reports: list[tuple[Path, PinReport]]) -> None:
    validator = Draft202012Validator(
        pin_check_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for repo, report in reports:
        document = json.loads(pins_json.render(report, CONTEXT))
        assert _errors(validator, document) == [], repo.name


def test_github_annotations_name_real_files(reports: list[tuple[Path, PinReport]]) -> None:
    for repo, report in reports:
        commands = runner_model.process(pins_github.render(report, CONTEXT))
        assert all(c.name in {"error", "warning", "notice"} for c in commands)
        located = [c for c in commands if "file" in c.properties]
        per_level = Counter(pins_github.LEVEL_BY_SEVERITY[f.severity] for f in report.findings)
        expected = sum(n if n <= PER_LEVEL else PER_LEVEL - 1 for n in per_level.values())
        assert len(located) == expected, repo.name
        for command in located:
            assert (repo / command.properties["file"]).is_file(), repo.name


def test_summary_fits_and_renders(reports: list[tuple[Path, PinReport]]) -> None:
    for repo, report in reports:
        markdown = pins_summary.render_summary(report, CONTEXT)
        assert len(markdown.encode("utf-8")) < STEP_SUMMARY_LIMIT, repo.name
        assert markdown.startswith("## envsecops pin-check\n")
