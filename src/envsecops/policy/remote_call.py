"""Run the PyGithub calls of the policy commands; their failures become InfraError with the fix.

The families are :func:`envsecops.gh.api.api_call`'s (404 apart, 401, rate limits, other
statuses, 5xx after PyGithub's bounded retries, unreachable or silent services, answers of the
wrong shape); the messages name the service, its URL and what was asked, and the fixes speak to
a workflow step ($GITHUB_API_URL, the job's token and its ``permissions:``) rather than to
pin-check's flags. The token is never part of a message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from envsecops.errors import InfraError
from envsecops.gh import api
from envsecops.gh.api import ApiSettings, GitHubNotFound

if TYPE_CHECKING:
    from github.GithubException import GithubException

TOKEN_ENV_HINT = "ENVSECOPS_GITHUB_TOKEN (or GITHUB_TOKEN)"  # noqa: S105 - names, not a secret
SHAPE_FIX = "check that $GITHUB_API_URL points at a GitHub REST API (https://HOST/api/v3 for GHES)"
RETRY_FIX = "run the job again later; if it persists, check https://www.githubstatus.com"
PR_SETTING_FIX = (
    "allow it in the repository (or organization) settings: Actions → General → Workflow "
    "permissions → `Allow GitHub Actions to create and approve pull requests`; or use the token "
    "of a GitHub App that has `pull-requests: write`"
)


def permission_fix(needs: str, settings: ApiSettings) -> str:
    """The fix for a token that may not do something: the workflow grant, or another token.

    ``needs`` is a YAML flow mapping's inside, e.g. ``contents: read``.
    """
    fix = (
        f"add `permissions: {{{needs}}}` to the job (or the workflow), or set "
        f"{TOKEN_ENV_HINT} to a token that has it"
    )
    if settings.token is None:
        fix = f"no token was given: set {TOKEN_ENV_HINT}; then " + fix
    return fix


def _headers(exc: GithubException) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in (exc.headers or {}).items()}


def _message(exc: GithubException) -> str:
    data: Any = exc.data
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"])
    return ""


def _short(what: object) -> str:
    text = str(what)
    return text if len(text) <= 300 else text[:297] + "..."


def _cause(exc: BaseException) -> object:
    """What requests' wrapper of urllib3's MaxRetryError is about, without the pool's repr."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return getattr(inner, "reason", None) or inner


def _reason(exc: BaseException) -> str:
    return _short(_cause(exc))


def _rate_limited(exc: GithubException) -> bool:
    headers = _headers(exc)
    return exc.status == 429 or (
        exc.status == 403
        and (
            headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in headers
            or "rate limit" in _message(exc).lower()
        )
    )


def refused_status(error: InfraError) -> int | None:
    """403 or 404 when :func:`github_call` failed because the token may not read the resource.

    Rate limits (403 or 429), 401 and every other failure give None: they are about the
    service or the token as a whole, not about one permission. Shared with `envsecops doctor`,
    which reports such refusals as "cannot check" instead of failing the whole run.
    """
    from github.GithubException import GithubException

    cause = error.__cause__
    if not isinstance(cause, GithubException) or cause.status not in {403, 404}:
        return None
    return None if _rate_limited(cause) else int(cause.status)


def _status_error(
    settings: ApiSettings, repo: str, what: str, needs: str, exc: GithubException
) -> InfraError:
    where = f"{settings.service}: {what} in {repo}"
    status, message = exc.status, _message(exc)
    if status == 404:
        return GitHubNotFound(
            f"{where}: HTTP 404 {message}".rstrip(),
            repo=repo,
            what=what,
            fix=permission_fix(needs, settings),
        )
    if _rate_limited(exc):
        reset = _headers(exc).get("x-ratelimit-reset", "")
        when = (
            datetime.fromtimestamp(int(reset), UTC).strftime("; it resets at %Y-%m-%d %H:%M UTC")
            if reset.isdigit()
            else ""
        )
        return InfraError(
            f"{where}: HTTP {status}: rate limited ({message or 'no message'}){when}",
            fix="wait for the reset and run the job again"
            if settings.token
            else f"set {TOKEN_ENV_HINT}: anonymous requests are limited to 60 an hour",
        )
    if status == 401:
        return InfraError(
            f"{where}: HTTP 401: the token was refused ({message or 'Bad credentials'})",
            fix=f"the token in {TOKEN_ENV_HINT} is invalid or expired: replace it",
        )
    if status == 403:
        accepted = _headers(exc).get("x-accepted-github-permissions")
        detail = f"; GitHub accepts a token with {accepted}" if accepted else ""
        fix = permission_fix(needs, settings)
        if "not permitted to create or approve pull requests" in message:
            fix = PR_SETTING_FIX
        return InfraError(f"{where}: HTTP 403 {message or 'Forbidden'}{detail}", fix=fix)
    return InfraError(f"{where}: HTTP {status} {message}".rstrip(), fix=RETRY_FIX)


@contextmanager
def github_call(settings: ApiSettings, repo: str, what: str, *, needs: str) -> Iterator[None]:
    """Run PyGithub calls; their failures become InfraError naming service, URL and the fix.

    404 is :class:`GitHubNotFound` (callers decide what absence means); 401 names the token; a
    403 that is not a rate limit names the ``permissions:`` grant ``needs``; 429 and 403 rate
    limits, 5xx after PyGithub's bounded retries, unreachable services and answers of the wrong
    shape each say so. The family is :func:`envsecops.gh.api.api_call`'s; the fixes speak to a
    workflow step ($GITHUB_API_URL, the job's token) instead of pin-check's flags.
    """
    import requests
    from github.GithubException import BadAttributeException, GithubException
    from urllib3.exceptions import NewConnectionError
    from urllib3.exceptions import TimeoutError as SocketTimeout

    where = f"{settings.service}: {what} in {repo}"
    try:
        yield
    except GithubException as exc:
        raise _status_error(settings, repo, what, needs, exc) from exc
    except (BadAttributeException, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise InfraError(
            f"{where}: the answer does not have the shape of GitHub's REST API "
            f"({type(exc).__name__}: {_short(exc)})",
            fix=SHAPE_FIX,
        ) from exc
    except requests.exceptions.RetryError as exc:
        raise InfraError(
            f"{where}: the service kept failing after {api.RETRIES + 1} attempts ({_reason(exc)})",
            fix=RETRY_FIX,
        ) from exc
    except requests.RequestException as exc:
        cause = _cause(exc)  # urllib3's NewConnectionError is a TimeoutError by inheritance only
        if isinstance(exc, requests.Timeout) or (
            isinstance(cause, SocketTimeout) and not isinstance(cause, NewConnectionError)
        ):
            raise InfraError(
                f"{where}: the service did not answer within {api.TIMEOUT_SECONDS} s "
                f"({_reason(exc)})",
                fix=f"check the runner's network and $GITHUB_API_URL (now {settings.base_url}), "
                "then run the job again",
            ) from exc
        raise InfraError(
            f"{where}: cannot reach the service ({type(exc).__name__}: {_reason(exc)})",
            fix=f"check the runner's network and $GITHUB_API_URL (now {settings.base_url}), "
            "then run the job again",
        ) from exc
