"""SARIF 2.1.0: valid against the OASIS schema, and shaped the way code scanning reads it."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from jsonschema import Draft4Validator

from envsecops.model import Severity
from envsecops.pins.engine import PinReport
from envsecops.pins.registry import RULES as REGISTERED
from envsecops.report import pins_sarif
from envsecops.report.pins_sarif import MAX_RESULTS, artifact_location, build_log
from tests.unit.report.reports import (
    CONTEXT,
    POLICY_CONTEXT,
    RULES,
    many_findings,
    sarif_schema,
    small_report,
)


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = sarif_schema()
    if schema is None:
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is absent (CI provides it)")
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def _assert_valid(validator: Draft4Validator, log: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def _run(log: dict[str, Any]) -> dict[str, Any]:
    (run,) = log["runs"]
    result: dict[str, Any] = run
    return result


def test_small_report_is_valid_sarif(validator: Draft4Validator) -> None:
    _assert_valid(validator, build_log(small_report(), POLICY_CONTEXT, RULES))


def test_registered_rules_are_all_declared_and_indexed(validator: Draft4Validator) -> None:
    log = json.loads(pins_sarif.render(small_report(), CONTEXT))
    _assert_valid(validator, log)
    driver = _run(log)["tool"]["driver"]
    declared = [rule["id"] for rule in driver["rules"]]
    assert set(REGISTERED) <= set(declared)
    assert len(declared) == len(set(declared))
    for result in _run(log)["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_rule_descriptors_carry_help_and_level() -> None:
    driver = _run(build_log(small_report(), CONTEXT, RULES))["tool"]["driver"]
    assert driver["name"] == "envsecops"
    assert driver["version"] == "0.0.0-test"
    assert driver["informationUri"].startswith("https://")
    by_id = {rule["id"]: rule for rule in driver["rules"]}
    assert set(by_id) == set(RULES)
    for rule_id, rule in RULES.items():
        got = by_id[rule_id]
        assert got["shortDescription"]["text"] == rule.title
        assert got["fullDescription"]["text"] == rule.help
        assert got["helpUri"] == rule.help_uri
        assert rule.help in got["help"]["text"]
        assert got["defaultConfiguration"]["level"] == pins_sarif.LEVEL_BY_SEVERITY[rule.severity]
        assert got["name"][0].isupper()
        assert "-" not in got["name"]


def test_results_levels_locations_and_properties() -> None:
    run = _run(build_log(small_report(), CONTEXT, RULES))
    active = [r for r in run["results"] if "suppressions" not in r]
    levels = {(r["ruleId"], r["properties"]["severity"]): r["level"] for r in active}
    assert levels == {
        ("unpinned-uses", "high"): "error",
        ("unpinned-uses", "medium"): "warning",
        ("duplicate-key", "high"): "error",
        ("sha-pin-without-tag-comment", "info"): "note",
    }
    first = next(r for r in active if r["properties"]["reference"] == "actions/checkout@v4")
    (location,) = first["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": ".github/workflows/ci.yml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 15, "endLine": 12, "endColumn": 34},
    }
    assert first["properties"]["confidence"] == "high"
    assert "Fix: actions/checkout@" in first["message"]["text"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["properties"]["resultsOmitted"] == 0


def test_low_severity_maps_to_note() -> None:
    report = many_findings(4)
    run = _run(build_log(report, CONTEXT, RULES))
    assert {r["properties"]["severity"]: r["level"] for r in run["results"]} == {
        "high": "error",
        "medium": "warning",
        "low": "note",
        "info": "note",
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("./a/b.yml", {"uri": "a/b.yml", "uriBaseId": "%SRCROOT%"}),
        ("a b/c#d%.yml", {"uri": "a%20b/c%23d%25.yml", "uriBaseId": "%SRCROOT%"}),
        ("x:y/action.yml", {"uri": "x%3Ay/action.yml", "uriBaseId": "%SRCROOT%"}),
        ("dir\\file.yml", {"uri": "dir/file.yml", "uriBaseId": "%SRCROOT%"}),
        ("caf\udce9/x.yml", {"uri": "caf%E9/x.yml", "uriBaseId": "%SRCROOT%"}),
        ("/outside/repo.yml", {"uri": "file:///outside/repo.yml"}),
    ],
)
def test_artifact_uris_are_relative_posix_and_encoded(path: str, expected: dict[str, str]) -> None:
    assert artifact_location(path) == expected


def test_suppressed_findings_carry_suppressions(validator: Draft4Validator) -> None:
    log = build_log(small_report(), POLICY_CONTEXT, RULES)
    _assert_valid(validator, log)
    held = {
        r["properties"]["reference"]: r["suppressions"]
        for r in _run(log)["results"]
        if "suppressions" in r
    }
    assert held == {
        "example/vendored@main": [
            {
                "kind": "inSource",
                "status": "accepted",
                "justification": "fork under review, tracked in #12",
            }
        ],
        "pypa/gh-action-pypi-publish@release/v1": [
            {
                "kind": "external",
                "status": "accepted",
                "justification": "publisher requires its release branch",
                "properties": {"expires": "2027-01-31"},
            }
        ],
    }
    assert _run(log)["properties"]["policy"] == ".github/envsecops.yml"


def _prints(report: PinReport) -> dict[tuple[str, str, int], str]:
    run = _run(build_log(report, CONTEXT, RULES))
    return {
        (
            r["properties"]["reference"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        ): r["partialFingerprints"][pins_sarif.FINGERPRINT_KEY]
        for r in run["results"]
    }


def test_fingerprints_survive_line_moves_and_tell_duplicates_apart() -> None:
    report = small_report()
    moved = replace(
        report,
        findings=[replace(f, line=f.line + 40, end_line=None) for f in report.findings],
    )
    before = {(ref, uri): fp for (ref, uri, _), fp in _prints(report).items()}
    after = {(ref, uri): fp for (ref, uri, _), fp in _prints(moved).items()}
    assert before == after
    assert len(set(before.values())) == len(before)
    twice = replace(report, findings=[*report.findings, replace(report.findings[0], line=99)])
    prints = _prints(twice)
    checkout = [fp for (ref, _, _), fp in prints.items() if ref == "actions/checkout@v4"]
    assert len(checkout) == 2
    assert len(set(checkout)) == 2


def test_more_than_the_cap_keeps_the_most_severe(validator: Draft4Validator) -> None:
    report = small_report()
    log = build_log(report, CONTEXT, RULES, max_results=3)
    _assert_valid(validator, log)
    run = _run(log)
    kept = [(r["properties"]["severity"], "suppressions" in r) for r in run["results"]]
    assert sorted(kept) == [("high", False), ("high", False), ("medium", False)]
    assert run["properties"]["resultsTotal"] == 6
    assert run["properties"]["resultsOmitted"] == 3
    assert run["properties"]["omittedBySeverity"] == {"high": 2, "info": 1}
    (invocation,) = run["invocations"]
    warning = invocation["toolExecutionNotifications"][0]
    assert warning["level"] == "warning"
    assert "at most 3 per run" in warning["message"]["text"]


def test_the_real_cap_is_25000() -> None:
    report = many_findings(MAX_RESULTS + 40)
    run = _run(build_log(report, CONTEXT, RULES))
    assert len(run["results"]) == MAX_RESULTS
    assert run["properties"]["resultsOmitted"] == 40
    assert run["properties"]["omittedBySeverity"] == {"info": 40}
    severities = {r["properties"]["severity"] for r in run["results"]}
    assert severities == {"high", "medium", "low", "info"}


def test_skipped_files_become_notifications() -> None:
    run = _run(build_log(small_report(), CONTEXT, RULES))
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "note"
    assert note["message"]["text"] == "skipped vendor-link: symbolic link to a directory"


def test_unknown_rule_ids_still_get_a_descriptor(validator: Draft4Validator) -> None:
    report = many_findings(2)
    log = build_log(report, CONTEXT, {})
    _assert_valid(validator, log)
    run = _run(log)
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["unpinned-uses"]
    assert all(r["ruleIndex"] == 0 for r in run["results"])


def test_empty_report_is_a_valid_run(validator: Draft4Validator) -> None:
    empty = PinReport(
        files=[], findings=[], suppressed=[], skipped=[], metrics=small_report().metrics
    )
    log = build_log(empty, replace(CONTEXT, fail_on=Severity.HIGH), RULES)
    _assert_valid(validator, log)
    assert _run(log)["results"] == []


def test_render_is_deterministic() -> None:
    assert pins_sarif.render(small_report(), CONTEXT) == pins_sarif.render(small_report(), CONTEXT)
