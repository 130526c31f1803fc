"""The loopback stand bench/mint.py times against: moto's STS and IAM, an OIDC issuer, a tiny root.

Built here from the runtime's own libraries (moto, boto3, PyJWT, cryptography) rather than
imported from tests/, which benchmarks must not depend on:

- :class:`Issuer` — a GitHub-shaped OIDC issuer on 127.0.0.1: discovery document, JWKS, and the
  runner's token endpoint (``GET /token?audience=…`` with the request bearer → ``{"value": JWT}``),
  RS256 tokens whose claims are strings, ``nbf = iat - 600`` and ``exp = iat + 300``;
- :class:`Stand` — moto's ``ThreadedMotoServer`` on 127.0.0.1 with a *gate* role (trusting the
  OIDC provider) and a *target* role (trusting the gate, allowing ``sts:TagSession`` and
  ``sts:SetSourceIdentity``) created through boto3 IAM;
- :func:`tiny_root` — a runner tree with an os-release and two executables, for ``--root``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

REGION = "us-east-1"
ACCOUNT = "123456789012"
REPOSITORY = "octo-org/octo-repo"
RUN_ID = "22259804324"
RUN_ATTEMPT = "1"
JOB = "deploy"
SHA = "c040cae0f0dc81641728557b80f09cfa23b83fe5"
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}  # moto takes any


def github_claims(issuer: str, audience: str) -> dict[str, Any]:
    """Claims shaped like a github.com Actions token for a push to main (all strings)."""
    now = int(time.time())
    workflow = f"{REPOSITORY}/.github/workflows/deploy.yml@refs/heads/main"
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
        "workflow_ref": workflow,
        "workflow_sha": SHA,
        "job_workflow_ref": workflow,
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

        self.kid = "bench-key-1"
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private.public_key()))
        self._jwk = {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}
        self.request_token = secrets.token_urlsafe(24)
        self.served = 0
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
        if path == "/token" and auth == f"bearer {self.request_token}":
            self.served += 1
            return 200, {"value": self.token(query.get("audience", "https://github.com/octo-org"))}
        return 404, {"message": "Not Found"}

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


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


def _trust(principal: dict[str, str], actions: list[str] | str) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": actions}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class Stand:
    """moto's server on loopback with a gate role and a target role."""

    def __init__(self) -> None:
        import boto3
        from moto.server import ThreadedMotoServer

        os.environ.update({**FAKE_KEYS, "AWS_EC2_METADATA_DISABLED": "true"})
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        iam = boto3.session.Session().client("iam", region_name=REGION, endpoint_url=self.endpoint)
        provider = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        gate = iam.create_role(
            RoleName="envsecops-gate",
            AssumeRolePolicyDocument=_trust(
                {"Federated": provider}, "sts:AssumeRoleWithWebIdentity"
            ),
        )
        self.gate_arn: str = gate["Role"]["Arn"]
        target = iam.create_role(
            RoleName="deploy",
            AssumeRolePolicyDocument=_trust(
                {"AWS": self.gate_arn},
                ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            ),
            MaxSessionDuration=3600,
        )
        self.target_arn: str = target["Role"]["Arn"]

    def sts(self, **keys: str) -> Any:
        """A fresh plain boto3 STS client on moto (a new session, as a fresh process has)."""
        import boto3

        session = boto3.session.Session()
        return session.client("sts", region_name=REGION, endpoint_url=self.endpoint, **keys)

    def policy_section(self) -> str:
        """The policy's `credentials:` section for these roles."""
        return (
            "credentials:\n"
            "  max-lifetime: 15m\n"
            "  providers:\n"
            "    aws:\n"
            f"      gate-role-arn: {self.gate_arn}\n"
            f"      role-arn: {self.target_arn}\n"
            f"      region: {REGION}\n"
        )

    def stop(self) -> None:
        """Stop moto."""
        self._server.stop()


def tiny_root(root: Path) -> Path:
    """A runner tree for --root: an os-release and two real executables on /usr/bin."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\n', encoding="utf-8")
    (root / "usr/bin").mkdir(parents=True)
    for name in ("true", "echo"):
        found = shutil.which(name, path="/usr/bin:/bin")
        if found is None:
            raise SystemExit(f"`{name}` is needed to build the tiny root")
        shutil.copy2(found, root / "usr/bin" / name)
    (root / "home/runner").mkdir(parents=True)
    return root
