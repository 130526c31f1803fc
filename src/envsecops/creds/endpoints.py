"""Where providers may send a token: https to the real service, or a loopback override for tests.

Each provider talks to a fixed, documented endpoint (AWS STS in the configured region, Google's
STS and IAM Credentials, the policy's Vault URL). Tests point a provider at a local stand-in
through an environment variable (``ENVSECOPS_AWS_ENDPOINT_URL`` and friends); such an override
is accepted only when it names a loopback address (127.0.0.0/8, ::1, localhost), over http or
https, so it can never redirect a token to another machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from envsecops.creds.interface import MintRequestInvalid

AWS_ENDPOINT_ENV = "ENVSECOPS_AWS_ENDPOINT_URL"
GCP_STS_ENV = "ENVSECOPS_GCP_STS_URL"
GCP_IAM_CREDENTIALS_ENV = "ENVSECOPS_GCP_IAMCREDENTIALS_URL"
TESTING_ONLY = "testing only: it is accepted for loopback addresses alone"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parts(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname or ""
    except ValueError:
        return "", ""


def override(environ: Mapping[str, str], variable: str, *, service: str) -> str | None:
    """The loopback URL in ``variable``, None when unset; anything else is refused."""
    value = environ.get(variable, "")
    if not value:
        return None
    scheme, host = _parts(value)
    if scheme not in {"http", "https"} or not is_loopback_host(host):
        raise MintRequestInvalid(
            f"{variable}={value!r} is not a loopback http(s) URL; the override is {TESTING_ONLY}",
            fix=f"unset {variable}: {service} is reached at its public https endpoint",
            service=service,
            call="configure",
            target=value,
        )
    return value.rstrip("/")


def require_https_or_loopback(url: str, *, what: str, service: str) -> str:
    """``url`` without a trailing slash when it is https, or http to a loopback host."""
    scheme, host = _parts(url)
    if (scheme == "https" and host) or (scheme == "http" and is_loopback_host(host)):
        return url.rstrip("/")
    raise MintRequestInvalid(
        f"{what} {url!r} is not an https:// URL",
        fix="use https:// (plain http:// is accepted only for 127.0.0.1, ::1 and localhost)",
        service=service,
        call="configure",
        target=url,
    )
