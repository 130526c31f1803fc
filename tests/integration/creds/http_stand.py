"""A small loopback JSON service for stand-ins: routes, scripted failures, a request log.

:class:`Stand` serves POSTs on 127.0.0.1 from a daemon thread. Subclasses implement
:meth:`Stand.handle` (path, headers, body → status and JSON); tests script failures with
:meth:`Stand.fail` (answered, in order, before the real handling of the matching route) and read
:attr:`Stand.requests`. A request that breaks the documented shape is answered 400 with the
reason, and the reason is kept in :attr:`Stand.violations` so a test can assert there were none.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Answer = tuple[int, Any]


@dataclass(frozen=True)
class Request:
    """One request the stand received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header, case-insensitively."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    def json(self) -> Any:
        """The body as JSON (raises on anything else)."""
        return json.loads(self.body)


class Violation(Exception):
    """The request does not have the documented shape."""


class Stand:
    """Serve JSON on a free loopback port; see the module docstring."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self._failures: dict[str, list[Answer]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL, http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Stand:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def fail(self, route: str, *answers: Answer) -> None:
        """Answer the next requests for ``route`` with ``answers`` (status, JSON), in order."""
        with self._lock:
            self._failures.setdefault(route, []).extend(answers)

    def count(self, route: str) -> int:
        """How many requests reached ``route``."""
        return sum(1 for r in self.requests if self.route(r.path) == route)

    def route(self, path: str) -> str:
        """The route name of a path (subclasses override)."""
        return path

    def handle(self, request: Request) -> Answer:
        """The answer to one well-formed request (subclasses override)."""
        raise NotImplementedError

    def answer(self, request: Request) -> Answer:
        """Log, apply scripted failures, then validate and handle."""
        with self._lock:
            self.requests.append(request)
            queue = self._failures.get(self.route(request.path), [])
            scripted = queue.pop(0) if queue else None
        if scripted is not None:
            return scripted
        try:
            return self.handle(request)
        except Violation as exc:
            with self._lock:
                self.violations.append(str(exc))
            return 400, self.violation_body(str(exc))

    def violation_body(self, reason: str) -> Any:
        """How the service words a malformed request (subclasses override)."""
        return {"error": reason}


def _handler_for(stand: Stand) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.path, dict(self.headers.items()), body)
            status, payload = stand.answer(request)
            data = b"" if payload is None else json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                return

        def do_GET(self) -> None:
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

    return Handler
