"""A loopback stand-in for Google's STS token exchange and IAM Credentials generateAccessToken.

Shapes, as Google documents them:

- ``POST /v1/token`` (https://sts.googleapis.com; ``GoogleIdentityStsV1ExchangeTokenRequest``):
  an RFC 8693 form, no ``Authorization`` header; ``grant_type``
  ``urn:ietf:params:oauth:grant-type:token-exchange``, ``audience`` the workload identity
  provider's full resource name (``//iam.googleapis.com/projects/N/locations/global/
  workloadIdentityPools/P/providers/X``), ``scope``, ``requested_token_type``
  ``urn:ietf:params:oauth:token-type:access_token``, ``subject_token_type``
  ``urn:ietf:params:oauth:token-type:jwt``, ``subject_token``. Answer: ``access_token``,
  ``issued_token_type``, ``token_type`` ``Bearer``, ``expires_in``; errors are OAuth-shaped,
  ``{"error": "invalid_grant", "error_description": "..."}``.
- ``POST /v1/projects/-/serviceAccounts/SA:generateAccessToken`` (https://iamcredentials.
  googleapis.com): ``Authorization: Bearer <federated token>``, JSON ``{"scope": [...],
  "lifetime": "600s"}`` (``delegates`` optional). Answer ``{"accessToken", "expireTime"}`` with
  an RFC 3339 time; errors are ``{"error": {"code", "message", "status"}}``.

The stand also checks the subject token's ``aud`` claim against the audience the provider is
configured to accept, as the workload identity provider would.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.integration.creds.http_stand import Answer, Request, Stand, Violation

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
FORM_FIELDS = {
    "grant_type",
    "audience",
    "scope",
    "requested_token_type",
    "subject_token_type",
    "subject_token",
}
PROVIDER = "projects/123456789/locations/global/workloadIdentityPools/github/providers/octo"
GENERATE = re.compile(r"^/v1/projects/-/serviceAccounts/([^/:]+):generateAccessToken$")


def claims_of(jwt: str) -> dict[str, Any]:
    """A JWT's payload, unverified (the stand trusts the issuer; it checks the shape)."""
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


def google_error(code: int, status: str, message: str) -> Answer:
    """A Google API error answer."""
    return code, {"error": {"code": code, "message": message, "status": status}}


class GoogleStand(Stand):
    """Google STS plus IAM Credentials on one loopback port; see the module docstring."""

    def __init__(
        self, *, service_account: str = "deployer@octo-project.iam.gserviceaccount.com"
    ) -> None:
        super().__init__()
        self.provider = PROVIDER
        self.audience = f"https://iam.googleapis.com/{PROVIDER}"
        self.service_accounts = {service_account}
        self.federated: list[str] = []
        self.access_tokens: list[str] = []
        self.expires_in = 3599

    def __enter__(self) -> GoogleStand:
        super().__enter__()
        return self

    def route(self, path: str) -> str:
        """``token`` or ``generateAccessToken``."""
        if path == "/v1/token":
            return "token"
        return "generateAccessToken" if GENERATE.match(path) else path

    def secrets(self) -> set[str]:
        """Every token the stand issued."""
        return {*self.federated, *self.access_tokens}

    def handle(self, request: Request) -> Answer:
        """Validate and answer."""
        route = self.route(request.path)
        if route == "token":
            return self._token(request)
        if route == "generateAccessToken":
            return self._generate(request)
        return google_error(404, "NOT_FOUND", f"no route {request.path}")

    def violation_body(self, reason: str) -> Any:
        """OAuth's shape for a malformed request."""
        return {"error": "invalid_request", "error_description": reason}

    def _token(self, request: Request) -> Answer:
        if request.header("Authorization") is not None:
            raise Violation("the token exchange must not send an Authorization header")
        if not (request.header("Content-Type") or "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise Violation(f"content type {request.header('Content-Type')!r} is not a form")
        pairs = parse_qsl(request.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        form = dict(pairs)
        if len(pairs) != len(form) or set(form) != FORM_FIELDS:
            raise Violation(
                f"form fields {sorted(k for k, _ in pairs)} are not {sorted(FORM_FIELDS)}"
            )
        expected = {
            "grant_type": GRANT,
            "requested_token_type": ACCESS,
            "subject_token_type": JWT,
            "scope": SCOPE,
        }
        for name, value in expected.items():
            if form[name] != value:
                raise Violation(f"{name} is {form[name]!r}, not {value!r}")
        if form["audience"] != f"//iam.googleapis.com/{self.provider}":
            return 400, {
                "error": "invalid_target",
                "error_description": 'The target service indicated by the "audience" '
                "parameters is invalid. This might either be because the pool or provider is "
                "disabled or deleted or because it doesn't exist.",
            }
        claims = claims_of(form["subject_token"])
        if claims.get("aud") != self.audience:
            return 400, {
                "error": "invalid_grant",
                "error_description": f"The audience in ID Token [{claims.get('aud')}] does not "
                "match the expected audience.",
            }
        token = "ya29.d." + secrets.token_urlsafe(48)
        self.federated.append(token)
        return 200, {
            "access_token": token,
            "issued_token_type": ACCESS,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }

    def _generate(self, request: Request) -> Answer:
        match = GENERATE.match(request.path)
        account = unquote(match.group(1)) if match else ""
        scheme, _, presented = (request.header("Authorization") or "").partition(" ")
        if scheme != "Bearer" or presented not in self.federated:
            return google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        if not (request.header("Content-Type") or "").startswith("application/json"):
            raise Violation(f"content type {request.header('Content-Type')!r} is not JSON")
        body = request.json()
        if not isinstance(body, dict) or not set(body) <= {"scope", "lifetime", "delegates"}:
            raise Violation(f"body {body!r} has unknown fields")
        scope, lifetime = body.get("scope"), body.get("lifetime")
        if not isinstance(scope, list) or not scope or not all(isinstance(s, str) for s in scope):
            raise Violation("scope must be a non-empty list of strings")
        if not isinstance(lifetime, str) or not re.fullmatch(r"[0-9]+s", lifetime):
            raise Violation(f"lifetime {lifetime!r} is not a duration like 600s")
        if int(lifetime[:-1]) > 3600:
            return google_error(400, "INVALID_ARGUMENT", "lifetime must be at most 3600s")
        if account not in self.service_accounts:
            return google_error(
                404, "NOT_FOUND", f"Not found; Gaia id not found for email {account}"
            )
        token = "ya29.c." + secrets.token_urlsafe(64)
        self.access_tokens.append(token)
        expiry = datetime.now(UTC) + timedelta(seconds=int(lifetime[:-1]))
        return 200, {
            "accessToken": token,
            "expireTime": expiry.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expiry.microsecond:06d}123Z",
        }
