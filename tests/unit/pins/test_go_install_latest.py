"""`go-install-latest`: moving module versions in go install, run and get."""

from __future__ import annotations

import pytest

from envsecops.model import Confidence, Finding
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.go_install_latest import GO_INSTALL_LATEST, GoInstallLatest, describe
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("go-install-latest")


def _run(script: str) -> list[Finding]:
    text = f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: {script}\n"
    return run_check(GoInstallLatest(), FileKind.WORKFLOW, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, GoInstallLatest())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, GoInstallLatest) for check in CHECKS) == 1
    assert RULES["go-install-latest"] is GO_INSTALL_LATEST


@pytest.mark.parametrize(
    ("version", "moves"),
    [
        ("latest", True),
        ("upgrade", True),
        ("patch", True),
        ("master", True),
        ("main", True),
        ("HEAD", True),
        ("release-1.2", True),
        ("v1", True),
        ("v1.2", True),
        ("<v2.0.0", True),
        ("0123456", True),
        ("v1.2.3", False),
        ("v0.0.0-20240101000000-0123456789ab", False),
        ("v2.0.0-rc.1+meta", False),
        ("0123456789ab", False),
        ("0123456789abcdef0123456789abcdef01234567", False),
        ("none", False),
    ],
)
def test_describe(version: str, moves: bool) -> None:
    assert (describe(version) is not None) is moves


def test_flag_values_are_not_packages() -> None:
    assert _run("go install -tags netgo -ldflags=-s -o bin/x github.com/o/x@v1.0.0") == []
    (finding,) = _run("go install --mod=mod -C tools github.com/o/x@latest")
    assert "`@latest`" in finding.message


def test_go_run_reads_only_its_package() -> None:
    assert _run("go run github.com/o/gen@v1.2.3 --flag x@latest") == []


def test_dynamic_version_has_low_confidence() -> None:
    (finding,) = _run("go install github.com/o/x@$VERSION")
    assert finding.confidence is Confidence.LOW
