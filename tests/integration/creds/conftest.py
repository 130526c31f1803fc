"""Fixtures for the provider tests: moto's STS with a gate and a target role, a GitHub JWT."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from envsecops.creds.aws import AwsProvider
from envsecops.creds.endpoints import AWS_ENDPOINT_ENV
from envsecops.creds.interface import MintRequest
from envsecops.creds.retry import Backoff
from envsecops.policy.model import ProviderSettings
from tests.integration.creds.sts_proxy import StsProxy, every
from tests.integration.fault_proxy import Fault
from tests.integration.moto_s3 import REGION
from tests.integration.oidc_issuer.server import LocalIssuer

ACCOUNT = "123456789012"
DECISION_ID = "dec_" + "5" * 32
ENV_HASH = "sha256:" + "ab12" * 16
POLICY_ID = "octo-policy@sha256:0123456789ab"
OIDC_PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def gate_trust() -> str:
    """The gate role's trust policy: GitHub's OIDC provider, this audience, this repository."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": OIDC_PROVIDER},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                        },
                        "StringLike": {
                            "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"
                        },
                    },
                }
            ],
        }
    )


def target_trust(gate_arn: str) -> str:
    """The target role's trust policy: the gate role may assume it, tag it and set its identity."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": gate_arn},
                    "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                }
            ],
        }
    )


@dataclass
class Stand:
    """moto's endpoint, this test's two roles, a token, and the sleeps the backoff asked for."""

    endpoint: str
    gate_arn: str
    target_arn: str
    token: str
    sleeps: list[float] = field(default_factory=list)

    def settings(
        self, extra: Mapping[str, str] | None = None, *, gate: bool = True
    ) -> ProviderSettings:
        """aws provider settings for these roles (``extra`` adds or overrides)."""
        values = {"region": REGION, "role-arn": self.target_arn}
        if gate:
            values["gate-role-arn"] = self.gate_arn
        values.update(extra or {})
        return ProviderSettings("aws", tuple(sorted(values.items())))

    def request(self, settings: ProviderSettings | None = None, **changes: Any) -> MintRequest:
        """A mint request for the stand's decision, with ``changes`` applied."""
        fields: dict[str, Any] = {
            "decision_id": DECISION_ID,
            "env_hash": ENV_HASH,
            "policy_id": POLICY_ID,
            "run_id": "22259804324",
            "run_attempt": "2",
            "settings": settings or self.settings(),
        }
        fields.update(changes)
        return MintRequest(**fields)

    def provider(
        self, endpoint: str | None = None, *, attempts: int = 4, read_timeout: float = 5.0
    ) -> AwsProvider:
        """An AwsProvider aimed at ``endpoint`` (moto by default) whose sleeps are recorded."""
        return AwsProvider(
            environ={AWS_ENDPOINT_ENV: endpoint or self.endpoint},
            backoff=Backoff(attempts=attempts, base=0.2, cap=1.0, sleep=self.sleeps.append),
            connect_timeout=1.0,
            read_timeout=read_timeout,
        )

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        """A plain boto3 client on moto (fake ambient keys unless ``credentials``)."""
        import boto3

        keys = {}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": credentials["AWS_SECRET_ACCESS_KEY"],
                "aws_session_token": credentials["AWS_SESSION_TOKEN"],
            }
        return boto3.session.Session().client(
            service, region_name=REGION, endpoint_url=self.endpoint, **keys
        )


@pytest.fixture
def stand(moto_endpoint: str, aws_env: None, oidc_issuer: LocalIssuer) -> Stand:
    """A gate and a target role (fresh names) in moto's IAM, and an OIDC token for STS."""
    import boto3

    suffix = uuid.uuid4().hex[:10]
    iam = boto3.session.Session().client("iam", region_name=REGION, endpoint_url=moto_endpoint)
    gate = iam.create_role(
        RoleName=f"envsecops-gate-{suffix}", AssumeRolePolicyDocument=gate_trust()
    )
    gate_arn = gate["Role"]["Arn"]
    target = iam.create_role(
        RoleName=f"deploy-{suffix}",
        AssumeRolePolicyDocument=target_trust(gate_arn),
        MaxSessionDuration=3600,
    )
    token = oidc_issuer.mint(oidc_issuer.claims("sts.amazonaws.com"))
    return Stand(moto_endpoint, gate_arn, target["Role"]["Arn"], token)


@pytest.fixture
def proxy(stand: Stand) -> Iterator[StsProxy]:
    """An STS-aware fault proxy in front of moto; faults and errors are queued by each test."""
    running = StsProxy(stand.endpoint, [], match=every, hold=1.5)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def faults(proxy: StsProxy, *queued: Fault) -> None:
    """Queue transport faults on the proxy (consumed by the next requests, in order)."""
    proxy.faults.extend(queued)
