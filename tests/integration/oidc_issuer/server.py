"""A local OIDC issuer on 127.0.0.1: discovery, JWKS and GitHub's runner token endpoint.

Routes, as GitHub serves them:

- ``GET /.well-known/openid-configuration`` — ``issuer``, ``jwks_uri``, RS256;
- ``GET /.well-known/jwks`` — the published RSA keys;
- ``GET /token?api-version=2.0&audience=AUD`` with ``Authorization: bearer <request token>`` —
  ``{"value": "<JWT>"}`` (what ``ACTIONS_ID_TOKEN_REQUEST_URL`` points at on a runner).

Tests change its behaviour through attributes: ``fail_token`` (statuses answered before a
success), ``token_delay`` (seconds to stall), ``token_body`` (a body to send instead),
``discovery`` / ``jwks`` overrides, and :meth:`rotate` for a key rotation. Every request is
logged in ``calls``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.integration.oidc_issuer.tokens import (
    SigningKey,
    encode,
    github_claims,
    hs256,
    signing_key,
    unsigned,
)

DEFAULT_OWNER = "octo-org"
HOSTILE: dict[str, str] = {
    "alg-none": "alg",
    "hs256-public-key": "alg",
    "missing-exp": "exp",
    "wrong-aud": "aud",
    "aud-list": "aud",
    "wrong-iss": "iss",
    "iss-trailing-slash": "iss",
    "unknown-kid": "kid",
    "foreign-signature": "signature",
    "future-iat": "iat",
    "future-nbf": "nbf",
    "expired": "exp",
    "jku-header": "jku",
    "non-string-claim": "run_attempt",
}
"""Every hostile token :meth:`LocalIssuer.hostile` makes, and the claim a validator must name."""


@dataclass(frozen=True)
class Call:
    """One request the issuer received."""

    path: str
    query: dict[str, str]
    authorization: str | None


class LocalIssuer:
    """A ThreadingHTTPServer on a free loopback port acting as GitHub's OIDC issuer."""

    def __init__(self) -> None:
        self.key: SigningKey = signing_key("issuer-key-1")
        self.published: list[SigningKey] = [self.key]
        self.request_token = secrets.token_urlsafe(24)
        self.calls: list[Call] = []
        self.fail_token: list[int] = []
        self.token_delay = 0.0
        self.token_body: Any = None
        self.discovery: dict[str, Any] | None = None
        self.jwks: Any = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.block_on_close = False
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> LocalIssuer:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalIssuer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # what tests use ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The issuer URL (what ``iss`` says and what validation pins)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environ(self, *, query: str = "?api-version=2.0") -> dict[str, str]:
        """The two variables a runner sets for a job with ``id-token: write``."""
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/token{query}",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def claims(self, audience: str = "sts.amazonaws.com", /, **changes: Any) -> dict[str, Any]:
        """GitHub-shaped claims for this issuer, with ``changes`` applied (None removes one)."""
        immutable = bool(changes.pop("immutable", False))
        claims = github_claims(self.url, audience, owner=DEFAULT_OWNER, immutable=immutable)
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def header(self, key: SigningKey | None = None, **changes: Any) -> dict[str, Any]:
        """A GitHub-shaped JOSE header (typ, alg, x5t, kid) with ``changes`` applied."""
        header: dict[str, Any] = {
            "typ": "JWT",
            "alg": "RS256",
            "x5t": "example-thumbprint",
            "kid": (key or self.key).kid,
        }
        for name, value in changes.items():
            if value is None:
                header.pop(name, None)
            else:
                header[name] = value
        return header

    def mint(self, claims: dict[str, Any] | None = None, *, key: SigningKey | None = None) -> str:
        """An RS256 token signed with ``key`` (default: the current issuer key)."""
        signer = key or self.key
        return encode(self.header(signer), claims or self.claims(), signer.rs256())

    def hostile(self, kind: str, audience: str = "sts.amazonaws.com") -> str:
        """A token crafted to be refused; ``kind`` is a key of :data:`HOSTILE`."""
        now = int(time.time())
        claims = self.claims(audience)
        stranger = signing_key("stranger")
        changes: dict[str, dict[str, Any]] = {
            "missing-exp": {"exp": None},
            "wrong-aud": {"aud": "https://github.com/octo-org"},
            "aud-list": {"aud": [audience, "other"]},
            "wrong-iss": {"iss": "https://token.actions.githubusercontent.com"},
            "iss-trailing-slash": {"iss": self.url + "/"},
            "future-iat": {"iat": now + 600, "nbf": now - 600, "exp": now + 900},
            "future-nbf": {"nbf": now + 600},
            "expired": {"iat": now - 1200, "nbf": now - 1800, "exp": now - 900},
            "non-string-claim": {"run_attempt": 2},
        }
        if kind in changes:
            return self.mint(self.claims(audience, **changes[kind]))
        if kind == "alg-none":
            return encode(self.header(alg="none"), claims, unsigned)
        if kind == "hs256-public-key":
            return encode(self.header(alg="HS256"), claims, hs256(self.key.public_pem()))
        if kind == "unknown-kid":
            return self.mint(claims, key=stranger)
        if kind == "foreign-signature":
            return encode(self.header(), claims, stranger.rs256())
        if kind == "jku-header":
            header = self.header(stranger, jku=f"{self.url}/attacker/jwks")
            return encode(header, claims, stranger.rs256())
        raise KeyError(f"no hostile token kind {kind!r}; known: {', '.join(HOSTILE)}")

    def rotate(self) -> SigningKey:
        """Publish a new key and retire the old one; new tokens are signed with the new key."""
        index = len(self.published) + 1
        self.key = signing_key(f"issuer-key-{index}")
        self.published = [self.key]
        return self.key

    def count(self, path: str) -> int:
        """How many requests reached ``path``."""
        with self._lock:
            return sum(1 for call in self.calls if call.path == path)

    # serving -----------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str], auth: str | None) -> tuple[int, Any]:
        """Status and JSON body for one GET."""
        with self._lock:
            self.calls.append(Call(path, query, auth))
        if path == "/.well-known/openid-configuration":
            return 200, self.discovery or {
                "issuer": self.url,
                "jwks_uri": f"{self.url}/.well-known/jwks",
                "subject_types_supported": ["public", "pairwise"],
                "response_types_supported": ["id_token"],
                "claims_supported": sorted(self.claims()),
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid"],
            }
        if path == "/.well-known/jwks":
            return 200, self.jwks if self.jwks is not None else {
                "keys": [key.jwk() for key in self.published]
            }
        if path == "/token":
            return self._token(query, auth)
        return 404, {"message": "Not Found"}

    def _token(self, query: dict[str, str], auth: str | None) -> tuple[int, Any]:
        if self.token_delay:
            time.sleep(self.token_delay)
        with self._lock:
            failure = self.fail_token.pop(0) if self.fail_token else None
        if failure is not None:
            return failure, {"message": "injected failure"}
        scheme, _, presented = (auth or "").partition(" ")
        if scheme.lower() != "bearer" or presented != self.request_token:
            return 401, {"message": "Unauthorized"}
        if self.token_body is not None:
            return 200, self.token_body
        audience = query.get("audience", f"https://github.com/{DEFAULT_OWNER}")
        return 200, {"value": self.mint(self.claims(audience))}


def _handler_for(issuer: LocalIssuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            status, body = issuer.answer(parts.path, query, self.headers.get("Authorization"))
            payload = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

    return Handler
