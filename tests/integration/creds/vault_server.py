"""A loopback stand-in for Vault's JWT auth method login and token self-revocation.

Shapes, as Vault documents them (JWT/OIDC auth method, "Via the API"; token auth method):

- ``POST /v1/auth/<mount>/login`` with JSON ``{"role": ..., "jwt": ...}`` (mount ``jwt`` by
  default); the answer's ``auth`` holds ``client_token``, ``accessor``, ``policies``,
  ``metadata``, ``lease_duration`` and ``renewable``; errors are ``{"errors": ["..."]}``
  (400 for a token the role rejects or an unknown role, 403 permission denied).
- ``POST /v1/auth/token/revoke-self`` with ``X-Vault-Token``: ``204`` with an empty body.

The stand also insists on ``X-Vault-Request: true`` (Vault's CLI and agent send it), a JSON
content type, ``X-Vault-Namespace`` when a namespace is configured, and checks the JWT's ``aud``
against the role's bound audience, as the real role would.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tests.integration.creds.gcp_server import claims_of
from tests.integration.creds.http_stand import Answer, Request, Stand, Violation


class VaultStand(Stand):
    """Vault's JWT login and revoke-self on a loopback port; see the module docstring."""

    def __init__(self, *, role: str = "deploy", mount: str = "jwt", ttl: int = 900) -> None:
        super().__init__()
        self.role = role
        self.mount = mount
        self.ttl = ttl
        self.namespace: str | None = None
        self.bound_audience = ""  # set once the URL is known (the provider's default audience)
        self.issued: list[str] = []
        self.revoked: list[str] = []

    def __enter__(self) -> VaultStand:
        super().__enter__()
        self.bound_audience = self.url
        return self

    def route(self, path: str) -> str:
        """``login`` (any mount), ``revoke`` or the path."""
        if path.startswith("/v1/auth/") and path.endswith("/login"):
            return "login"
        return "revoke" if path == "/v1/auth/token/revoke-self" else path

    def violation_body(self, reason: str) -> Any:
        """Vault's error shape."""
        return {"errors": [reason]}

    def handle(self, request: Request) -> Answer:
        """Validate and answer."""
        route = self.route(request.path)
        if request.header("X-Vault-Request") != "true":
            raise Violation("missing X-Vault-Request: true")
        if request.header("X-Vault-Namespace") != self.namespace:
            raise Violation(f"namespace header {request.header('X-Vault-Namespace')!r}")
        if route == "login":
            return self._login(request)
        if route == "revoke":
            token = request.header("X-Vault-Token")
            if token not in self.issued or token in self.revoked:
                return 403, {"errors": ["permission denied"]}
            self.revoked.append(token)
            return 204, None
        return 404, {"errors": [f"no handler for route {request.path!r}"]}

    def _login(self, request: Request) -> Answer:
        if request.path != f"/v1/auth/{self.mount}/login":
            return 404, {"errors": [f"no handler for route {request.path!r}"]}
        if not (request.header("Content-Type") or "").startswith("application/json"):
            raise Violation(f"content type {request.header('Content-Type')!r} is not JSON")
        body = request.json()
        if not isinstance(body, dict) or set(body) != {"role", "jwt"}:
            raise Violation(f"login body fields {sorted(body) if isinstance(body, dict) else body}")
        if not all(isinstance(v, str) for v in body.values()):
            raise Violation("role and jwt must be strings")
        if body["role"] != self.role:
            return 400, {"errors": [f'role "{body["role"]}" could not be found']}
        if claims_of(body["jwt"]).get("aud") != self.bound_audience:
            return 400, {
                "errors": [
                    "error validating token: invalid audience (aud) claim: audience claim "
                    "does not match any expected audience"
                ]
            }
        token = "hvs." + secrets.token_urlsafe(64)
        self.issued.append(token)
        return 200, {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": None,
            "wrap_info": None,
            "warnings": None,
            "auth": {
                "client_token": token,
                "accessor": secrets.token_urlsafe(18),
                "policies": ["default", "deploy"],
                "token_policies": ["default", "deploy"],
                "metadata": {"role": self.role},
                "lease_duration": self.ttl,
                "renewable": True,
                "entity_id": str(uuid.uuid4()),
                "token_type": "service",
                "orphan": True,
            },
        }
