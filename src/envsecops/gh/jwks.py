"""The pinned OIDC issuer's signing keys: discovery document → `jwks_uri` → RSA keys by `kid`.

Keys come from one place only: the issuer that the caller pins (GitHub's by default), through its
``/.well-known/openid-configuration`` document, whose ``issuer`` must equal the pinned one
exactly and whose ``jwks_uri`` must be on the same origin. Nothing a token says (``jku``,
``x5u``, ``jwk``, ``x5c``) is ever used to find a key. An unknown ``kid`` refetches the key set
once (the issuer may have rotated its keys), then fails closed. Plain ``http://`` is refused
except on loopback, so that tests can run a real issuer on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from envsecops.errors import EnvsecopsError, ExitCode, InfraError

if TYPE_CHECKING:
    import requests
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

MAX_DOCUMENT_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class TokenRejected(EnvsecopsError):
    """A token failed validation: a deny, naming the claim or header at fault and the fix."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, *, claim: str, fix: str | None = None) -> None:
        super().__init__(f"OIDC token rejected ({claim}): {message}", fix=fix)
        self.claim = claim


class IssuerUnavailable(InfraError):
    """The issuer's discovery document or key set could not be fetched or is unusable."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is 127.0.0.0/8, ::1 or localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, what: str) -> None:
    """Refuse anything but https, or http to a loopback host."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and is_loopback(host):
        return
    raise IssuerUnavailable(
        f"{what} {url!r} is not an https:// URL",
        fix="use https:// (plain http:// is accepted only for 127.0.0.1, ::1 and localhost)",
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port)


class HttpRefused(IssuerUnavailable):
    """A non-retryable HTTP status (4xx, 3xx) from an OIDC endpoint."""

    def __init__(self, what: str, url: str, status: int, body: bytes) -> None:
        snippet = body[:200].decode("utf-8", "replace").replace("\n", " ")
        super().__init__(f"{what} at {url} answered HTTP {status}: {snippet!r}")
        self.status = status


def fetch_json(
    url: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    retries: int = 2,
    trust_env: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET ``url`` and parse JSON; retries 429/5xx/timeouts with jittered backoff, then fails.

    Redirects are not followed (a bearer token must not travel to a second host), bodies are
    capped at 1 MiB, and every failure is an :class:`IssuerUnavailable` naming ``what``.

    Unless ``trust_env``, requests ignores the environment (``HTTPS_PROXY``,
    ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``.netrc``): an earlier step could otherwise
    route the request through its own proxy with its own CA and serve forged keys.
    """
    import requests

    with requests.Session() as http:
        http.trust_env = trust_env
        return _fetch(http, url, what, dict(headers or {}), timeout, retries, sleep)


def _fetch(
    http: requests.Session,
    url: str,
    what: str,
    headers: dict[str, str],
    timeout: float,
    retries: int,
    sleep: Callable[[float], None],
) -> Any:
    import requests

    last = ""
    for attempt in range(retries + 1):
        if attempt:
            sleep(random.uniform(0, min(8.0, 0.5 * 2**attempt)))  # noqa: S311 - jitter only
        try:
            with http.get(
                url,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            ) as response:
                status = response.status_code
                body = _read_capped(response)
        except (requests.Timeout, requests.ConnectionError) as exc:
            last = f"{type(exc).__name__}"
            continue
        except requests.RequestException as exc:
            raise IssuerUnavailable(f"{what} at {url} failed: {type(exc).__name__}") from exc
        if status in RETRY_STATUSES:
            last = f"HTTP {status}"
            continue
        if status != 200:
            raise HttpRefused(what, url, status, body)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise IssuerUnavailable(f"{what} at {url} is larger than {MAX_DOCUMENT_BYTES} bytes")
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise IssuerUnavailable(f"{what} at {url} is not JSON") from exc
    raise IssuerUnavailable(
        f"{what} at {url} failed after {retries + 1} attempts (last: {last})",
        fix="the service may be down or unreachable from this runner; re-run the job",
    )


def _read_capped(response: requests.Response) -> bytes:
    body = bytearray()
    for chunk in response.iter_content(chunk_size=64 * 1024):
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            break
    return bytes(body)


class KeySource(ABC):
    """Where validation gets the public key for a token's ``kid``."""

    @abstractmethod
    def key(self, kid: str) -> RSAPublicKey:
        """The RSA key with that id, or :class:`TokenRejected` (claim ``kid``)."""


class IssuerKeys(KeySource):
    """Keys of one pinned issuer, fetched through its discovery document and cached."""

    def __init__(
        self,
        issuer: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        trust_env: bool = False,
    ) -> None:
        require_secure_url(issuer, "OIDC issuer")
        self.issuer = issuer
        self.timeout = timeout
        self.retries = retries
        self.trust_env = trust_env
        self.jwks_fetches = 0
        self._jwks_uri: str | None = None
        self._keys: dict[str, RSAPublicKey] | None = None
        self._ambiguous: set[str] = set()

    def key(self, kid: str) -> RSAPublicKey:
        """Look the key up; an unknown ``kid`` refetches the key set once, then fails."""
        if self._keys is None or kid not in self._keys:
            self._load_keys()
        assert self._keys is not None  # noqa: S101 - _load_keys set it or raised
        if kid in self._ambiguous:
            raise TokenRejected(
                f"the issuer's key set lists `kid` {kid!r} more than once",
                claim="kid",
                fix=f"the key set of {self.issuer} is inconsistent; report it to the issuer",
            )
        found = self._keys.get(kid)
        if found is None:
            raise TokenRejected(
                f"no key with `kid` {kid!r} in the key set of {self.issuer}",
                claim="kid",
                fix="the token was not signed by the pinned issuer (or by a key it has "
                "retired); request a fresh token from this job",
            )
        return found

    def _get(self, url: str, what: str) -> Any:
        return fetch_json(
            url, what=what, timeout=self.timeout, retries=self.retries, trust_env=self.trust_env
        )

    def jwks_uri(self) -> str:
        """The key set URL named by the issuer's discovery document, checked against the pin."""
        if self._jwks_uri is not None:
            return self._jwks_uri
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = self._get(url, "OIDC discovery document")
        if not isinstance(doc, dict):
            raise IssuerUnavailable(f"OIDC discovery document at {url} is not a JSON object")
        if doc.get("issuer") != self.issuer:
            raise IssuerUnavailable(
                f"OIDC discovery document at {url} names issuer {doc.get('issuer')!r}, "
                f"not the pinned {self.issuer!r}",
                fix="pin the issuer exactly as the provider spells it (no trailing slash for "
                "https://token.actions.githubusercontent.com)",
            )
        jwks_uri = doc.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise IssuerUnavailable(f"OIDC discovery document at {url} has no `jwks_uri`")
        require_secure_url(jwks_uri, "jwks_uri")
        if _origin(jwks_uri) != _origin(self.issuer):
            raise IssuerUnavailable(
                f"jwks_uri {jwks_uri!r} is not on the issuer's origin {self.issuer!r}",
                fix="envsecops only takes keys from the pinned issuer's own host",
            )
        algs = doc.get("id_token_signing_alg_values_supported")
        if algs is not None and (not isinstance(algs, list) or "RS256" not in algs):
            raise IssuerUnavailable(f"the issuer at {url} does not advertise RS256 signing")
        self._jwks_uri = jwks_uri
        return jwks_uri

    def _load_keys(self) -> None:
        url = self.jwks_uri()
        self.jwks_fetches += 1
        data = self._get(url, "OIDC key set (JWKS)")
        entries = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise IssuerUnavailable(f"OIDC key set at {url} has no `keys` list")
        keys: dict[str, RSAPublicKey] = {}
        ambiguous: set[str] = set()
        for entry in entries:
            parsed = _rsa_key(entry)
            if parsed is None:
                continue
            kid, public = parsed
            if kid in keys:
                ambiguous.add(kid)
            keys[kid] = public
        self._keys = keys
        self._ambiguous = ambiguous


def _rsa_key(entry: Any) -> tuple[str, RSAPublicKey] | None:
    """An RS256 signing key from one JWK, or None for any other kind of key (ignored)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from jwt.algorithms import RSAAlgorithm
    from jwt.exceptions import InvalidKeyError

    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        return None
    if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
        return None
    if any(name in entry for name in ("d", "p", "q")):
        return None  # a private key published by mistake is not a key we will trust
    try:
        public = RSAAlgorithm.from_jwk(json.dumps(entry))
    except (InvalidKeyError, ValueError, TypeError):
        return None
    if not isinstance(public, RSAPublicKey) or public.key_size < MIN_RSA_BITS:
        return None
    return kid, public
