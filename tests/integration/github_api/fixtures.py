"""The `github_api` pytest fixture: start replay servers by scenario, with no ambient token.

Loaded for every test by ``pytest_plugins`` in tests/conftest.py.
Ask for it by name; every server it started is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.github_api.replay import ReplayServer, Scenario, StartServer

AMBIENT = ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL")


@pytest.fixture
def github_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[StartServer]:
    """``github_api("actions")`` serves that scenario on 127.0.0.1 and returns the server."""
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    servers: list[ReplayServer] = []

    def start(scenario: str, prefix: str = "") -> ReplayServer:
        server = ReplayServer(Scenario.load(scenario), prefix).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
