"""The example policy-test suite in docs/examples/policy-tests/ passes, and its bag is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.policy.load import load_policy_file
from envsecops.policy.replay import replay
from envsecops.policy.testing import Outcome, run_policy_tests
from tests.unit.policy.example_suite import BAG, EXAMPLE, POLICY, bag_bytes


def test_the_recorded_bag_is_what_the_generator_writes() -> None:
    assert BAG.read_bytes() == bag_bytes()


def test_the_example_suite_passes_with_the_policy_beside_it() -> None:
    report = run_policy_tests(EXAMPLE, POLICY)
    assert report.exit_code == 0, report.render_text()
    assert report.files == 3  # envsecops.yml is the policy under test, not a case file
    assert [r.name for r in report.results] == [
        "unlisted-curl-is-denied",
        "rebuilt-git-is-denied",
        "recorded-run-is-allowed",
        "self-hosted-runner-is-denied",
        "ld-preload-is-denied",
        "vulnerable-requests-is-denied",
    ]
    assert {r.outcome for r in report.results} == {Outcome.PASSED}


def test_the_example_policy_replays_the_recorded_bag_unchanged() -> None:
    policy = load_policy_file(POLICY)
    report = replay(policy, policy, EXAMPLE / "recorded")
    assert (report.replayed, report.changes, report.exit_code) == (1, (), 0)


def test_the_readme_shows_the_report_the_suite_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    root = EXAMPLE.parents[2]
    monkeypatch.chdir(root)
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    shown = readme.split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    assert shown[0].startswith("$ envsecops policy test ")
    directory, _flag, policy = shown[0].removeprefix("$ envsecops policy test ").split(" ")
    report = run_policy_tests(Path(directory), Path(policy))
    assert report.render_text().splitlines() == shown[1:]
