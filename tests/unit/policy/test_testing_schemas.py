"""schemas/policy-test.v1.json and policy-diff.v1.json describe the JSON reports exactly."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from envsecops.policy.load import load_policy_file
from envsecops.policy.replay import replay
from envsecops.policy.testing import run_policy_tests
from tests.unit.policy.testing_helpers import (
    CURL,
    GIT,
    GIT_REBUILT,
    binary,
    curl_component,
    git_component,
    inline_case,
    policy_text,
    write,
    write_bag,
)


def validator(name: str) -> Draft202012Validator:
    schema = json.loads(resources.files("envsecops").joinpath("schemas", name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors(name: str, document: Any) -> list[str]:
    data = json.loads(json.dumps(document))
    assert data["$schema"] == f"https://envsecops.dev/schemas/{name}"
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(data)]


def test_policy_test_reports_validate(tmp_path: Path) -> None:
    policy = write(tmp_path / "envsecops.yml", policy_text())
    cases = tmp_path / "cases"
    write(cases / "a.yml", inline_case("pass", git_component(), "  verdict: allow"))
    write(cases / "b.yml", inline_case("fail", curl_component(), "  verdict: allow"))
    write(cases / "c.yml", "name: broken\nexpect: {verdict: allow}\n")
    write(cases / "d.yml", "name: no-fix\nexpect: {verdict: allow\n")
    write(
        cases / "e.yml",
        inline_case(
            "exact",
            curl_component(),
            "  verdict: deny\n  exact: true\n  reasons: [{code: binary.unlisted}]",
        ),
    )
    report = run_policy_tests(cases, policy)
    assert {r.outcome.value for r in report.results} == {"pass", "fail", "error"}
    document = report.to_json()
    assert errors("policy-test.v1.json", document) == []
    document["cases"][0]["extra"] = True
    assert errors("policy-test.v1.json", document) != []  # nothing undocumented slips in
    (tmp_path / "empty").mkdir()
    assert (
        errors("policy-test.v1.json", run_policy_tests(tmp_path / "empty", policy).to_json()) == []
    )


def test_policy_diff_reports_validate(tmp_path: Path) -> None:
    bags = tmp_path / "bags"
    write_bag(bags / "flip" / "bag.json", binary("git", GIT_REBUILT))
    write_bag(bags / "steady" / "bag.json", binary("git", GIT), binary("curl", CURL))
    write_bag(bags / "same" / "bag.json", binary("git", GIT))
    write(bags / "broken" / "bag.json", "{")
    old = load_policy_file(write(tmp_path / "old.yml", policy_text(git=(GIT, GIT_REBUILT))))
    new = load_policy_file(write(tmp_path / "new.yml", policy_text()))
    report = replay(old, new, bags)
    assert (len(report.flips), len(report.unreadable), report.exit_code) == (1, 1, 2)
    document = report.to_json()
    assert errors("policy-diff.v1.json", document) == []
    document["changes"][0]["extra"] = True
    assert errors("policy-diff.v1.json", document) != []
    (tmp_path / "none").mkdir()
    assert errors("policy-diff.v1.json", replay(old, new, tmp_path / "none").to_json()) == []
