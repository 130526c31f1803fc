"""moto's server on 127.0.0.1 as the demo's cloud: the IAM roles mint needs, a ledger bucket.

:class:`Cloud` starts moto's ``ThreadedMotoServer`` on a free loopback port and, through boto3
with fake keys, creates

- a *gate* role trusting GitHub's OIDC provider for ``sts:AssumeRoleWithWebIdentity``;
- a *target* role trusting only the gate role for ``sts:AssumeRole``, ``sts:TagSession`` and
  ``sts:SetSourceIdentity`` (the second hop, which carries the session tags);
- a versioned S3 bucket with Object Lock enabled, for the S3 ledger.

moto keeps its state in the process, not in the server: names carry a random suffix so that a
second demo in the same process (the tests) never meets the first one's roles or bucket.
moto is a development dependency: :func:`moto_missing` says whether it can be imported.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
"""moto's default account: every role and session lives there."""
FAKE_KEYS = {"aws_access_key_id": "envsecops-demo", "aws_secret_access_key": "envsecops-demo"}
"""moto accepts any keys; these are the demo's own, never anyone's real ones."""
OIDC_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
MOTO_FIX = "python3 tools/dev.py demo  (sets up the dev venv, which has moto[server], and runs it)"


def moto_missing() -> str | None:
    """None when moto's server can be imported, else why not (moto is a dev dependency)."""
    try:
        import moto.server  # noqa: F401 - only whether it imports
    except ImportError as exc:
        return f"{exc.name or 'moto'} cannot be imported ({exc})"
    return None


def _trust(principal: dict[str, str], actions: list[str] | str) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": actions}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


class Cloud:
    """moto's server on loopback with a gate role, a target role and an Object-Lock bucket."""

    def __init__(self, *, suffix: str | None = None, bucket: bool = True) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.suffix = suffix if suffix is not None else secrets.token_hex(4)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        try:
            host, port = self._server.get_host_and_port()
            self.endpoint = f"http://{host}:{port}"
            self._create_roles()
            self.bucket = f"envsecops-demo-ledger-{self.suffix}" if bucket else ""
            if bucket:
                self.client("s3").create_bucket(Bucket=self.bucket, ObjectLockEnabledForBucket=True)
        except BaseException:
            self._server.stop()
            raise

    def _create_roles(self) -> None:
        iam = self.client("iam")
        gate = iam.create_role(
            RoleName=f"envsecops-gate-{self.suffix}" if self.suffix else "envsecops-gate",
            AssumeRolePolicyDocument=_trust(
                {"Federated": OIDC_PROVIDER}, "sts:AssumeRoleWithWebIdentity"
            ),
        )
        self.gate_arn: str = gate["Role"]["Arn"]
        target = iam.create_role(
            RoleName=f"deploy-{self.suffix}" if self.suffix else "deploy",
            AssumeRolePolicyDocument=_trust(
                {"AWS": self.gate_arn},
                ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            ),
            MaxSessionDuration=3600,
        )
        self.target_arn: str = target["Role"]["Arn"]
        self.target_name: str = target["Role"]["RoleName"]

    def client(self, service: str, **keys: str) -> Any:
        """A fresh boto3 client on moto (a new session); the demo's fake keys unless given."""
        import boto3

        session = boto3.session.Session()
        return session.client(
            service, region_name=REGION, endpoint_url=self.endpoint, **(keys or FAKE_KEYS)
        )

    def sts(self, **keys: str) -> Any:
        """A fresh STS client on moto."""
        return self.client("sts", **keys)

    def sessions_issued(self) -> int:
        """How many sessions moto's STS has issued in its account so far (both hops count).

        Read from moto's in-process state: the server shares the process, so this sees every
        ``AssumeRole*`` call any client made to it.
        """
        from moto.sts.models import sts_backends

        return len(sts_backends[ACCOUNT]["global"].assumed_roles)

    def policy_section(self, *, check_account: bool = True) -> str:
        """The policy's `credentials:` section for these roles; with ``check_account`` the
        provider also proves the minted session (GetCallerIdentity) is in moto's account."""
        accounts = f'      allowed-account-ids: "{ACCOUNT}"\n' if check_account else ""
        return (
            "credentials:\n"
            "  max-lifetime: 15m\n"
            "  providers:\n"
            "    aws:\n"
            f"      gate-role-arn: {self.gate_arn}\n"
            f"      role-arn: {self.target_arn}\n"
            f"      region: {REGION}\n"
            f"{accounts}"
        )

    def ledger_section(self, ledger_file: str) -> str:
        """The policy's `ledger:` section: a file ledger and this bucket as the S3 ledger."""
        return (
            "ledger:\n"
            f"  file: {ledger_file}\n"
            "  s3:\n"
            f"    bucket: {self.bucket}\n"
            "    prefix: envsecops/\n"
            f"    region: {REGION}\n"
            "    retention-days: 1\n"
            f"    endpoint-url: {self.endpoint}\n"
        )

    def stop(self) -> None:
        """Stop moto's server (its in-process state stays until the process ends)."""
        self._server.stop()
