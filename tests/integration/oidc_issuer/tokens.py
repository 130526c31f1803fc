"""Mint JWTs by hand (not with PyJWT, the library under test): RS256, HS256, unsigned, any header.

Tokens are GitHub-shaped (every custom claim a string, ``nbf = iat - 600``, ``exp = iat + 300``,
as in GitHub's documented example token), and deliberately hostile ones are as easy to make as
good ones, so the validator's tests cover every attack with the same few lines.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

NOT_BEFORE_SKEW = 600
LIFETIME = 300
DEFAULT_SHA = "c040cae0f0dc81641728557b80f09cfa23b83fe5"

Signer = Callable[[bytes], bytes]


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWS uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair with its key id."""

    kid: str
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, str]:
        """The public key as GitHub publishes it (kty, kid, use, alg, n, e)."""
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": _uint(numbers.n),
            "e": _uint(numbers.e),
        }

    def public_pem(self) -> bytes:
        """The public key as PEM (what an HS256 key-confusion attack signs with)."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def rs256(self) -> Signer:
        """A signer producing RS256 signatures with this key."""
        return lambda data: self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())


@cache
def signing_key(kid: str, bits: int = 2048) -> SigningKey:
    """A key pair per (kid, size), generated once per test session."""
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=bits))


def hs256(secret: bytes) -> Signer:
    """A signer producing HS256 MACs with ``secret``."""
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def unsigned(_data: bytes) -> bytes:
    """The empty signature of an ``alg: none`` token."""
    return b""


def encode(header: Mapping[str, Any], payload: Mapping[str, Any], signer: Signer) -> str:
    """A compact JWS of ``header`` and ``payload`` signed by ``signer``."""
    head = b64url(json.dumps(header, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{b64url(signer(signing_input))}"


def github_claims(
    issuer: str,
    audience: str,
    *,
    owner: str = "octo-org",
    repo: str = "octo-repo",
    immutable: bool = False,
    now: int | None = None,
) -> dict[str, Any]:
    """Claims shaped like a github.com Actions token for a push to main."""
    iat = int(time.time()) if now is None else now
    repo_part = f"{owner}@65/{repo}@74" if immutable else f"{owner}/{repo}"
    workflow = f"{owner}/{repo}/.github/workflows/deploy.yml@refs/heads/main"
    return {
        "jti": f"jti-{iat}",
        "sub": f"repo:{repo_part}:ref:refs/heads/main",
        "aud": audience,
        "ref": "refs/heads/main",
        "sha": DEFAULT_SHA,
        "repository": f"{owner}/{repo}",
        "repository_owner": owner,
        "repository_owner_id": "65",
        "repository_visibility": "private",
        "repository_id": "74",
        "run_id": "22259804324",
        "run_number": "42",
        "run_attempt": "2",
        "runner_environment": "github-hosted",
        "actor": "octocat",
        "actor_id": "12",
        "workflow": "deploy",
        "workflow_ref": workflow,
        "workflow_sha": DEFAULT_SHA,
        "job_workflow_ref": workflow,
        "job_workflow_sha": DEFAULT_SHA,
        "head_ref": "",
        "base_ref": "",
        "event_name": "push",
        "ref_type": "branch",
        "ref_protected": "true",
        "iss": issuer,
        "nbf": iat - NOT_BEFORE_SKEW,
        "exp": iat + LIFETIME,
        "iat": iat,
    }
