"""The AWS provider's settings and its STS clients, isolated from whatever an earlier step set.

Any earlier step of the job can write ``$GITHUB_ENV``, so the STS clients trust nothing
ambient: the endpoint is always explicit (``https://sts.<region>.amazonaws.com``, or the
loopback test override), configured endpoint URLs, profiles, config and credential files are
ignored, TLS is verified against botocore's own CA bundle (not ``AWS_CA_BUNDLE``), proxies from
the environment are ignored unless the caller opts in, and botocore never retries on its own
(:mod:`envsecops.creds.retry` owns retries). The first hop is unsigned; the later calls are
signed only with credentials this module is handed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from envsecops.creds.aws_names import SERVICE
from envsecops.creds.interface import MintRequestInvalid
from envsecops.policy.model import ProviderSettings

DEFAULT_AUDIENCE = "sts.amazonaws.com"
ROLE_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/[\w+=,.@/-]{1,512}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
ACCOUNT = re.compile(r"^[0-9]{12}$")
SDK_LOGGERS = ("boto3", "botocore", "urllib3", "s3transfer")
KNOWN_SETTINGS = frozenset(
    {"role-arn", "gate-role-arn", "region", "audience", "allowed-account-ids"}
)


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def sts_endpoint(region: str) -> str:
    """STS's regional endpoint (never the global one: a regional call stays in the region)."""
    suffix = "amazonaws.com.cn" if partition_of(region) == "aws-cn" else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"


def _invalid(message: str, fix: str, target: str) -> MintRequestInvalid:
    return MintRequestInvalid(message, fix=fix, service=SERVICE, call="configure", target=target)


def _role(value: str | None, name: str, region: str) -> str | None:
    if value is None:
        return None
    match = ROLE_ARN.match(value)
    if not match:
        raise _invalid(
            f"`credentials.providers.aws.{name}` {value!r} is not an IAM role ARN",
            "use arn:aws:iam::ACCOUNT:role/NAME (12-digit account id)",
            value,
        )
    if match.group(1) != partition_of(region):
        raise _invalid(
            f"`{name}` {value!r} is in partition {match.group(1)}, region {region} is not",
            "use a role and a region of the same partition (aws, aws-cn or aws-us-gov)",
            value,
        )
    return value


def account_of(role_arn: str) -> str:
    """The 12-digit account id in a role ARN."""
    match = ROLE_ARN.match(role_arn)
    return match.group(2) if match else ""


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """The aws provider's settings, parsed and checked."""

    role_arn: str
    region: str
    gate_role_arn: str | None = None
    audience: str = DEFAULT_AUDIENCE
    allowed_accounts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, settings: ProviderSettings) -> AwsSettings:
        """Check the settings mint needs; the gate role is optional (single hop without it)."""
        values = dict(settings.settings)
        unknown = sorted(set(values) - KNOWN_SETTINGS)
        if unknown:
            raise _invalid(
                f"unknown aws setting(s) {', '.join(unknown)}",
                f"use only {', '.join(sorted(KNOWN_SETTINGS))}",
                "credentials.providers.aws",
            )
        region = values.get("region", "")
        if not REGION.match(region):
            raise _invalid(
                f"`credentials.providers.aws.region` {region!r} is not an AWS region",
                "set `region:` to the region of the STS endpoint, e.g. eu-west-1",
                "region",
            )
        role = _role(values.get("role-arn"), "role-arn", region)
        if role is None:
            raise _invalid(
                "`credentials.providers.aws.role-arn` is missing",
                "set `role-arn:` to the role the job's credentials are for",
                "role-arn",
            )
        accounts = frozenset(re.split(r"[\s,]+", values.get("allowed-account-ids", "").strip()))
        accounts -= {""}
        bad = sorted(a for a in accounts if not ACCOUNT.match(a))
        if bad:
            raise _invalid(
                f"`allowed-account-ids` has {', '.join(map(repr, bad))}, not 12-digit ids",
                "list account ids separated by commas, e.g. 111122223333, 444455556666",
                "allowed-account-ids",
            )
        return cls(
            role_arn=role,
            region=region,
            gate_role_arn=_role(values.get("gate-role-arn"), "gate-role-arn", region),
            audience=values.get("audience") or DEFAULT_AUDIENCE,
            allowed_accounts=accounts,
        )


@contextmanager
def quiet_sdk_logs() -> Iterator[None]:
    """Hold the SDK loggers at WARNING: at DEBUG botocore logs request bodies and signatures."""
    saved: list[tuple[logging.Logger, int]] = []
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            saved.append((logger, logger.level))
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


class StsClients:
    """Makes STS clients for one region and endpoint; the botocore session is made once."""

    def __init__(
        self,
        region: str,
        endpoint_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        trust_env: bool = False,
    ) -> None:
        self.region = region
        self.endpoint_url = endpoint_url
        self._timeouts = (connect_timeout, read_timeout)
        self._trust_env = trust_env
        self._session: Any = None

    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3
            import botocore.session

            # (config key, env var, default, conversion): no env var and no config key, so
            # AWS_PROFILE, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE are never read
            isolated = {
                "profile": (None, None, None, None),
                "config_file": (None, None, os.devnull, None),
                "credentials_file": (None, None, os.devnull, None),
            }
            core = botocore.session.Session(session_vars=isolated)
            self._session = boto3.session.Session(botocore_session=core)
        return self._session

    def _config(self, *, unsigned: bool) -> Any:
        from botocore import UNSIGNED
        from botocore.config import Config

        options: dict[str, Any] = {
            "region_name": self.region,
            "connect_timeout": self._timeouts[0],
            "read_timeout": self._timeouts[1],
            "retries": {"total_max_attempts": 1, "mode": "standard"},
            "ignore_configured_endpoint_urls": True,
            "user_agent_extra": "envsecops-mint",
        }
        if not self._trust_env:
            options["proxies"] = {}
        if unsigned:
            options["signature_version"] = UNSIGNED
        return Config(**options)

    def _client(self, *, unsigned: bool, credentials: Mapping[str, str] | None = None) -> Any:
        keys: dict[str, str] = {}
        if credentials is not None:
            keys = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return self._boto_session().client(
            "sts",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            verify=None if self._trust_env else True,
            config=self._config(unsigned=unsigned),
            **keys,
        )

    def anonymous(self) -> Any:
        """An unsigned client, for AssumeRoleWithWebIdentity (the token is the credential)."""
        return self._client(unsigned=True)

    def signed(self, credentials: Mapping[str, str]) -> Any:
        """A client signing with ``credentials`` (an STS ``Credentials`` mapping) only."""
        return self._client(unsigned=False, credentials=credentials)
