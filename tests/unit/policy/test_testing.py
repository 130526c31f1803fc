"""`run_policy_tests`: cases judged by the real loader and evaluator, pass/fail and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsecops.errors import InputError
from envsecops.model.decision import Verdict
from envsecops.policy.testing import Outcome, TestReport, run_policy_tests
from tests.unit.policy.testing_helpers import (
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

DENY_CURL_EXACT = """  verdict: deny
  exact: true
  reasons:
    - {code: binary.unlisted, subject: binary /usr/bin/curl}"""


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    """The policy under test: /usr/bin/git at one digest."""
    return write(tmp_path / "policy" / "envsecops.yml", policy_text())


def run(tmp_path: Path, policy: Path | None, **cases: str) -> TestReport:
    for name, text in cases.items():
        write(tmp_path / "cases" / f"{name}.yml", text)
    return run_policy_tests(tmp_path / "cases", policy)


def test_a_passing_suite_exits_0(tmp_path: Path, policy: Path) -> None:
    report = run(
        tmp_path,
        policy,
        allow=inline_case("git-is-allowed", git_component(), "  verdict: allow"),
        deny=inline_case("curl-is-denied", curl_component(), DENY_CURL_EXACT),
    )
    assert [(r.name, r.outcome) for r in report.results] == [
        ("git-is-allowed", Outcome.PASSED),
        ("curl-is-denied", Outcome.PASSED),
    ]
    assert report.exit_code == 0
    assert report.results[1].verdict is Verdict.DENY
    assert report.results[1].policy_id is not None
    assert report.results[1].policy_id.startswith("unit@sha256:")
    text = report.render_text()
    assert "PASS  curl-is-denied" in text
    assert text.endswith(
        "policy test: 2 cases in 2 files: 2 passed, 0 failed, 0 could not be loaded\n"
    )


def test_a_case_expecting_allow_that_is_denied_fails_with_the_reasons(
    tmp_path: Path, policy: Path
) -> None:
    report = run(tmp_path, policy, a=inline_case("curl-ok", curl_component(), "  verdict: allow"))
    (result,) = report.results
    assert result.outcome is Outcome.FAILED
    assert result.verdict is Verdict.DENY
    assert [(r.code, r.subject) for r in result.unexpected] == [
        ("binary.unlisted", "binary /usr/bin/curl")
    ]
    assert report.exit_code == 1
    text = report.render_text()
    assert "FAIL  curl-ok" in text
    assert "verdict: expected allow, got deny" in text
    assert "unexpected: binary.unlisted binary /usr/bin/curl: /usr/bin/curl (" in text


def test_a_missing_expected_reason_fails_and_is_named(tmp_path: Path, policy: Path) -> None:
    expect = (
        "  verdict: deny\n  reasons:\n    - {code: binary.digest, subject: binary /usr/bin/git}"
    )
    report = run(tmp_path, policy, a=inline_case("git-rebuilt", curl_component(), expect))
    (result,) = report.results
    assert result.outcome is Outcome.FAILED
    assert result.verdict is Verdict.DENY  # the verdict matches; the reason does not
    assert [m.label() for m in result.missing] == ["binary.digest binary /usr/bin/git"]
    assert result.unexpected == ()  # not exact: other reasons are allowed
    assert "missing: binary.digest binary /usr/bin/git" in report.render_text()
    assert "verdict:" not in report.render_text()


def test_subset_passes_where_exact_fails(tmp_path: Path, policy: Path) -> None:
    both = git_component(GIT_REBUILT) + "\n" + curl_component()
    listed = "  reasons:\n    - {code: binary.unlisted, subject: binary /usr/bin/curl}"
    report = run(
        tmp_path,
        policy,
        a=inline_case("subset", both, "  verdict: deny\n" + listed),
        b=inline_case("exact", both, "  verdict: deny\n  exact: true\n" + listed),
    )
    subset, exact = report.results
    assert subset.outcome is Outcome.PASSED
    assert exact.outcome is Outcome.FAILED
    assert exact.missing == ()
    assert [(r.code, r.subject) for r in exact.unexpected] == [
        ("binary.digest", "binary /usr/bin/git")
    ]
    assert report.exit_code == 1


def test_a_reason_without_subject_matches_any_subject_of_its_code(
    tmp_path: Path, policy: Path
) -> None:
    expect = "  verdict: deny\n  exact: true\n  reasons:\n    - {code: binary.unlisted}"
    report = run(tmp_path, policy, a=inline_case("any-unlisted", curl_component(), expect))
    assert report.results[0].outcome is Outcome.PASSED


def test_an_expected_deny_that_is_allowed_fails(tmp_path: Path, policy: Path) -> None:
    report = run(tmp_path, policy, a=inline_case("git", git_component(), DENY_CURL_EXACT))
    (result,) = report.results
    assert result.outcome is Outcome.FAILED
    assert result.verdict is Verdict.ALLOW
    assert [m.label() for m in result.missing] == ["binary.unlisted binary /usr/bin/curl"]


def test_a_bag_path_is_relative_to_the_case_file(tmp_path: Path, policy: Path) -> None:
    write_bag(tmp_path / "cases" / "deep" / "runs" / "bag.json", binary("git", GIT))
    write(
        tmp_path / "cases" / "deep" / "recorded.yml",
        "name: recorded\nbag: runs/bag.json\nexpect: {verdict: allow}\n",
    )
    report = run_policy_tests(tmp_path / "cases", policy)
    assert [(r.name, r.outcome) for r in report.results] == [("recorded", Outcome.PASSED)]


def test_a_case_may_name_its_own_policy_relative_to_itself(tmp_path: Path) -> None:
    write(tmp_path / "cases" / "strict.yml", policy_text("strict", git=(GIT_REBUILT,)))
    case = inline_case(
        "own-policy",
        git_component(),
        "  verdict: deny\n  reasons: [{code: binary.digest}]",
        extra="policy: strict.yml\n",
    )
    report = run(tmp_path, None, a=case)
    (result,) = report.results  # strict.yml is a policy, not read as a case
    assert result.outcome is Outcome.PASSED
    assert result.policy_id is not None
    assert result.policy_id.startswith("strict@")
    assert report.files == 1


def test_the_policy_under_test_inside_the_folder_is_not_a_case(
    tmp_path: Path, policy: Path
) -> None:
    inside = write(tmp_path / "cases" / "envsecops.yml", policy.read_text())
    report = run(tmp_path, inside, a=inline_case("git", git_component(), "  verdict: allow"))
    assert [(r.name, r.outcome) for r in report.results] == [("git", Outcome.PASSED)]


def test_no_policy_at_all_is_an_error_naming_the_case(tmp_path: Path) -> None:
    report = run(tmp_path, None, a=inline_case("orphan", git_component(), "  verdict: allow"))
    (result,) = report.results
    assert result.outcome is Outcome.ERROR
    assert result.error is not None
    assert "case 'orphan' names no policy and no --policy was given" in result.error
    assert result.error.startswith(str(tmp_path / "cases" / "a.yml") + ":1: ")
    assert result.fix is not None
    assert "--policy FILE" in result.fix
    assert report.exit_code == 2


def test_a_policy_that_does_not_load_is_an_error_with_its_line(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yml", "name: x\nbinaries:\n  /usr/bin/git: [sha256:00]\nfoo: 1\n")
    report = run(tmp_path, bad, a=inline_case("git", git_component(), "  verdict: allow"))
    (result,) = report.results
    assert result.outcome is Outcome.ERROR
    assert result.error is not None
    assert result.error.startswith(f"{bad}:")
    assert report.exit_code == 2


def test_a_missing_policy_file_is_an_error_with_the_init_fix(tmp_path: Path) -> None:
    report = run(
        tmp_path, tmp_path / "nope.yml", a=inline_case("git", git_component(), "  verdict: allow")
    )
    (result,) = report.results
    assert result.outcome is Outcome.ERROR
    assert result.fix is not None
    assert "policy init" in result.fix


def test_an_unreadable_bag_is_an_error_not_a_crash(tmp_path: Path, policy: Path) -> None:
    write(tmp_path / "cases" / "bag.json", '{"version": "1",\n "components": [}\n')
    report = run(tmp_path, policy, a="name: broken-bag\nbag: bag.json\nexpect: {verdict: allow}\n")
    (result,) = report.results
    assert result.outcome is Outcome.ERROR
    assert result.error is not None
    assert result.error.startswith(str(tmp_path / "cases" / "bag.json") + ": ")
    assert "line 2, column" in result.error
    assert report.exit_code == 2


def test_an_edited_bag_whose_env_hash_no_longer_matches_is_refused(
    tmp_path: Path, policy: Path
) -> None:
    path = write_bag(tmp_path / "cases" / "bag.json", binary("git", GIT))
    path.write_text(path.read_text().replace(GIT, GIT_REBUILT))
    report = run(tmp_path, policy, a="name: edited\nbag: bag.json\nexpect: {verdict: allow}\n")
    assert report.results[0].outcome is Outcome.ERROR
    assert "env_hash does not match" in (report.results[0].error or "")


def test_errors_failures_and_passes_together_exit_2(tmp_path: Path, policy: Path) -> None:
    report = run(
        tmp_path,
        policy,
        a=inline_case("pass", git_component(), "  verdict: allow"),
        b=inline_case("fail", curl_component(), "  verdict: allow"),
        c="name: broken\nexpect: {verdict: allow}\n",
    )
    assert [r.outcome for r in report.results] == [Outcome.PASSED, Outcome.FAILED, Outcome.ERROR]
    assert report.exit_code == 2
    assert report.summary() == (
        "policy test: 3 cases in 3 files: 1 passed, 1 failed, 1 could not be loaded"
    )


def test_an_empty_folder_tests_nothing_and_exits_2(tmp_path: Path, policy: Path) -> None:
    (tmp_path / "cases").mkdir()
    write(tmp_path / "cases" / "README.md", "no cases here\n")
    report = run_policy_tests(tmp_path / "cases", policy)
    assert report.results == ()
    assert report.exit_code == 2
    assert "nothing was tested" in report.render_text()


def test_a_folder_that_does_not_exist_is_an_input_error(tmp_path: Path, policy: Path) -> None:
    with pytest.raises(InputError, match="there is no such folder of policy test cases"):
        run_policy_tests(tmp_path / "missing", policy)


def test_one_case_file_can_be_run_alone(tmp_path: Path, policy: Path) -> None:
    write(tmp_path / "cases" / "a.yml", inline_case("a", git_component(), "  verdict: allow"))
    write(tmp_path / "cases" / "b.yml", inline_case("b", curl_component(), "  verdict: allow"))
    report = run_policy_tests(tmp_path / "cases" / "a.yml", policy)
    assert [(r.name, r.outcome) for r in report.results] == [("a", Outcome.PASSED)]
    assert report.exit_code == 0
    assert report.summary().startswith("policy test: 1 case in 1 file: 1 passed")


def test_an_empty_allowlist_is_a_deny_the_case_can_expect(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.yml", "name: empty\nmode: audit\n")
    expect = "  verdict: deny\n  reasons: [{code: policy.empty}]"
    report = run(tmp_path, empty, a=inline_case("empty", git_component(), expect))
    assert report.results[0].outcome is Outcome.PASSED


def test_the_json_report_carries_every_field(tmp_path: Path, policy: Path) -> None:
    report = run(
        tmp_path,
        policy,
        a=inline_case("fail", curl_component(), "  verdict: allow"),
        b="name: broken\nexpect: {verdict: allow}\n",
    )
    data = json.loads(json.dumps(report.to_json()))
    assert data["version"] == "1"
    assert data["$schema"] == "https://envsecops.dev/schemas/policy-test.v1.json"
    assert data["summary"] == {"files": 2, "cases": 2, "passed": 0, "failed": 1, "errors": 1}
    assert data["exit_code"] == 2
    failed, broken = data["cases"]
    assert failed["outcome"] == "fail"
    assert failed["expected"] == {"verdict": "allow", "reasons": [], "exact": False}
    assert failed["verdict"] == "deny"
    assert [r["code"] for r in failed["unexpected"]] == ["binary.unlisted"]
    assert broken["outcome"] == "error"
    assert broken["name"] == "broken"
    assert "exactly one of `bag:`" in broken["error"]["message"]
