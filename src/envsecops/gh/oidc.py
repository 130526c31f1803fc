"""The GitHub Actions OIDC token: request it from the runner, validate it against the pinned issuer.

``request_token`` asks the runner's token service (``ACTIONS_ID_TOKEN_REQUEST_URL`` with the
bearer ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``) for a JWT with the given audience. The JWT is a
credential: the caller masks it (:func:`mask_commands`) before anything can print it.

``validate_token`` accepts RS256 only, with keys from the pinned issuer's discovery document
(see :mod:`envsecops.gh.jwks`), exact ``iss`` and ``aud`` (a single string), ``exp``, ``iat``,
``nbf`` and ``sub`` required, a small leeway, every other claim a string (GitHub's are), and a
``sub`` that agrees with the ``repository`` claims. It returns the claims as strings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from envsecops.errors import EnvsecopsError, ExitCode, InfraError
from envsecops.gh.jwks import (
    HttpRefused,
    IssuerUnavailable,
    KeySource,
    TokenRejected,
    fetch_json,
    require_secure_url,
)
from envsecops.gh.subject import check_subject

__all__ = [
    "GITHUB_ISSUER",
    "OidcUnavailable",
    "TokenRejected",
    "TokenRequestFailed",
    "mask_commands",
    "request_token",
    "validate_token",
]

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
REQUEST_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable name
JWT_REQUIRED = ("exp", "iat", "nbf", "iss", "aud", "sub")
TIME_CLAIMS = frozenset({"exp", "iat", "nbf"})
GITHUB_REQUIRED = (
    "repository",
    "repository_id",
    "repository_owner",
    "run_id",
    "run_attempt",
    "sha",
    "ref",
    "workflow_ref",
    "job_workflow_ref",
)
"""Claims every github.com Actions token carries; validation requires them by default."""
DEFAULT_LEEWAY = 30
MAX_LIFETIME = 3600
"""GitHub's tokens live 5 minutes (``nbf`` is 10 minutes before ``iat``); longer is refused."""
MAX_TOKEN_CHARS = 16 * 1024
JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
FORBIDDEN_HEADERS = ("jku", "x5u", "jwk", "x5c", "crit")

PERMISSION_FIX = """give the job permission to request its OIDC token:

    permissions:
      id-token: write   # lets this job request a GitHub OIDC token
      contents: read

Pull requests from forks never receive an OIDC token (GitHub withholds it and other secrets),
so the gate denies them; run credentialed jobs on pushes or on reviewed branches instead."""


class OidcUnavailable(EnvsecopsError):
    """This job cannot request an OIDC token (no permission, a fork, not in Actions): a deny."""

    exit_code = ExitCode.FINDINGS


class TokenRequestFailed(InfraError):
    """The runner's token service failed or answered something that is not a token."""


def token_request_url(base: str, audience: str) -> str:
    """``base`` with ``audience=<percent-encoded audience>`` appended to its query."""
    query = urlsplit(base).query
    separator = "&" if query else ("" if base.endswith("?") else "?")
    return f"{base}{separator}audience={quote(audience, safe='')}"


def request_token(
    environ: Mapping[str, str],
    audience: str,
    *,
    retries: int = 3,
    timeout: float = 10.0,
    trust_env: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Request a GitHub OIDC token for ``audience``; the JWT (a credential) is returned unmasked.

    The environment's proxies and CA bundles are ignored unless ``trust_env`` (see
    :func:`envsecops.gh.jwks.fetch_json`).
    """
    if not audience or audience != audience.strip() or any(ord(c) < 32 for c in audience):
        raise OidcUnavailable(
            f"OIDC audience {audience!r} is empty or has spaces or control characters",
            fix="pass the audience your cloud provider expects, e.g. sts.amazonaws.com",
        )
    url = environ.get(REQUEST_URL_ENV, "")
    bearer = environ.get(REQUEST_TOKEN_ENV, "")
    missing = [
        name for name, value in ((REQUEST_URL_ENV, url), (REQUEST_TOKEN_ENV, bearer)) if not value
    ]
    if missing:
        raise OidcUnavailable(
            f"cannot request a GitHub OIDC token: {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set (the job lacks `id-token: write`, "
            "runs for a pull request from a fork, or does not run in GitHub Actions)",
            fix=PERMISSION_FIX,
        )
    try:
        require_secure_url(url, REQUEST_URL_ENV)
        data = fetch_json(
            token_request_url(url, audience),
            what="GitHub OIDC token request",
            headers={"Authorization": f"bearer {bearer}", "Accept": "application/json"},
            timeout=timeout,
            retries=retries,
            trust_env=trust_env,
            sleep=sleep,
        )
    except HttpRefused as exc:
        raise TokenRequestFailed(
            f"the runner's OIDC token service refused the request (HTTP {exc.status})",
            fix="check `permissions: id-token: write` on the job; the request token expires "
            "when the job ends, so request the OIDC token from a step of the same job",
        ) from exc
    except IssuerUnavailable as exc:
        raise TokenRequestFailed(exc.message, fix=exc.fix) from exc
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > MAX_TOKEN_CHARS or not JWT_SHAPE.match(value):
        raise TokenRequestFailed(
            "the runner's OIDC token service answered without a JWT in `value`",
            fix="re-run the job; if it persists, the runner's token service is misbehaving",
        )
    return value


def mask_commands(token: str) -> list[str]:
    """The ``::add-mask::`` lines to print before anything else can print the token."""
    from envsecops.gh.commands import add_mask

    return add_mask(token)


def _unverified_header(token: object) -> dict[str, Any]:
    import jwt

    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not JWT_SHAPE.match(token):
        raise TokenRejected(
            "not a compact JWS (three base64url parts, at most 16 KiB)",
            claim="token",
            fix="pass the JWT exactly as the token service returned it",
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"the header is not acceptable ({exc})", claim="header") from exc
    return header


def _check_header(header: Mapping[str, Any]) -> str:
    alg = header.get("alg")
    if alg != "RS256":
        raise TokenRejected(
            f"algorithm {alg!r} is not accepted; only RS256 is",
            claim="alg",
            fix="GitHub signs with RS256; a token with another algorithm is forged or not GitHub's",
        )
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise TokenRejected(
                f"the header carries `{name}`; keys come only from the pinned issuer",
                claim=name,
                fix="GitHub's tokens carry no such header; this token is not GitHub's",
            )
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
        raise TokenRejected(f"header `typ` is {typ!r}, not JWT", claim="typ")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("the header has no `kid`", claim="kid")
    return kid


def _decode(token: str, key: Any, *, issuer: str, audience: str, leeway: float) -> dict[str, Any]:
    import jwt

    options: Any = {"require": list(JWT_REQUIRED), "strict_aud": True}
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options=options,
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenRejected("the token has expired", claim="exp", fix=_FRESH) from exc
    except jwt.ImmatureSignatureError as exc:
        claim = "iat" if "iat" in str(exc) else "nbf"
        raise TokenRejected(
            f"the token is not valid yet ({claim} is in the future)",
            claim=claim,
            fix="check the runner's clock (it must be within the leeway of real time)",
        ) from exc
    except jwt.InvalidIssuerError as exc:
        raise TokenRejected(
            f"issuer is not exactly {issuer!r}",
            claim="iss",
            fix="the token comes from another issuer; only the pinned issuer is accepted",
        ) from exc
    except jwt.InvalidAudienceError as exc:
        raise TokenRejected(
            f"audience is not exactly the single string {audience!r}",
            claim="aud",
            fix=f"request the token with audience {audience!r}",
        ) from exc
    except jwt.MissingRequiredClaimError as exc:
        raise TokenRejected(f"required claim `{exc.claim}` is missing", claim=exc.claim) from exc
    except jwt.InvalidSignatureError as exc:
        raise TokenRejected(
            "the signature does not verify with the issuer's key",
            claim="signature",
            fix="the token was altered or signed by someone else",
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise TokenRejected(f"the token is malformed ({exc})", claim="token") from exc
    return payload


_FRESH = "GitHub's tokens live 5 minutes: request a fresh one right before it is used"


def _string_claims(payload: Mapping[str, Any], required: tuple[str, ...]) -> dict[str, str]:
    claims: dict[str, str] = {}
    for name, value in payload.items():
        if name in TIME_CLAIMS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise TokenRejected(f"`{name}` must be an integer", claim=name)
            claims[name] = str(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise TokenRejected(f"claim `{name}` is not valid Unicode", claim=name) from exc
            claims[name] = value
        else:
            raise TokenRejected(
                f"claim `{name}` is a {type(value).__name__}, not a string as GitHub issues it",
                claim=name,
                fix="this token was not issued by GitHub Actions",
            )
    for name in required:
        if not claims.get(name):
            raise TokenRejected(f"claim `{name}` is missing or empty", claim=name)
    if int(claims["exp"]) - int(claims["iat"]) > MAX_LIFETIME:
        raise TokenRejected(
            f"the token lives longer than {MAX_LIFETIME} s after `iat`",
            claim="exp",
            fix="GitHub's tokens live 5 minutes; this one was not issued by GitHub Actions",
        )
    return claims


def validate_token(
    token: str,
    *,
    audience: str,
    keys: KeySource,
    issuer: str = GITHUB_ISSUER,
    leeway: float = DEFAULT_LEEWAY,
    required: tuple[str, ...] = GITHUB_REQUIRED,
) -> dict[str, str]:
    """Validate a GitHub OIDC token; returns every claim as a string, or raises TokenRejected."""
    kid = _check_header(_unverified_header(token))
    key = keys.key(kid)
    payload = _decode(token, key, issuer=issuer, audience=audience, leeway=leeway)
    claims = _string_claims(payload, required)
    check_subject(claims)
    return claims
