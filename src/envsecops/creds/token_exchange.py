"""The HTTP side of the token-exchange providers (GCP, Vault): a POST, retries, clean errors.

``requests`` (imported lazily) with explicit connect and read timeouts, no redirects (a token
must not travel to a second host), the environment's proxies and CA bundles ignored unless the
caller opts in, and answers capped at 1 MiB. 429, 5xx, connection errors and timeouts are
retried with :class:`envsecops.creds.retry.Backoff`; any other 4xx is final — 401/403 and OAuth
refusals (``invalid_grant``, ``unauthorized_client``, ``invalid_target``, ``access_denied``) as
:class:`ProviderRefused`. Errors name the service, the call, the URL and the HTTP status, and
quote the service's own error text (OAuth ``error_description``, Google ``error.message``,
Vault ``errors``), truncated, escaped and scrubbed of every token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from envsecops.creds.interface import MintError, ProviderRefused, scrub
from envsecops.creds.retry import Backoff, with_retries

if TYPE_CHECKING:
    import requests

MAX_ANSWER_BYTES = 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
OAUTH_REFUSALS = frozenset(
    {"invalid_grant", "unauthorized_client", "invalid_target", "access_denied"}
)
USER_AGENT = "envsecops-mint"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One call: the service and call names, the URL, and the strings never to repeat."""

    service: str
    call: str
    url: str
    secrets: tuple[str, ...] = ()
    fix: Callable[[int, str], str] = field(default=lambda status, code: "")
    refusals: frozenset[int] = frozenset({401, 403})
    """Statuses that mean "no" (a ProviderRefused) rather than a malformed request."""


class _Failed(Exception):
    """An HTTP answer or transport failure, before it is classified into a MintError."""

    def __init__(self, status: int, body: bytes = b"", transport: str = "") -> None:
        super().__init__(transport or f"HTTP {status}")
        self.status = status
        self.body = body
        self.transport = transport


def service_error(body: bytes) -> tuple[str, str]:
    """``(code, text)`` from an error body: OAuth, Google API or Vault shapes, else raw text."""
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "", body[:2000].decode("utf-8", "replace").strip()
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, str):  # RFC 6749 §5.2 / RFC 8693 §2.2.2
            description = data.get("error_description")
            return error, f"{error}: {description}" if isinstance(description, str) else error
        if isinstance(error, Mapping):  # Google APIs: {"error": {"code", "message", "status"}}
            status, message = error.get("status"), error.get("message")
            code = status if isinstance(status, str) else ""
            return code, f"{code}: {message}" if isinstance(message, str) else code
        errors = data.get("errors")
        if isinstance(errors, list):  # Vault: {"errors": ["..."]}
            return "", "; ".join(str(e) for e in errors)
    return "", json.dumps(data)[:2000]


class JsonHttp:
    """POST JSON or a form and get a JSON object back, retrying what may succeed later."""

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        trust_env: bool = False,
    ) -> None:
        self.backoff = backoff or Backoff()
        self.timeouts = (connect_timeout, read_timeout)
        self.trust_env = trust_env

    def post(
        self,
        endpoint: Endpoint,
        *,
        form: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON object answered with 200 (``{}`` for 204 No Content), or a MintError."""
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        raw = with_retries(
            self.backoff,
            lambda: self._once(endpoint.url, form, body, sent),
            lambda exc: self._classify(exc, endpoint),
        )
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            raise MintError(
                f"{endpoint.service} {endpoint.call} at {endpoint.url} answered 200 without a "
                "JSON object",
                fix="the URL does not point at the service; check the provider settings",
                service=endpoint.service,
                call=endpoint.call,
                target=endpoint.url,
            )
        return data

    def _once(
        self,
        url: str,
        form: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> bytes:
        import requests

        with requests.Session() as http:
            http.trust_env = self.trust_env
            try:
                with http.post(
                    url,
                    data=dict(form) if form is not None else None,
                    json=dict(body) if body is not None else None,
                    headers=dict(headers),
                    timeout=self.timeouts,
                    allow_redirects=False,
                    stream=True,
                ) as response:
                    answer = _read_capped(response)
                    status = response.status_code
            except (requests.Timeout, requests.ConnectionError) as exc:
                raise _Failed(0, transport=type(exc).__name__) from None
        if status not in {200, 204}:
            raise _Failed(status, answer)
        return answer

    @staticmethod
    def _classify(exc: Exception, endpoint: Endpoint) -> MintError:
        if not isinstance(exc, _Failed):
            raise exc
        where = f"{endpoint.service} {endpoint.call} at {endpoint.url}"
        details: dict[str, Any] = {
            "service": endpoint.service,
            "call": endpoint.call,
            "target": endpoint.url,
        }
        if exc.transport:
            return MintError(
                f"{where} failed: {exc.transport} (no answer)",
                fix="the service is unreachable or slow from this runner; re-run the job",
                retryable=True,
                **details,
            )
        code, text = service_error(exc.body)
        quoted = scrub(text, endpoint.secrets)
        message = f"{where} answered HTTP {exc.status}" + (f": {quoted}" if quoted else "")
        fix = endpoint.fix(exc.status, code) or _default_fix(exc.status)
        if exc.status in RETRY_STATUSES or exc.status >= 500:
            return MintError(
                message, fix=fix, retryable=True, status=exc.status, code=code, **details
            )
        if exc.status in endpoint.refusals or code in OAUTH_REFUSALS:
            return ProviderRefused(message, fix=fix, status=exc.status, code=code, **details)
        return MintError(message, fix=fix, status=exc.status, code=code, **details)


def _default_fix(status: int) -> str:
    if 300 <= status < 400:
        return "redirects are not followed (a token must not travel on); use the final URL"
    if status in RETRY_STATUSES or status >= 500:
        return "the service is throttling or failing; re-run the job in a minute"
    return "see the service's error above; the settings or the identity's bindings need attention"


def _read_capped(response: requests.Response) -> bytes:
    answer = bytearray()
    for chunk in response.iter_content(chunk_size=64 * 1024):
        answer += chunk
        if len(answer) > MAX_ANSWER_BYTES:
            break
    return bytes(answer[: MAX_ANSWER_BYTES + 1])
