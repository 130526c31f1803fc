"""The GitHub REST API client: settings from flags and environment, and errors wrapped at the edge.

PyGithub is imported only inside the functions that need it, so that `envsecops --help` and an
offline pin-check never pay for it. Every PyGithub or requests exception that leaves a call made
under :func:`api_call` becomes an :class:`~envsecops.errors.InfraError` naming the service, the
repository and ref, the HTTP status and the fix.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from envsecops import __version__
from envsecops.errors import InfraError, UsageError

if TYPE_CHECKING:
    from github import Github

DEFAULT_API_URL = "https://api.github.com"
API_URL_ENV = "GITHUB_API_URL"
TOKEN_ENVS = ("GITHUB_TOKEN", "GH_TOKEN")
PER_PAGE = 100
TIMEOUT_SECONDS = 15
RETRIES = 2
AUTH_FIX = (
    "set GITHUB_TOKEN (or GH_TOKEN) to a token with read access; in a workflow step add "
    "`env: GITHUB_TOKEN: ${{ github.token }}`"
)
ANONYMOUS_NOTE = (
    "no GITHUB_TOKEN or GH_TOKEN is set: anonymous GitHub API requests are limited to 60 an "
    "hour per IP address and cannot see private repositories"
)


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Where the API is and the token to use (None: anonymous); the token never prints."""

    base_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)

    @property
    def service(self) -> str:
        """How errors name the service."""
        return f"the GitHub API at {self.base_url}"

    @property
    def anonymous_note(self) -> str | None:
        """A warning for anonymous use, or None when a token is set."""
        return None if self.token else ANONYMOUS_NOTE


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_settings(flag_url: str | None, environ: Mapping[str, str] | None = None) -> ApiSettings:
    """Settings from `--github-api-url` (else $GITHUB_API_URL) and $GITHUB_TOKEN / $GH_TOKEN.

    Plain ``http://`` is refused except on loopback, so a token never crosses a network in clear.
    """
    env = os.environ if environ is None else environ
    url = (flag_url or env.get(API_URL_ENV) or DEFAULT_API_URL).strip().rstrip("/")
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        _ = parts.port
    except ValueError:
        host = ""
    if (
        parts.scheme not in {"https", "http"}
        or not host
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise UsageError(
            f"GitHub API URL {url!r} is not an http(s) URL",
            fix="use e.g. --github-api-url https://api.github.com or https://HOST/api/v3",
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise UsageError(
            f"GitHub API URL {url!r} uses plain http to a non-loopback host; "
            "the token and the answers could be read or changed on the way",
            fix="use https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost)",
        )
    token = next((env[name].strip() for name in TOKEN_ENVS if env.get(name, "").strip()), None)
    return ApiSettings(base_url=url, token=token)


def build_client(settings: ApiSettings) -> Github:
    """A PyGithub client: lazy objects, 100 per page, bounded retries, no rate-limit sleeping."""
    import github
    from github.GithubRetry import GithubRetry

    github.set_log_level(logging.WARNING)  # PyGithub logs each retry at INFO to stderr

    retry = GithubRetry(
        total=RETRIES,
        backoff_factor=0.2,
        max_rate_limit_wait=0,
        respect_retry_after_header=False,
    )
    return github.Github(
        auth=github.Auth.Token(settings.token) if settings.token else None,
        base_url=settings.base_url,
        timeout=TIMEOUT_SECONDS,
        user_agent=f"envsecops/{__version__}",
        per_page=PER_PAGE,
        retry=retry,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


class GitHubNotFound(InfraError):
    """The API answered 404: the repository or ref does not exist, or is private to us."""

    def __init__(self, message: str, *, repo: str, what: str, fix: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.repo = repo
        self.what = what


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _api_message(data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""


def _reset_time(headers: Mapping[str, Any] | None) -> str:
    reset = _header(headers, "x-ratelimit-reset")
    if reset is None or not reset.isdigit():
        return ""
    when = datetime.fromtimestamp(int(reset), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"; it resets at {when}"


def _is_rate_limit(status: int, message: str, headers: Mapping[str, Any] | None) -> bool:
    if status == 429:
        return True
    lowered = message.lower()
    return status == 403 and (
        "rate limit" in lowered
        or _header(headers, "x-ratelimit-remaining") == "0"
        or _header(headers, "retry-after") is not None
    )


@contextmanager
def api_call(settings: ApiSettings, repo: str, what: str) -> Iterator[None]:
    """Run PyGithub calls; re-raise their failures as InfraError (404: GitHubNotFound)."""
    import requests
    from github.GithubException import BadAttributeException, GithubException

    where = f"{settings.service}: {what} in {repo}"
    try:
        yield
    except GithubException as exc:
        status = exc.status
        message = _api_message(exc.data) or (exc.message or "")
        detail = f"{where}: HTTP {status} {message}".rstrip()
        if status == 404:
            raise GitHubNotFound(
                detail,
                repo=repo,
                what=what,
                fix=f"check that {repo} and the ref exist; if the repository is private, "
                + AUTH_FIX,
            ) from exc
        if _is_rate_limit(status, message, exc.headers):
            used = "the token's" if settings.token else "the anonymous (60 an hour)"
            raise InfraError(
                f"{where}: HTTP {status}: {used} rate limit is exhausted{_reset_time(exc.headers)}",
                fix=AUTH_FIX
                if not settings.token
                else "wait for the reset, or use a token with a higher limit",
            ) from exc
        if status == 401:
            raise InfraError(
                f"{where}: HTTP 401: the token was refused ({message or 'Bad credentials'})",
                fix="the token in GITHUB_TOKEN / GH_TOKEN is invalid or expired: replace it",
            ) from exc
        raise InfraError(
            detail,
            fix="retry later; if it persists, check the service status and --github-api-url",
        ) from exc
    except (BadAttributeException, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise InfraError(
            f"{where}: the answer does not have the shape of GitHub's REST API "
            f"({type(exc).__name__}: {_short(exc)})",
            fix="check that --github-api-url / $GITHUB_API_URL points at a GitHub REST API",
        ) from exc
    except requests.exceptions.RetryError as exc:
        raise InfraError(
            f"{where}: the service kept failing after {RETRIES + 1} attempts ({_short(exc)})",
            fix="retry later; if it persists, check the service status and --github-api-url",
        ) from exc
    except requests.RequestException as exc:
        raise InfraError(
            f"{where}: cannot reach the service ({type(exc).__name__}: {_short(exc)})",
            fix=f"check the network and --github-api-url / ${API_URL_ENV} "
            f"(now {settings.base_url}), or run without --online / --fix",
        ) from exc


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:297] + "..."
