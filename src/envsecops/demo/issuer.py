"""A GitHub-shaped OIDC issuer on 127.0.0.1: discovery, JWKS and the runner's token endpoint.

Used by ``envsecops demo`` (and by bench/mint.py) so that the chain can run on loopback with
the token validation it has in a real job: RS256 tokens signed by a key made at start, claims
shaped like a github.com Actions token for a push to main (every claim a string, as GitHub
sends them), ``nbf = iat - 600`` and ``exp = iat + 300``. The token endpoint answers
``GET /token?audience=…`` with the request bearer, as ``ACTIONS_ID_TOKEN_REQUEST_URL`` does,
and counts the tokens it served per audience so that a caller can prove one was never asked
for. Built from the runtime's own libraries (PyJWT, cryptography); nothing from tests/.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REPOSITORY = "octo-org/octo-repo"
RUN_ID = "22259804324"
RUN_ATTEMPT = "1"
JOB = "deploy"
SHA = "c040cae0f0dc81641728557b80f09cfa23b83fe5"
WORKFLOW_REF = f"{REPOSITORY}/.github/workflows/deploy.yml@refs/heads/main"
DEFAULT_AUDIENCE = "https://github.com/octo-org"
"""GitHub's default audience: the repository owner's URL."""


def github_claims(issuer: str, audience: str) -> dict[str, Any]:
    """Claims shaped like a github.com Actions token for a push to main (all strings)."""
    now = int(time.time())
    return {
        "jti": uuid.uuid4().hex,
        "sub": f"repo:{REPOSITORY}:ref:refs/heads/main",
        "aud": audience,
        "ref": "refs/heads/main",
        "sha": SHA,
        "repository": REPOSITORY,
        "repository_owner": REPOSITORY.split("/", maxsplit=1)[0],
        "repository_owner_id": "65",
        "repository_id": "74",
        "repository_visibility": "private",
        "run_id": RUN_ID,
        "run_number": "7",
        "run_attempt": RUN_ATTEMPT,
        "runner_environment": "github-hosted",
        "actor": "octocat",
        "actor_id": "12",
        "workflow": "deploy",
        "workflow_ref": WORKFLOW_REF,
        "workflow_sha": SHA,
        "job_workflow_ref": WORKFLOW_REF,
        "job_workflow_sha": SHA,
        "event_name": "push",
        "ref_type": "branch",
        "ref_protected": "true",
        "iss": issuer,
        "nbf": now - 600,
        "exp": now + 300,
        "iat": now,
    }


class Issuer:
    """A ThreadingHTTPServer on a free loopback port acting as GitHub's OIDC issuer."""

    def __init__(self) -> None:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.kid = "envsecops-demo-key-1"
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private.public_key()))
        self._jwk = {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}
        self.request_token = secrets.token_urlsafe(24)
        self.served: Counter[str] = Counter()
        """Tokens served by the token endpoint, per audience."""
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The issuer URL (``iss``, and what validation pins)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environ(self) -> dict[str, str]:
        """The two variables a runner sets for a job with ``id-token: write``."""
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/token?api-version=2.0",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
        }

    def token(self, audience: str) -> str:
        """A fresh RS256 token for ``audience``."""
        import jwt

        claims = github_claims(self.url, audience)
        headers = {"kid": self.kid, "typ": "JWT"}
        return jwt.encode(claims, self._private, algorithm="RS256", headers=headers)

    def answer(self, path: str, query: dict[str, str], auth: str) -> tuple[int, Any]:
        """Status and JSON body for one GET."""
        if path == "/.well-known/openid-configuration":
            return 200, {
                "issuer": self.url,
                "jwks_uri": f"{self.url}/.well-known/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        if path == "/.well-known/jwks":
            return 200, {"keys": [self._jwk]}
        if path == "/token" and secrets.compare_digest(auth, f"bearer {self.request_token}"):
            audience = query.get("audience", DEFAULT_AUDIENCE)
            with self._lock:
                self.served[audience] += 1
            return 200, {"value": self.token(audience)}
        return 404, {"message": "Not Found"}

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            status, body = issuer.answer(parts.path, query, self.headers.get("Authorization", ""))
            payload = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

    return Handler
