"""Shared fixtures, and a socket guard: no test may connect beyond loopback."""

from __future__ import annotations

import io
import ipaddress
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


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


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
