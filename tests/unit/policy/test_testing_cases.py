"""Policy test case files: strict YAML, one case per document, defects with line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.policy.testing import Outcome, TestReport, run_policy_tests
from tests.unit.policy.testing_helpers import (
    curl_component,
    git_component,
    inline_case,
    policy_text,
    write,
)


def run_file(tmp_path: Path, text: str) -> TestReport:
    policy = write(tmp_path / "envsecops.yml", policy_text())
    write(tmp_path / "cases" / "case.yml", text)
    return run_policy_tests(tmp_path / "cases", policy)


def only_error(tmp_path: Path, text: str) -> str:
    report = run_file(tmp_path, text)
    (result,) = report.results
    assert result.outcome is Outcome.ERROR
    assert report.exit_code == 2
    assert result.error is not None
    prefix = str(tmp_path / "cases" / "case.yml") + ":"
    assert result.error.startswith(prefix)
    return result.error.removeprefix(prefix)


def test_a_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    error = only_error(tmp_path, "name: x\nexpect: {verdict: allow\n")
    assert error.startswith("3:1: YAML syntax error")


def test_an_unknown_key_names_its_line_and_column(tmp_path: Path) -> None:
    text = inline_case("typo", git_component(), "  verdict: allow\n  exactly: true")
    error = only_error(tmp_path, text)
    line = text.splitlines().index("  exactly: true") + 1
    assert error.startswith(f"{line}:3: unknown key 'exactly' in `expect:`")


def test_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    error = only_error(tmp_path, "name: a\nname: b\nexpect: {verdict: allow}\ncomponents: []\n")
    assert error.startswith("2:1: duplicate key 'name'")


@pytest.mark.parametrize("word", ["yes", "no", "on", "True", '"true"'])
def test_exact_must_be_written_true_or_false(tmp_path: Path, word: str) -> None:
    text = inline_case("b", curl_component(), f"  verdict: deny\n  exact: {word}")
    error = only_error(tmp_path, text)
    assert "`expect.exact` must be true or false" in error
    assert "write true or false" in error


def test_an_unknown_reason_code_suggests_the_near_one(tmp_path: Path) -> None:
    text = inline_case("c", curl_component(), "  verdict: deny\n  reasons: [{code: binary.unlist}]")
    error = only_error(tmp_path, text)
    assert "unknown reason code 'binary.unlist' (did you mean binary.unlisted" in error


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("expect: {verdict: allow}\ncomponents: []\n", "a case needs a non-empty `name`"),
        ("name: n\ncomponents: []\n", "case 'n' needs `expect:`"),
        ("name: n\nexpect: {verdict: allow}\n", "needs exactly one of `bag:`"),
        (
            "name: n\nbag: b.json\ncomponents: []\nexpect: {verdict: allow}\n",
            "needs exactly one of `bag:`",
        ),
        (
            "name: n\nbag: b.json\nrunner: {arch: x86_64}\nexpect: {verdict: allow}\n",
            "`runner:` goes with inline `components:`",
        ),
        ("name: n\ncomponents: []\nexpect: {verdict: maybe}\n", "`verdict` must be allow or deny"),
        ("name: n\ncomponents: []\nexpect: {exact: true}\n", "needs `verdict: allow`"),
        (
            "name: n\ncomponents: []\nexpect: {verdict: allow, reasons: [{code: env.forbidden}]}\n",
            "expects allow and lists reasons",
        ),
        (
            "name: n\ncomponents: []\nexpect: {verdict: deny, exact: true}\n",
            "a deny always has one",
        ),
        ("name: n\ncomponents: {}\nexpect: {verdict: allow}\n", "must be a list of components"),
        (
            "name: n\ncomponents: [{kind: gadget, name: x}]\nexpect: {verdict: allow}\n",
            "not a bag.json component: 'gadget' is not a valid ComponentKind",
        ),
        (
            "name: n\ncomponents: [{kind: binary, name: x, sha: y}]\nexpect: {verdict: allow}\n",
            "unknown key 'sha' in a component",
        ),
        (
            "name: n\nrunner: {runner_env: x}\ncomponents: []\nexpect: {verdict: allow}\n",
            "unknown key 'runner_env' in `runner:`",
        ),
        ("- just\n- a list\n", "a policy test case must be a mapping"),
        (
            "name: n\ncomponents: []\nexpect: {verdict: deny, reasons: [{subject: x}]}\n",
            "an expected reason needs `code`",
        ),
    ],
)
def test_malformed_cases_are_errors(tmp_path: Path, text: str, message: str) -> None:
    error = only_error(tmp_path, text)
    assert message in error


def test_an_empty_case_file_is_an_error(tmp_path: Path) -> None:
    error = only_error(tmp_path, "# nothing yet\n")
    assert "the case file holds no case" in error


def test_several_documents_are_several_cases_and_one_bad_one_spoils_only_itself(
    tmp_path: Path,
) -> None:
    text = "\n---\n".join(
        [
            inline_case("first", git_component(), "  verdict: allow"),
            "name: second\ncomponents: []\nexpect: {verdict: allow, extra: 1}",
            inline_case("third", curl_component(), "  verdict: deny"),
        ]
    )
    report = run_file(tmp_path, text)
    assert [(r.name, r.outcome) for r in report.results] == [
        ("first", Outcome.PASSED),
        ("second", Outcome.ERROR),
        ("third", Outcome.PASSED),
    ]
    where = str(tmp_path / "cases" / "case.yml")
    second_line = text.splitlines().index("name: second") + 1
    assert [r.location for r in report.results] == [
        f"{where}:1",
        f"{where}:{second_line}",
        f"{where}:{second_line + 4}",
    ]
    assert (report.results[1].error or "").startswith(f"{where}:{second_line + 2}:")
    assert report.exit_code == 2


def test_two_cases_with_one_name_are_an_error(tmp_path: Path) -> None:
    case = inline_case("same", git_component(), "  verdict: allow")
    report = run_file(tmp_path, case + "---\n" + case)
    assert [r.outcome for r in report.results] == [Outcome.PASSED, Outcome.ERROR]
    assert "another case is named 'same'" in (report.results[1].error or "")


def test_scalars_stay_strings_and_properties_and_volatile_are_read(tmp_path: Path) -> None:
    components = (
        "  - {kind: env, name: LD_PRELOAD, digest: 'sha256:00', volatile: true,\n"
        "     properties: {risky: 'true', risk: ''}}\n"
        "  - {kind: package, name: requests, version: 2.10, purl: pkg:pypi/requests@2.10}"
    )
    expect = (
        "  verdict: deny\n  reasons:\n    - {code: env.forbidden, subject: env LD_PRELOAD}\n"
        "    - {code: package.unlisted, subject: package pkg:pypi/requests@2.10}"
    )
    report = run_file(tmp_path, inline_case("strings", components, expect))
    assert report.results[0].outcome is Outcome.PASSED


def test_error_text_shows_the_fix(tmp_path: Path) -> None:
    report = run_file(tmp_path, "name: n\ncomponents: []\nexpect: {verdict: allow, x: 1}\n")
    text = report.render_text()
    assert "ERROR n  (" in text
    assert "fix: see the case format in docs/policy-rollout.md" in text
    assert text.endswith("0 passed, 0 failed, 1 could not be loaded\n")
