"""Replay recorded GitHub REST API exchanges on 127.0.0.1, and log every request made.

A scenario is a folder of JSON files under tests/fixtures/github_api/<scenario>/, written by
make_fixtures.py there. Each ``<name>.json`` holds one exchange::

    {"request": {"method": "GET", "path": "/repos/o/r/git/ref/tags/v4", "query": {}},
     "response": {"status": 200, "headers": {...}, "body": {...}}}

and an optional ``default.json`` holds only a ``response`` for every request no exchange
matches (a rate-limited API, an API that is down). Requests match on method, path (as sent on
the wire, percent-encoding included) and the query as a set of pairs. Without a default, an
unknown request answers 404 with GitHub's error body, and is logged as unmatched so that tests
can prove no call went unrecorded. A recorded request may carry a ``body``: the JSON the client
must send; any other body answers 422 naming both and is logged as unmatched, so a write the
client did not intend never passes for one it did. A recorded response's string body under a
non-JSON Content-Type is sent as is.
Recorded bodies and headers name https://api.github.com, as GitHub's do; the server rewrites
that origin to its own, as a GitHub Enterprise host would.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github_api"
RECORDED_ORIGIN = "https://api.github.com"
NOT_FOUND = {
    "message": "Not Found",
    "documentation_url": "https://docs.github.com/rest",
    "status": "404",
}

Query = frozenset[tuple[str, str]]


@dataclass(frozen=True)
class Response:
    """A recorded answer."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Call:
    """One request the server received; ``matched`` is False when nothing was recorded for it."""

    method: str
    path: str
    query: Query
    authorization: str | None
    user_agent: str | None
    matched: bool
    body: Any = None

    @property
    def route(self) -> str:
        """`METHOD /path?sorted=query`, for compact assertions."""
        query = "&".join(f"{k}={v}" for k, v in sorted(self.query))
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Scenario:
    """Recorded exchanges by (method, path, query), and the answer to anything else."""

    name: str
    exchanges: dict[tuple[str, str, Query], Response]
    default: Response | None
    bodies: dict[tuple[str, str, Query], Any] = field(default_factory=dict)

    @classmethod
    def load(cls, name: str, root: Path = FIXTURES) -> Scenario:
        """Read ``root/name/*.json``."""
        folder = root / name
        if not folder.is_dir():
            raise FileNotFoundError(f"no recorded GitHub API scenario {folder}")
        exchanges: dict[tuple[str, str, Query], Response] = {}
        bodies: dict[tuple[str, str, Query], Any] = {}
        default: Response | None = None
        for file in sorted(folder.glob("*.json")):
            data = json.loads(file.read_text(encoding="utf-8"))
            response = Response(
                int(data["response"]["status"]),
                dict(data["response"]["headers"]),
                data["response"]["body"],
            )
            if file.name == "default.json":
                default = response
                continue
            request = data["request"]
            query = frozenset((str(k), str(v)) for k, v in request["query"].items())
            key = (request["method"], request["path"], query)
            if key in exchanges:
                raise ValueError(f"{file}: a second recording of {key}")
            exchanges[key] = response
            if "body" in request:
                bodies[key] = request["body"]
        return cls(name, exchanges, default, bodies)


class ReplayServer:
    """A ThreadingHTTPServer on 127.0.0.1:<free port> answering from a Scenario."""

    def __init__(self, scenario: Scenario, prefix: str = "") -> None:
        self.scenario = scenario
        self.prefix = prefix.rstrip("/")
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """What to pass as --github-api-url."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    @property
    def routes(self) -> list[str]:
        """Every request received, in order, as `METHOD /path?query`."""
        with self._lock:
            return [call.route for call in self.calls]

    @property
    def unmatched(self) -> list[str]:
        """Requests no recording answered."""
        with self._lock:
            return [call.route for call in self.calls if not call.matched]

    def start(self) -> ReplayServer:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes = b""
    ) -> Response:
        """Look the request up, check its body when one is recorded, log it, and answer."""
        parts = urlsplit(raw_path)
        path = parts.path
        if self.prefix and path.startswith(self.prefix + "/"):
            path = path[len(self.prefix) :]
        query = frozenset(parse_qsl(parts.query, keep_blank_values=True))
        key = (method, path, query)
        received = _parsed(body)
        response = self.scenario.exchanges.get(key)
        matched = response is not None
        if response is None:
            response = self.scenario.default or Response(404, _json_headers(), NOT_FOUND)
            matched = self.scenario.default is not None
        elif key in self.scenario.bodies and received != self.scenario.bodies[key]:
            expected = self.scenario.bodies[key]
            response = Response(422, _json_headers(), _body_mismatch(expected, received))
            matched = False
        call = Call(
            method,
            path,
            query,
            headers.get("authorization"),
            headers.get("user-agent"),
            matched,
            received,
        )
        with self._lock:
            self.calls.append(call)
        return response


def _json_headers() -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8"}


def _parsed(body: bytes) -> Any:
    """A request body as JSON when it is JSON, else its text; None when there is none."""
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _body_mismatch(expected: Any, received: Any) -> dict[str, Any]:
    return {
        "message": "Validation Failed: the request body is not the recorded one",
        "expected": expected,
        "received": received,
        "status": "422",
    }


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls
        timeout = 5

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            response = server.answer(self.command, self.path, headers, body)
            origin = server.base_url
            raw = isinstance(response.body, str) and "json" not in str(
                response.headers.get("Content-Type", "")
            )
            text = response.body if raw else json.dumps(response.body)
            payload = str(text).replace(RECORDED_ORIGIN, origin).encode("utf-8")
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value.replace(RECORDED_ORIGIN, origin))
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = _reply  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep test output quiet."""

    return Handler


@contextmanager
def replay(scenario: str, prefix: str = "") -> Iterator[ReplayServer]:
    """Serve a recorded scenario for the duration of the block."""
    server = ReplayServer(Scenario.load(scenario), prefix).start()
    try:
        yield server
    finally:
        server.stop()


StartServer = Callable[..., ReplayServer]


def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused): an API that is down."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
