"""`yarn-install-unfrozen`: fixtures for yarn, pnpm and bun, and the frozen flag logic."""

from __future__ import annotations

import pytest

from envsecops.model import Confidence, Finding, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.yarn_install_unfrozen import YARN_INSTALL_UNFROZEN, YarnInstallUnfrozen
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("yarn-install-unfrozen")


def _run(script: str, kind: FileKind = FileKind.WORKFLOW) -> list[Finding]:
    text = f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: {script}\n"
    return run_check(YarnInstallUnfrozen(), kind, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, YarnInstallUnfrozen())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, YarnInstallUnfrozen) for check in CHECKS) == 1
    assert RULES["yarn-install-unfrozen"] is YARN_INSTALL_UNFROZEN


@pytest.mark.parametrize(
    ("script", "fix"),
    [
        ("yarn", "--frozen-lockfile` (Yarn 1)"),
        ("yarn install", "--immutable` (Yarn 2+)"),
        ("pnpm install", "pnpm install --frozen-lockfile"),
        ("bun i", "bun install --frozen-lockfile"),
    ],
)
def test_fix_names_the_flag_of_each_manager(script: str, fix: str) -> None:
    (finding,) = _run(script)
    assert finding.fix is not None
    assert fix in finding.fix
    assert finding.confidence is Confidence.MEDIUM


@pytest.mark.parametrize(
    "script", ["pnpm install --no-frozen-lockfile", "yarn install --no-immutable"]
)
def test_explicitly_unfrozen_is_high_confidence(script: str) -> None:
    (finding,) = _run(script)
    assert finding.confidence is Confidence.HIGH
    assert "turns the frozen lockfile off" in finding.message


def test_later_flag_wins() -> None:
    assert _run("pnpm install --no-frozen-lockfile --frozen-lockfile") == []
    assert len(_run("pnpm install --frozen-lockfile --no-frozen-lockfile")) == 1


def test_add_with_exact_version_is_low() -> None:
    (finding,) = _run("pnpm add -D vitest@2.1.1")
    assert finding.severity is Severity.LOW
    (finding,) = _run("bun add zod")
    assert finding.severity is Severity.MEDIUM


@pytest.mark.parametrize(
    "script",
    [
        "yarn --immutable",
        "yarn test",
        "yarn workspace web build",
        "pnpm -r run build",
        "bun run dev",
        "YARN_ENABLE_IMMUTABLE_INSTALLS=1 yarn install",
    ],
)
def test_not_findings(script: str) -> None:
    assert _run(script) == []


@pytest.mark.parametrize("script", ["yarn --version", "yarn -v", "yarn --help"])
def test_yarn_informational_flags_are_not_installs(script: str) -> None:
    assert _run(script) == []
