"""`cargo-install-unlocked`: cargo install without --locked, and the version note."""

from __future__ import annotations

import pytest

from envsecops.model import Finding
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.cargo_install_unlocked import (
    CARGO_INSTALL_UNLOCKED,
    CargoInstallUnlocked,
)
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("cargo-install-unlocked")


def _run(script: str) -> list[Finding]:
    text = f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: {script}\n"
    return run_check(CargoInstallUnlocked(), FileKind.WORKFLOW, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, CargoInstallUnlocked())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, CargoInstallUnlocked) for check in CHECKS) == 1
    assert RULES["cargo-install-unlocked"] is CARGO_INSTALL_UNLOCKED


@pytest.mark.parametrize(
    ("script", "floats"),
    [
        ("cargo install ripgrep", True),
        ("cargo install ripgrep --version 14.1.1", False),
        ("cargo install ripgrep@14.1.1", False),
        ("cargo install --git https://github.com/o/r --rev 0123abc", False),
        ("cargo install --git https://github.com/o/r", True),
        ("cargo install --path crates/cli", False),
    ],
)
def test_version_note(script: str, floats: bool) -> None:
    (finding,) = _run(script)
    assert ("no version is named either" in finding.message) is floats
    assert finding.fix is not None
    assert finding.fix.startswith("add `--locked`")


def test_trailing_value_option_without_value_does_not_crash() -> None:
    (finding,) = _run("cargo install --path")
    assert "without `--locked`" in finding.message


@pytest.mark.parametrize(
    "script",
    ["cargo install --locked ripgrep", "cargo +stable install --frozen ripgrep", "cargo build"],
)
def test_not_findings(script: str) -> None:
    assert _run(script) == []
