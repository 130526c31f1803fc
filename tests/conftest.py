"""Shared fixtures, and a socket guard: no test may connect beyond loopback."""

from __future__ import annotations

import io
import ipaddress
import os
import re
import socket
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from envsecops.cli.main import main

pytest_plugins = (
    "tests.integration.github_api.fixtures",
    "tests.integration.moto_s3",
    "tests.integration.oidc_issuer.fixtures",
)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
# A skip CI accepts under ENVSECOPS_NO_SKIPS=1: it names a ../shared path that really is absent.
_SHARED_ABSENT = re.compile(r"\.\./shared/(\S+?) (?:is not present|is absent)")


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
        except ValueError:
            return False
    return isinstance(address, (str, bytes))  # AF_UNIX paths are local


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"test tried to reach {address!r}: only loopback is allowed")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_loopback(address):
        raise ConnectionRefusedError(f"test tried to reach {address!r}: only loopback is allowed")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a skipped report gives (`Skipped: ` stripped)."""
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def skip_is_allowed(reason: str, shared: Path = SHARED) -> bool:
    """True only for a skip because a ../shared path is absent, when it really is absent."""
    match = _SHARED_ABSENT.search(reason)
    return match is not None and not (shared / match.group(1)).exists()


class SkipPolicy:
    """Under ENVSECOPS_NO_SKIPS=1: every skip fails the session unless `skip_is_allowed`."""

    def __init__(self, shared: Path = SHARED) -> None:
        self.shared = shared
        self.skipped: list[tuple[str, str]] = []

    def _note(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):
            self.skipped.append((report.nodeid, skip_reason(report)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._note(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._note(report)

    def unexpected(self) -> list[tuple[str, str]]:
        """The skips CI does not accept, with their reasons."""
        return [(n, r) for n, r in self.skipped if not skip_is_allowed(r, self.shared)]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.unexpected() and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        unexpected = self.unexpected()
        if unexpected:
            title = f"{len(unexpected)} skipped test(s): ENVSECOPS_NO_SKIPS=1 fails the run"
            terminalreporter.section(title, red=True)
            for node, reason in unexpected:
                terminalreporter.line(f"SKIPPED {node}: {reason}")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("ENVSECOPS_NO_SKIPS") == "1":
        config.pluginmanager.register(SkipPolicy(), "envsecops-no-skips")


@dataclass
class CliResult:
    """What a CLI invocation returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def run_cli() -> Callable[..., CliResult]:
    """Run `envsecops ARGS...` in-process and capture its output."""

    def _run(*args: str | Path) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in args])
        return CliResult(code, out.getvalue(), err.getvalue())

    return _run


def shared_dir(name: str) -> Path:
    """A folder of ../shared, or skip with the reason when it is absent."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"../shared/{name} is not present beside the checkout (CI provides it)")
    return path
