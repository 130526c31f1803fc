"""Credential providers for mint-creds: one interface, a module per backend, a registry."""

from __future__ import annotations

from collections.abc import Callable

from envsecops.creds.interface import (
    IssuedCredential,
    MintError,
    MintRequest,
    MintRequestInvalid,
    Provider,
    ProviderRefused,
)

__all__ = [
    "PROVIDERS",
    "IssuedCredential",
    "MintError",
    "MintRequest",
    "MintRequestInvalid",
    "Provider",
    "ProviderRefused",
    "provider_for",
]


def _aws() -> Provider:
    from envsecops.creds.aws import AwsProvider

    return AwsProvider()


def _gcp() -> Provider:
    from envsecops.creds.gcp import GcpProvider

    return GcpProvider()


def _vault() -> Provider:
    from envsecops.creds.vault import VaultProvider

    return VaultProvider()


PROVIDERS: dict[str, Callable[[], Provider]] = {"aws": _aws, "gcp": _gcp, "vault": _vault}
"""Provider name (as in `credentials.providers`) → a factory with production defaults."""


def provider_for(name: str) -> Provider:
    """The provider registered under ``name``; KeyError names the known ones."""
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise KeyError(f"no credential provider {name!r}; known: {', '.join(PROVIDERS)}") from None
    return factory()
