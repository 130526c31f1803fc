"""The replay server: matching, GitHub's 404, origin rewriting, the call log, the fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from tests.fixtures.github_api import make_fixtures as generator
from tests.integration.github_api.replay import FIXTURES, ReplayServer, Scenario, StartServer


def test_recorded_fixtures_are_what_the_generator_writes(tmp_path: Path) -> None:
    assert generator.main(["--check"]) == 0
    assert generator.main(["--out", str(tmp_path)]) == 0
    assert generator.main(["--out", str(tmp_path)]) == 0  # regenerating changes nothing
    written = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.glob("*/*.json")}
    recorded = {p.relative_to(FIXTURES): p.read_bytes() for p in FIXTURES.glob("*/*.json")}
    assert written == recorded


def test_recorded_shapes_are_githubs() -> None:
    scenario = Scenario.load("actions")
    ref = scenario.exchanges[("GET", "/repos/actions/setup-python/git/ref/tags/v5", frozenset())]
    assert set(ref.body) == {"ref", "node_id", "url", "object"}
    assert ref.body["object"]["type"] == "tag"
    listing = scenario.exchanges[
        ("GET", "/repos/actions/checkout/tags", frozenset({("per_page", "100")}))
    ]
    assert set(listing.body[0]) == {"name", "commit", "zipball_url", "tarball_url", "node_id"}
    missing = scenario.exchanges[("GET", "/repos/ghost-org/missing-action", frozenset())]
    assert missing.status == 404
    assert missing.body["message"] == "Not Found"
    assert re.fullmatch(r"[0-9a-f]{40}", ref.body["object"]["sha"])


def test_unknown_request_is_githubs_404_and_logged(github_api: StartServer) -> None:
    server = github_api("actions")
    answer = requests.get(f"{server.base_url}/repos/nobody/nothing", timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
    assert server.unmatched == ["GET /repos/nobody/nothing"]


def test_query_order_does_not_matter_and_origin_is_rewritten(github_api: StartServer) -> None:
    server = github_api("actions")
    answer = requests.get(
        f"{server.base_url}/repositories/100004/tags?per_page=100&page=2", timeout=5
    )
    assert answer.status_code == 200
    assert (
        f"<{server.base_url}/repositories/100004/tags?per_page=100&page=1>"
        in (answer.headers["Link"])
    )
    assert "api.github.com" not in answer.text
    assert server.routes == ["GET /repositories/100004/tags?page=2&per_page=100"]
    assert server.unmatched == []


def test_prefix_is_served_like_a_github_enterprise_host(github_api: StartServer) -> None:
    server = github_api("actions", prefix="/api/v3")
    assert server.base_url.endswith("/api/v3")
    answer = requests.get(f"{server.base_url}/repos/actions/checkout", timeout=5)
    assert answer.json()["url"] == f"{server.base_url}/repos/actions/checkout"


def test_default_answers_everything(github_api: StartServer) -> None:
    server = github_api("rate-limited")
    answer = requests.get(f"{server.base_url}/anything", timeout=5)
    assert answer.status_code == 403
    assert answer.headers["X-RateLimit-Remaining"] == "0"
    assert answer.json()["message"].startswith("API rate limit exceeded")
    assert server.unmatched == []


def test_a_scenario_cannot_record_one_request_twice(tmp_path: Path) -> None:
    folder = tmp_path / "twice"
    folder.mkdir()
    item = {
        "request": {"method": "GET", "path": "/x", "query": {"a": "1"}},
        "response": {"status": 200, "headers": {}, "body": {}},
    }
    for name in ("one.json", "two.json"):
        (folder / name).write_text(json.dumps(item), encoding="utf-8")
    with pytest.raises(ValueError, match="a second recording"):
        Scenario.load("twice", root=tmp_path)
    with pytest.raises(FileNotFoundError):
        Scenario.load("absent", root=tmp_path)


def test_server_stops_and_frees_its_port() -> None:
    server = ReplayServer(Scenario.load("server-error")).start()
    url = server.base_url
    assert requests.get(f"{url}/x", timeout=5).status_code == 502
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/x", timeout=5)


def test_a_recorded_request_body_must_be_sent_as_recorded(github_api: StartServer) -> None:
    server = github_api("policy-propose")
    url = f"{server.base_url}/repos/octo-org/payments/git/refs"
    recorded = server.scenario.bodies[("POST", "/repos/octo-org/payments/git/refs", frozenset())]
    wrong = {**recorded, "sha": "0" * 40}
    refused = requests.post(url, json=wrong, timeout=5)
    assert refused.status_code == 422
    assert refused.json()["expected"] == recorded
    assert refused.json()["received"] == wrong
    assert requests.post(url, json=recorded, timeout=5).status_code == 201
    assert requests.post(url, data=b"not json", timeout=5).status_code == 422
    assert server.unmatched == [
        "POST /repos/octo-org/payments/git/refs",
        "POST /repos/octo-org/payments/git/refs",
    ]
    assert [call.body for call in server.calls] == [wrong, recorded, "not json"]
