"""The policy's `credentials:` section: the longest lifetime allowed and each provider's settings.

The settings are a small documented set per provider, checked here by shape only (an ARN
looks like an IAM role ARN, a region like a region, an account list like 12-digit ids, a Vault
mount like a plain path with no `.`, `..` or empty segment); mint-creds decides what it needs.
aws `gate-role-arn` is optional: without it mint-creds makes one hop straight into `role-arn`,
a session that carries no tags (docs/mint-creds.md).
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
_DOT_SEGMENTS = frozenset({".", ".."})
_ACCOUNTS = re.compile(r"^\s*[0-9]{12}(\s*,\s*[0-9]{12})*\s*$")


@dataclass(frozen=True, slots=True)
class Setting:
    """One provider setting: whether it is required, a shape check and what the shape is."""

    required: bool
    check: Callable[[str], bool] | None = None
    shape: str = ""


def _arn(value: str) -> bool:
    return bool(_ROLE_ARN.match(value))


def _plain_path(value: str) -> bool:
    """Segments of ``[A-Za-z0-9_.-]``, none empty, none ``.`` or ``..`` (no path traversal)."""
    return bool(_PATH.match(value)) and not _DOT_SEGMENTS & set(value.split("/"))


def _accounts(value: str) -> bool:
    return bool(_ACCOUNTS.match(value))


def _normalise(key: str, value: str) -> str:
    """`allowed-account-ids` as ``id,id`` (spaces dropped); every other value as written."""
    if key == "allowed-account-ids":
        return ",".join(part.strip() for part in value.split(","))
    return value


SETTINGS: dict[str, dict[str, Setting]] = {
    "aws": {
        "gate-role-arn": Setting(False, _arn, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
        "role-arn": Setting(True, _arn, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
        "region": Setting(True, lambda v: bool(REGION.match(v)), "an AWS region like eu-west-1"),
        "audience": Setting(False),
        "allowed-account-ids": Setting(
            False,
            _accounts,
            'comma-separated 12-digit AWS account ids, e.g. "111122223333, 444455556666"',
        ),
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
        "auth-path": Setting(
            False, _plain_path, "a mount path like jwt (no `.`, `..` or empty segment)"
        ),
        "namespace": Setting(
            False, _plain_path, "a namespace like admin/ci (no `.`, `..` or empty segment)"
        ),
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
        settings.append((key, _normalise(key, value)))
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
