"""The policy's `credentials:` section: the longest lifetime allowed and each provider's settings.

The settings are a small documented set per provider, checked here by shape only (an ARN
looks like an IAM role ARN, a region like a region); mint-creds decides what it needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from envsecops.policy.ledger import REGION, endpoint_allowed
from envsecops.policy.load_common import Reader, child, human_duration
from envsecops.policy.model import PROVIDERS, CredentialsPolicy, ProviderSettings
from envsecops.syntax.yaml import Node, position

CREDENTIALS_KEYS = frozenset({"max-lifetime", "providers"})
MIN_LIFETIME = 900
"""15 minutes: AWS STS's minimum session, and the default when the policy says nothing."""
MAX_LIFETIME = 12 * 3600
AWS_CHAINED_MAX = 3600
"""AWS caps a chained session (gate role → target role) at one hour."""
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_WIF_PROVIDER = re.compile(
    r"^(//iam\.googleapis\.com/)?projects/[0-9]+/locations/global/"
    r"workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True, slots=True)
class Setting:
    """One provider setting: whether it is required, a shape check and what the shape is."""

    required: bool
    check: Callable[[str], bool] | None = None
    shape: str = ""


def _arn(value: str) -> bool:
    return bool(_ROLE_ARN.match(value))


SETTINGS: dict[str, dict[str, Setting]] = {
    "aws": {
        "gate-role-arn": Setting(True, _arn, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
        "role-arn": Setting(True, _arn, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
        "region": Setting(True, lambda v: bool(REGION.match(v)), "an AWS region like eu-west-1"),
        "audience": Setting(False),
    },
    "gcp": {
        "workload-identity-provider": Setting(
            True,
            lambda v: bool(_WIF_PROVIDER.match(v)),
            "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER",
        ),
        "service-account": Setting(
            False, lambda v: bool(_EMAIL.match(v)), "a service account e-mail address"
        ),
        "audience": Setting(False),
    },
    "vault": {
        "url": Setting(
            True, endpoint_allowed, "an https URL (plain http only to a loopback address)"
        ),
        "role": Setting(True),
        "auth-path": Setting(False, lambda v: bool(_PATH.match(v)), "a mount path like jwt"),
        "namespace": Setting(False, lambda v: bool(_PATH.match(v)), "a namespace like admin/ci"),
        "audience": Setting(False),
    },
}
"""The settings each provider accepts (`audience` defaults per provider in mint-creds)."""


def _provider(reader: Reader, name: str, node: Node, where: str) -> ProviderSettings:
    known = SETTINGS[name]
    fields = reader.fields(node, where, frozenset(known))
    missing = [key for key, setting in known.items() if setting.required and key not in fields]
    if missing:
        raise reader.fail(
            node, where, f"`{where}` needs {', '.join(f'`{key}`' for key in missing)}"
        )
    settings: list[tuple[str, str]] = []
    for key, value_node in fields.items():
        here = child(where, key)
        value = reader.text(value_node, here)
        setting = known[key]
        if setting.check is not None and not setting.check(value):
            raise reader.fail(value_node, here, f"`{here}`: {value!r} is not {setting.shape}")
        settings.append((key, value))
    return ProviderSettings(provider=name, settings=tuple(sorted(settings)), line=position(node)[0])


def load_credentials(reader: Reader, node: Node) -> CredentialsPolicy:
    """`credentials:` max-lifetime (15m..12h, 1h with aws) and the providers."""
    fields = reader.fields(node, "credentials", CREDENTIALS_KEYS)
    providers: list[ProviderSettings] = []
    if "providers" in fields:
        entries = reader.mapping(fields["providers"], "credentials.providers", frozenset(PROVIDERS))
        for name, _key, value in entries:
            providers.append(_provider(reader, name, value, child("credentials.providers", name)))
    lifetime: int | None = None
    if "max-lifetime" in fields:
        where = "credentials.max-lifetime"
        lifetime = reader.duration(fields["max-lifetime"], where, MIN_LIFETIME, MAX_LIFETIME)
        if lifetime > AWS_CHAINED_MAX and any(p.provider == "aws" for p in providers):
            raise reader.fail(
                fields["max-lifetime"],
                where,
                f"`{where}`: {human_duration(lifetime)} is longer than AWS allows a chained "
                "session (gate role, then the target role): 1h at most",
            )
    return CredentialsPolicy(max_lifetime=lifetime, providers=tuple(providers))
