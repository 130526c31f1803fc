"""`unpinned-pip-install`: fixtures, severities, tool installers, and the CLI end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.model import Confidence, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.unpinned_pip_install import (
    UNPINNED_PIP_INSTALL,
    UnpinnedPipInstall,
    classify,
)
from tests.conftest import CliResult
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("unpinned-pip-install")


def _run(script: str) -> list[tuple[Severity, Confidence, str]]:
    text = f"on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {script}\n"
    return [
        (f.severity, f.confidence, f.message)
        for f in run_check(UnpinnedPipInstall(), FileKind.WORKFLOW, text)
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, UnpinnedPipInstall())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, UnpinnedPipInstall) for check in CHECKS) == 1
    assert RULES["unpinned-pip-install"] is UNPINNED_PIP_INSTALL


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("requests", "unpinned"),
        ("requests>=2", "unpinned"),
        ("requests~=2.31", "unpinned"),
        ("requests==2.*", "unpinned"),
        ("requests==2.31.0", "pinned"),
        ("requests[socks]===2.31.0", "pinned"),
        ("requests==2.31.0; python_version<'3.13'", "pinned"),
        ("git+https://github.com/o/r", "unpinned"),
        ("git+https://github.com/o/r@v1.0#egg=r", "unpinned"),
        ("git+https://github.com/o/r@0123456789abcdef0123456789abcdef01234567#egg=r", "pinned"),
        ("r @ git+https://github.com/o/r@main", "unpinned"),
        ("https://files.example/r-1.0.tar.gz", "unpinned"),
        ("https://files.example/r-1.0.tar.gz#sha256=" + "a" * 64, "pinned"),
        (".", "local"),
        (".[test]", "local"),
        ("./pkg", "local"),
        ("../sibling", "local"),
        ("/abs/path", "local"),
        ("dist/*.whl", "local"),
        ("pkg-1.0-py3-none-any.whl", "local"),
        ("file:///tmp/pkg", "local"),
        ("C:\\src\\pkg", "local"),
        ("$PKG", "dynamic"),
        ("${{ inputs.pkg }}", "dynamic"),
        ("%PKG%", "dynamic"),
        ("not a valid requirement!!", "unpinned"),
    ],
)
def test_classify(spec: str, kind: str) -> None:
    assert classify(spec) == kind


def test_severity_follows_the_weakest_package() -> None:
    ((severity, confidence, message),) = _run("pip install ruff==0.6.9 black")
    assert (severity, confidence) == (Severity.HIGH, Confidence.HIGH)
    assert "downloads `black`" in message
    assert "pins `ruff==0.6.9`" in message
    ((severity, confidence, _),) = _run("pip install ruff==0.6.9")
    assert (severity, confidence) == (Severity.MEDIUM, Confidence.HIGH)


def test_constraints_lower_the_severity_of_names() -> None:
    ((severity, confidence, message),) = _run("pip install -c constraints.txt black")
    assert (severity, confidence) == (Severity.MEDIUM, Confidence.MEDIUM)
    assert "constraints file" in message


def test_dynamic_packages_are_unverifiable() -> None:
    ((severity, confidence, message),) = _run('pip install "$TOOL"')
    assert (severity, confidence) == (Severity.HIGH, Confidence.LOW)
    assert "only known when the step runs" in message


@pytest.mark.parametrize(
    "script",
    [
        "pip install --require-hashes -r r.txt",
        "pip install -r requirements.txt",
        "pip install --requirement=requirements.txt",
        "pip install -rrequirements.txt",
        "pip install --no-index -f ./wheels pkg",
        "PIP_REQUIRE_HASHES=1 pip install -r r.txt",
        "env PIP_REQUIRE_HASHES=true pip install -r r.txt",
        "pip install -e .",
        "pip install .[dev]",
        "pip --disable-pip-version-check install ./dist/pkg.whl",
        "pip install --target ./vendor ./pkg",
        "pip download requests",
        "pip wheel requests",
        "pip",
    ],
)
def test_not_findings(script: str) -> None:
    assert _run(script) == []


def test_upgrading_pip_itself_is_reported_and_explained() -> None:
    ((severity, _confidence, message),) = _run("python -m pip install -U pip setuptools wheel")
    assert severity is Severity.HIGH
    assert "upgrading pip/setuptools/wheel is an unpinned download too" in message


def test_tool_installers_get_their_own_fix() -> None:
    text = (
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        "      - run: uvx --from ruff==0.6.9 ruff check\n"
    )
    (finding,) = run_check(UnpinnedPipInstall(), FileKind.WORKFLOW, text)
    assert finding.severity is Severity.MEDIUM
    assert finding.fix is not None
    assert "pipx and uvx cannot check hashes" in finding.fix


def test_cli_reports_exact_positions_in_json(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: |\n"
        "          echo start\n"
        "          sudo -E python3 -m pip install \\\n"
        "            nox==2024.4.15 \\\n"
        "            tox\n"
        "          pip install --require-hashes -r requirements.txt\n",
        encoding="utf-8",
    )
    result = run_cli("pin-check", "--format", "json", tmp_path)
    assert result.code == 1, result.err
    findings = [
        f for f in json.loads(result.out)["findings"] if f["rule"] == "unpinned-pip-install"
    ]
    assert len(findings) == 1
    (finding,) = findings
    assert (finding["line"], finding["column"]) == (8, 11)
    assert (finding["end_line"], finding["end_column"]) == (10, 16)
    assert finding["severity"] == "high"
    assert finding["reference"] == "sudo -E python3 -m pip install nox==2024.4.15 tox"
    assert "downloads `tox`" in finding["message"]
    assert "--require-hashes" in finding["fix"]


def test_cli_honours_an_inline_ignore_inside_the_script(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "docs.yml").write_text(
        "on: push\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n"
        "          # envsecops: ignore[unpinned-pip-install] preview build, no secrets\n"
        "          pip install sphinx\n",
        encoding="utf-8",
    )
    result = run_cli("pin-check", "--format", "json", tmp_path)
    document = json.loads(result.out)
    assert [f["rule"] for f in document["findings"]] == []
    assert [s["reason"] for s in document["suppressed"]] == ["preview build, no secrets"]
    assert result.code == 0


def test_packages_from_xargs_are_unverifiable() -> None:
    ((severity, confidence, message),) = _run("cat tools.txt | xargs pip install")
    assert (severity, confidence) == (Severity.HIGH, Confidence.LOW)
    assert "`$(xargs)`" in message


def test_a_script_repeated_through_an_alias_is_reported_once() -> None:
    text = (
        "on: push\njobs:\n"
        "  a:\n    runs-on: x\n    steps:\n      - run: &install pip install tox\n"
        "  b:\n    runs-on: x\n    steps:\n      - run: *install\n"
    )
    (finding,) = run_check(UnpinnedPipInstall(), FileKind.WORKFLOW, text)
    assert (finding.line, finding.column) == (6, 23)
