"""`download-then-run`: files fetched, then executed, with and without verification between."""

from __future__ import annotations

import pytest

from envsecops.model import Confidence, Finding
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.download_then_run import (
    DOWNLOAD_THEN_RUN,
    DownloadThenRun,
    downloaded_files,
    executed_file,
)
from envsecops.pins.shell import Dialect, parse_script
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("download-then-run")


def _run(*lines: str) -> list[Finding]:
    body = "".join(f"          {line}\n" for line in lines)
    text = f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: |\n{body}"
    return run_check(DownloadThenRun(), FileKind.WORKFLOW, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, DownloadThenRun())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, DownloadThenRun) for check in CHECKS) == 1
    assert RULES["download-then-run"] is DOWNLOAD_THEN_RUN
    assert DOWNLOAD_THEN_RUN.confidence is Confidence.MEDIUM


@pytest.mark.parametrize(
    ("command", "files"),
    [
        ("curl -fsSLo a.sh https://x/y", ["a.sh"]),
        ("curl -o ./b.sh https://x/y", ["b.sh"]),
        ("curl --output=/opt/c.sh https://x/y", ["/opt/c.sh"]),
        ("curl -LO https://x/path/d.sh?x=1", ["d.sh"]),
        ("curl --remote-name https://x/e.sh", ["e.sh"]),
        ("curl https://x/f > f.sh", ["f.sh"]),
        ("curl https://x/f", []),
        ("wget https://x/g.sh", ["g.sh"]),
        ("wget -P /opt https://x/h.sh", ["/opt/h.sh"]),
        ("wget -qO i.sh https://x", ["i.sh"]),
        ("wget -O- https://x", []),
        ("wget -O /dev/null https://x", []),
    ],
)
def test_downloaded_files(command: str, files: list[str]) -> None:
    assert downloaded_files(parse_script(command)[0]) == files


def test_powershell_out_file() -> None:
    (command,) = parse_script("Invoke-WebRequest -Uri https://x -OutFile i.ps1", Dialect.PWSH)
    assert downloaded_files(command) == ["i.ps1"]


@pytest.mark.parametrize(
    ("command", "target"),
    [
        ("bash a.sh", "a.sh"),
        ("sudo -E sh ./a.sh --yes", "a.sh"),
        ("./a.sh", "a.sh"),
        ("/opt/a.sh", "/opt/a.sh"),
        ("a.sh", "a.sh"),
        ("source a.sh", "a.sh"),
        (". ./a.sh", "a.sh"),
        ("python3 get-pip.py", "get-pip.py"),
        ("bash -c 'echo'", None),
        ("cat a.sh", None),
        ("chmod +x a.sh", None),
    ],
)
def test_executed_file(command: str, target: str | None) -> None:
    assert executed_file(parse_script(command)[0]) == target


@pytest.mark.parametrize(
    "verify",
    [
        'echo "$SUM  a.sh" | sha256sum -c -',
        "shasum -a 256 -c a.sh.sha256",
        "gpg --verify a.sh.asc a.sh",
        "cosign verify-blob --signature a.sh.sig a.sh",
        "gh attestation verify a.sh --repo o/r",
        "minisign -Vm a.sh -P KEY",
    ],
)
def test_any_verification_between_clears_the_download(verify: str) -> None:
    assert _run("curl -fsSLo a.sh https://x/a.sh", verify, "bash a.sh") == []


def test_verification_must_come_before_the_run() -> None:
    findings = _run("curl -fsSLo a.sh https://x/a.sh", "bash a.sh", "sha256sum -c sums.txt")
    assert [f.line for f in findings] == [8]


def test_gh_without_attestation_is_not_verification() -> None:
    assert len(_run("curl -fsSLo a.sh https://x/a.sh", "gh release list", "bash a.sh")) == 1
