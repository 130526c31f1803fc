"""Fulcio and Rekor stand-ins: real HTTP servers on 127.0.0.1 backed by a `PrivateInstance`.

Each answers the one request sigstore-python makes of it (`POST /api/v2/signingCert`,
`POST /api/v1/log/entries`) and records what it was sent. A stand-in can also misbehave:
refuse (HTTP 401), echo the caller's credential back in its error, or answer garbage.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.integration.sigstore_stand_in import IDENTITY, PrivateInstance

MODES = ("serve", "reject", "echo", "garbage")

Answer = tuple[int, bytes]


@dataclass
class StandIn:
    """A running stand-in: its URL, how it answers, and the requests it saw."""

    url: str
    mode: str
    requests: list[dict[str, Any]] = field(default_factory=list)


def _misbehave(mode: str, headers: Any) -> Answer | None:
    if mode == "reject":
        return 401, b'{"code":16,"message":"error processing the identity token"}'
    if mode == "echo":  # a hostile or buggy service repeating the credential
        return 400, json.dumps({"message": f"bad token {headers.get('Authorization')}"}).encode()
    if mode == "garbage":
        return 200, b"<html>not a sigstore service</html>"
    return None


@contextmanager
def _serve(mode: str, answer: Callable[[dict[str, Any]], Answer]) -> Iterator[StandIn]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    state = StandIn("", mode)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(
                {"path": self.path, "authorization": self.headers.get("Authorization", "")}
            )
            status, data = _misbehave(state.mode, self.headers) or answer(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def fulcio_stand_in(
    instance: PrivateInstance, mode: str = "serve", *, identity: str = IDENTITY
) -> Iterator[StandIn]:
    """Fulcio: a certificate for the CSR's key and ``identity``, with an embedded SCT."""

    def answer(body: dict[str, Any]) -> Answer:
        csr = x509.load_pem_x509_csr(base64.b64decode(body["certificateSigningRequest"]))
        public = csr.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            return 400, b'{"message":"unsupported key"}'
        leaf = instance.issue(public, identity)
        chain = [c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, instance.ca)]
        return 201, json.dumps(
            {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}
        ).encode()

    with _serve(mode, answer) as state:
        yield state


@contextmanager
def rekor_stand_in(instance: PrivateInstance, mode: str = "serve") -> Iterator[StandIn]:
    """Rekor v1: log the proposed DSSE entry in a fresh one-leaf log and prove it."""

    def answer(body: dict[str, Any]) -> Answer:
        return 201, json.dumps(instance.log_entry(body)).encode()

    with _serve(mode, answer) as state:
        yield state
