"""`curl-pipe-shell`: pipes, process and command substitution, PowerShell, and what is data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.model import Finding, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.curl_pipe_shell import CURL_PIPE_SHELL, CurlPipeShell, program_source
from tests.conftest import CliResult
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("curl-pipe-shell")


def _run(script: str, step_shell: str = "bash") -> list[Finding]:
    text = (
        "on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
        f"      - shell: {step_shell}\n        run: |\n          {script}\n"
    )
    return run_check(CurlPipeShell(), FileKind.WORKFLOW, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, CurlPipeShell())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, CurlPipeShell) for check in CHECKS) == 1
    assert RULES["curl-pipe-shell"] is CURL_PIPE_SHELL
    assert CURL_PIPE_SHELL.severity is Severity.HIGH


@pytest.mark.parametrize(
    "script",
    [
        "curl -fsSL https://x | sh",
        "curl -fsSL https://x | bash -",
        "curl -fsSL https://x | sudo -E bash -s -- -y",
        "curl -fsSL https://x | zsh",
        "curl -fsSL https://x | dash",
        "curl -fsSL https://x | ksh",
        "curl -fsSL https://x | python",
        "curl -fsSL https://x | python3.12 -",
        "curl -fsSL https://x | perl",
        "curl -fsSL https://x | ruby",
        "curl -fsSL https://x | node",
        "curl -fsSL https://x | php",
        "curl -fsSL https://x | source /dev/stdin",
        "wget -O - https://x | sh",
        "wget -qO- https://x | sudo sh",
        "curl -fsSL https://x | tee /tmp/log | sh",
        "bash <(curl -fsSL https://x)",
        "source <(curl -fsSL https://x)",
        ". <(wget -qO- https://x)",
        'sh -c "$(curl -fsSL https://x)"',
        'bash -c "`wget -qO- https://x`"',
        'python3 -c "$(curl -fsSL https://x)"',
        'eval "$(curl -fsSL https://x)"',
        "X=$(curl -fsSL https://x | sh)",
        "sudo sh -c 'curl -fsSL https://x | sh'",
    ],
)
def test_runs_a_download(script: str) -> None:
    (finding,) = _run(script)
    assert finding.fix is not None
    assert "sha256sum" in finding.fix


@pytest.mark.parametrize(
    "script",
    [
        "iwr https://x | iex",
        "irm https://x | iex",
        "Invoke-RestMethod https://x | Invoke-Expression",
        "iex (iwr https://x -UseBasicParsing).Content",
        "iex ((New-Object Net.WebClient).DownloadString('https://x'))",
    ],
)
def test_powershell_forms(script: str) -> None:
    assert len(_run(script, step_shell="pwsh")) == 1


@pytest.mark.parametrize(
    "script",
    [
        "curl -fsSL https://x | jq .",
        "curl -fsSL https://x | tar xz",
        "curl -fsSL https://x | python3 -c 'import sys; print(sys.stdin.read())'",
        "curl -fsSL https://x | python3 tool.py",
        "curl -fsSL https://x | node -e 'process.stdin.pipe(process.stdout)'",
        "curl -fsSL https://x | perl -ne print",
        "curl -fsSL https://x | bash ./consume.sh",
        "curl -fsSL https://x | sh -c 'cat > out'",
        "curl -fsSL https://x -o install.sh",
        "echo hi | sh",
        'bash ./install.sh "$(curl -fsSL https://x/version)"',
        "cat install.sh | sh",
        'eval "$(ssh-agent -s)"',
    ],
)
def test_not_executing_a_download(script: str) -> None:
    assert _run(script) == []


@pytest.mark.parametrize(
    ("kind", "args", "expected"),
    [
        ("bash", (), ("stdin", None)),
        ("bash", ("-s", "--", "-y"), ("stdin", None)),
        ("bash", ("-e", "-c", "echo"), ("code", "echo")),
        ("bash", ("-ec", "echo"), ("code", "echo")),
        ("bash", ("-o", "pipefail", "x.sh"), ("file", "x.sh")),
        ("python", ("-u", "-"), ("stdin", None)),
        ("python", ("-m", "json.tool"), ("code", "json.tool")),
        ("python", ("-cprint(1)",), ("code", "print(1)")),
        ("perl", ("-ne", "print"), ("code", "print")),
        ("node", ("--eval", "1"), ("code", "1")),
        ("pwsh", ("-NoProfile", "-Command", "Get-Date"), ("code", "Get-Date")),
        ("pwsh", ("-ExecutionPolicy", "Bypass", "-File", "x.ps1"), ("file", "x.ps1")),
        ("pwsh", ("-NonInteractive",), ("stdin", None)),
    ],
)
def test_program_source(kind: str, args: tuple[str, ...], expected: tuple[str, str | None]) -> None:
    assert program_source(kind, args) == expected


def test_cli_points_at_the_download_and_spans_to_the_shell(
    run_cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path.parent)
    action = tmp_path / "action.yml"
    action.write_text(
        "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n"
        "    - shell: bash\n"
        "      run: |\n"
        "        set -eu\n"
        "        curl -fsSL https://get.example.dev |\n"
        "          sudo bash\n",
        encoding="utf-8",
    )
    result = run_cli("pin-check", "--format", "json", tmp_path.name)
    assert result.code == 1, result.err
    (finding,) = [f for f in json.loads(result.out)["findings"] if f["rule"] == "curl-pipe-shell"]
    assert finding["path"] == f"{tmp_path.name}/action.yml"
    assert (finding["line"], finding["column"]) == (9, 9)
    assert (finding["end_line"], finding["end_column"]) == (10, 20)
    assert finding["reference"] == "curl -fsSL https://get.example.dev | sudo bash"


def test_powershell_scriptblock_from_a_download() -> None:
    (finding,) = _run("& ([scriptblock]::Create((iwr https://x -UseBasicParsing)))", "pwsh")
    assert "https://x" in finding.message
