"""`npm-install-not-ci`: fixtures, aliases, package classification and severities."""

from __future__ import annotations

import pytest

from envsecops.model import Confidence, Finding, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.npm_install_not_ci import (
    INSTALL,
    NPM_INSTALL_NOT_CI,
    NpmInstallNotCi,
    classify,
)
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("npm-install-not-ci")


def _run(script: str) -> list[Finding]:
    text = f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: {script}\n"
    return run_check(NpmInstallNotCi(), FileKind.WORKFLOW, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, NpmInstallNotCi())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, NpmInstallNotCi) for check in CHECKS) == 1
    assert RULES["npm-install-not-ci"] is NPM_INSTALL_NOT_CI
    assert NPM_INSTALL_NOT_CI.severity is Severity.MEDIUM


@pytest.mark.parametrize("alias", sorted(INSTALL))
def test_every_install_alias_is_reported(alias: str) -> None:
    (finding,) = _run(f"npm {alias}")
    assert finding.fix is not None
    assert "`npm ci`" in finding.fix


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("typescript", "floating"),
        ("typescript@^5", "floating"),
        ("typescript@latest", "floating"),
        ("typescript@5.6.2", "exact"),
        ("@types/node", "floating"),
        ("@types/node@20.11.5", "exact"),
        ("@scope/pkg@1.0.0-beta.1", "exact"),
        ("user/repo", "floating"),
        ("github:user/repo#0123456789abcdef0123456789abcdef01234567", "exact"),
        ("git+https://github.com/u/r.git#main", "floating"),
        ("./local", "local"),
        (".", "local"),
        ("../pkg.tgz", "local"),
        ("file:../pkg", "local"),
        ("$PKG", "dynamic"),
    ],
)
def test_classify(spec: str, kind: str) -> None:
    assert classify(spec) == kind


def test_exact_global_tool_is_low_and_says_why() -> None:
    (finding,) = _run("npm install -g pnpm@9.12.0")
    assert finding.severity is Severity.LOW
    assert "globally" in finding.message
    assert "dependencies float" in finding.message


def test_dynamic_packages_have_low_confidence() -> None:
    (finding,) = _run('npm i "$TOOL"')
    assert (finding.severity, finding.confidence) == (Severity.MEDIUM, Confidence.LOW)


@pytest.mark.parametrize(
    "script",
    ["npm ci", "npm --prefix web ci", "npm install ./tools", "npm run install", "npm cit"],
)
def test_not_findings(script: str) -> None:
    assert _run(script) == []


def test_options_before_the_subcommand_are_skipped() -> None:
    (finding,) = _run("npm --prefix web --loglevel warn install")
    assert "without packages" in finding.message
