"""A loopback HTTP proxy that breaks the first few matching requests, then passes through.

Put it in front of moto to reproduce what a real network does to a PUT: the request lands
but the answer never comes back (``TIMEOUT_AFTER_FORWARD``, the ambiguous case), it never
lands (``TIMEOUT``), a 500 (``ERROR_500``, or ``ERROR_500_AFTER_FORWARD`` when the write did
land), a 409 conditional-write conflict, or a TCP reset. Faults are consumed in order by the
requests ``match`` selects; everything else is forwarded unchanged. It is bounded: a held
connection is released after ``hold`` seconds, and the proxy stops itself after
``lifetime`` seconds if the test never does.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
)


class Fault(Enum):
    """What to do to one request."""

    TIMEOUT = "timeout"
    TIMEOUT_AFTER_FORWARD = "timeout-after-forward"
    ERROR_500 = "500"
    ERROR_500_AFTER_FORWARD = "500-after-forward"
    CONFLICT_409 = "409"
    RESET = "reset"


ERRORS = {
    500: b"<Error><Code>InternalError</Code><Message>injected by the fault proxy</Message></Error>",
    409: (
        b"<Error><Code>ConditionalRequestConflict</Code>"
        b"<Message>injected by the fault proxy</Message></Error>"
    ),
}


@dataclass(frozen=True)
class Seen:
    """One request the proxy handled, and the fault it met (None: passed through)."""

    method: str
    path: str
    fault: Fault | None


def puts(method: str, path: str) -> bool:
    """The default selector: object PUTs (not bucket configuration calls)."""
    return method == "PUT" and "?" not in path.split("/", 2)[-1]


@dataclass
class FaultProxy:
    """Proxy ``upstream`` (an http URL) on 127.0.0.1; see the module docstring."""

    upstream: str
    faults: list[Fault]
    match: Callable[[str, str], bool] = puts
    hold: float = 2.0
    lifetime: float = 60.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True

    @property
    def url(self) -> str:
        """Where clients should connect."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        """Serve in a background thread."""
        self._thread.start()
        self._timer.start()
        return self

    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Release held connections and stop serving (idempotent)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._timer.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request (consumed), or None to pass it through; logs it."""
        with self._lock:
            fault = self.faults.pop(0) if self.faults and self.match(method, path) else None
            self.seen.append(Seen(method, path, fault))
        return fault

    def wait(self) -> None:
        """Hold a connection silent for ``hold`` seconds, or until the proxy stops."""
        self._stopping.wait(self.hold)

    def forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request upstream and return its full answer."""
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, data
        finally:
            connection.close()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
            """Quiet: the proxy's own log is ``proxy.seen``."""

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in {b"\r\n", b"\n", b""}:
                    pass
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response_only(status)
            length = str(len(body))
            for name, value in headers:
                if name.lower() == "content-length":
                    length = value if self.command == "HEAD" else length
                    continue
                self.send_header(name, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        def _reset(self) -> None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

        def _handle(self) -> None:
            body = self._body()
            fault = proxy.take(self.command, self.path)
            if fault is Fault.RESET:
                self._reset()
                return
            if fault in {Fault.ERROR_500, Fault.CONFLICT_409}:
                status = 500 if fault is Fault.ERROR_500 else 409
                self._answer(status, [("Content-Type", "application/xml")], ERRORS[status])
                return
            if fault is Fault.TIMEOUT:
                proxy.wait()
                self._reset()
                return
            answer = proxy.forward(self.command, self.path, list(self.headers.items()), body)
            if fault is Fault.TIMEOUT_AFTER_FORWARD:
                proxy.wait()
                self._reset()
                return
            if fault is Fault.ERROR_500_AFTER_FORWARD:
                self._answer(500, [("Content-Type", "application/xml")], ERRORS[500])
                return
            self._answer(*answer)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815 - stdlib names

    return Handler
