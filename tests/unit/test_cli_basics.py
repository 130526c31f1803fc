"""The CLI's contract at its edges: version, help, usage errors, bad input, and no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import envsecops.pins.engine
from envsecops import __version__
from tests.conftest import CliResult

RunCli = Callable[..., CliResult]

PINNED_WORKFLOW = """\
on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo hello
"""


def _repo(tmp_path: Path, policy: str | None = None) -> Path:
    """A minimal repository: one workflow, and a policy file when given."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(PINNED_WORKFLOW, encoding="utf-8")
    if policy is not None:
        (tmp_path / ".github" / "envsecops.yml").write_text(policy, encoding="utf-8")
    return tmp_path


def test_version_prints_the_package_version(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.out.strip() == f"envsecops {__version__}"


def test_module_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-m", "envsecops", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"envsecops {__version__}"


def test_help_lists_the_subcommands(run_cli: RunCli) -> None:
    result = run_cli("--help")
    assert result.code == 0
    for name in ("pin-check", "demo"):
        assert name in result.out


def test_pin_check_help_lists_its_options(run_cli: RunCli) -> None:
    result = run_cli("pin-check", "--help")
    assert result.code == 0
    for option in ("--format", "--fail-on", "--sarif-file", "--policy", "--exclude"):
        assert option in result.out


def test_no_subcommand_is_a_usage_error(run_cli: RunCli) -> None:
    result = run_cli()
    assert result.code == 2
    assert "usage: envsecops" in result.err
    assert result.out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-command"], "invalid choice"),
        (["pin-check", "--format", "xml"], "invalid choice"),
        (["pin-check", "--fail-on", "critical"], "invalid choice"),
        (["pin-check", "--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_are_usage_errors(run_cli: RunCli, argv: list[str], message: str) -> None:
    result = run_cli(*argv)
    assert result.code == 2
    assert message in result.err


def test_nonexistent_path_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    missing = tmp_path / "not-there"
    result = run_cli("pin-check", missing)
    assert result.code == 2
    assert str(missing) in result.err
    assert "no such file or directory" in result.err


def test_missing_explicit_policy_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    result = run_cli("pin-check", "--policy", repo / "nope.yml", repo)
    assert result.code == 2
    assert "nope.yml" in result.err


def test_empty_directory_has_no_files_to_check(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("pin-check", tmp_path)
    assert result.code == 2
    assert "no files to check" in result.err


@pytest.mark.parametrize(
    ("policy", "line", "problem"),
    [
        ("pins:\n  exclude:\n    - a/**\n  exclude:\n    - b/**\n", 4, "duplicate key"),
        ("pins:\n  exceptions: [\n", 3, "YAML syntax error"),
        ("pins:\n  excludes:\n    - a/**\n", 2, "unknown key 'excludes'"),
        (
            "pins:\n  exceptions:\n    - rule: parse-error\n      path: x\n"
            "      reason: r\n      expires: soon\n",
            6,
            "`expires` must be a date",
        ),
        (
            "pins:\n  exceptions:\n    - rule: no-such-rule\n      path: x\n"
            "      reason: r\n      expires: 2027-01-31\n",
            3,
            "unknown rule id 'no-such-rule'",
        ),
    ],
)
def test_broken_policy_names_file_and_line(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    line: int,
    problem: str,
) -> None:
    repo = _repo(tmp_path, policy)
    monkeypatch.chdir(repo)
    result = run_cli("pin-check", ".")
    assert result.code == 2
    assert f".github/envsecops.yml:{line}:" in result.err
    assert problem in result.err
    assert "Traceback" not in result.err


def test_internal_error_fails_closed_without_traceback(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated defect")

    monkeypatch.setattr(envsecops.pins.engine, "run_pin_check", explode)
    result = run_cli("pin-check", _repo(tmp_path))
    assert result.code == 3
    assert "internal error (RuntimeError: simulated defect)" in result.err
    assert "fails closed" in result.err
    assert "Traceback" not in result.err + result.out


def test_internal_error_in_a_subprocess_prints_no_traceback(tmp_path: Path) -> None:
    """The real process, not just main(): a defect deep inside must not dump a trace."""
    repo = _repo(tmp_path)
    program = (
        "import sys\n"
        "import envsecops.pins.engine as engine\n"
        "def explode(*args, **kwargs):\n"
        "    raise KeyError('simulated defect')\n"
        "engine.run_pin_check = explode\n"
        "from envsecops.cli.main import main\n"
        "sys.exit(main(['pin-check', sys.argv[1]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", program, str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr.startswith("envsecops: error: internal error (KeyError:")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unwritable_output_is_a_usage_error(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    (tmp_path / "action.yml").write_text("runs:\n  using: composite\n  steps: []\n")
    result = run_cli("pin-check", "--output", tmp_path / "no" / "such" / "x.txt", tmp_path)
    assert result.code == 2
    assert "--output" in result.err
    assert "cannot write the report" in result.err
    assert "Traceback" not in result.err


def test_each_command_is_registered_by_its_own_module() -> None:
    import argparse

    from envsecops.cli.main import SUBCOMMANDS, build_parser

    def commands(parser: argparse.ArgumentParser) -> list[str]:
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return list(action.choices)

    assert commands(build_parser()) == list(SUBCOMMANDS)
    for name in SUBCOMMANDS:
        assert commands(build_parser(only=name)) == [name]


def test_a_command_imports_no_other_commands_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom envsecops.cli.main import build_parser\nbuild_parser(only='pin-check')\n"
        "print(sorted(m for m in sys.modules if m.startswith('envsecops.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['envsecops.cli.main', 'envsecops.cli.pin_check']"
