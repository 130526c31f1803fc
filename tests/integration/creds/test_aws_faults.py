"""STS faults through the loopback fault proxy: what is retried (with jitter), what never is.

Throttling, 5xx answers and transport failures are retried within the backoff's attempts, each
wait drawn under its ceiling; refusals (AccessDenied, InvalidIdentityToken, ExpiredToken) are
raised after exactly one request. Every error names the call and the role and carries a fix, and
none repeats the token or a secret that travelled through the proxy.
"""

from __future__ import annotations

import pytest

from envsecops.creds.interface import MintError, ProviderRefused
from envsecops.creds.retry import Backoff
from tests.integration.creds.conftest import Stand, faults
from tests.integration.creds.leaks import assert_no_secret, exception_texts
from tests.integration.creds.sts_proxy import QueuedError, StsProxy
from tests.integration.fault_proxy import Fault
from tests.integration.moto_s3 import closed_port

WEB = "AssumeRoleWithWebIdentity"


def _no_leak(
    stand: Stand, proxy: StsProxy, error: BaseException, capfd: pytest.CaptureFixture[str]
) -> None:
    out, err = capfd.readouterr()
    assert_no_secret({stand.token, *proxy.secrets}, exception_texts(error), out, err)


def test_throttling_is_retried_with_full_jitter(stand: Stand, proxy: StsProxy) -> None:
    proxy.errors += [QueuedError(WEB, "Throttling"), QueuedError(WEB, "Throttling")]
    proxy.errors += [QueuedError("AssumeRole", "RequestLimitExceeded")]
    issued = stand.provider(proxy.url).mint(stand.request(), stand.token)

    assert proxy.actions() == [WEB, WEB, WEB, "AssumeRole", "AssumeRole"]
    assert issued.credential.session_arn
    ceilings = Backoff(base=0.2, cap=1.0)
    assert len(stand.sleeps) == 3
    for retry, slept in zip((1, 2, 1), stand.sleeps, strict=True):
        assert 0.0 <= slept <= ceilings.ceiling(retry)


def test_5xx_and_idp_communication_errors_are_retried(stand: Stand, proxy: StsProxy) -> None:
    faults(proxy, Fault.ERROR_500)
    proxy.errors.append(QueuedError(WEB, "IDPCommunicationError"))
    proxy.errors.append(QueuedError("AssumeRole", "ServiceUnavailable", status=503))
    stand.provider(proxy.url).mint(stand.request(), stand.token)
    assert proxy.seen[0].fault is Fault.ERROR_500
    assert proxy.actions() == [WEB, WEB, "AssumeRole", "AssumeRole"]
    assert len(stand.sleeps) == 3


def test_throttling_that_never_ends_gives_up_after_the_attempts(
    stand: Stand, proxy: StsProxy, capfd: pytest.CaptureFixture[str]
) -> None:
    proxy.errors += [QueuedError(WEB, "Throttling")] * 5
    with pytest.raises(MintError) as caught:
        stand.provider(proxy.url, attempts=3).mint(stand.request(), stand.token)
    error = caught.value
    assert not isinstance(error, ProviderRefused)
    assert error.retryable
    assert error.attempts == 3
    assert proxy.actions() == [WEB] * 3
    assert len(stand.sleeps) == 2
    assert error.message.startswith(f"AWS STS {WEB} for {stand.gate_arn} failed: Throttling")
    assert "gave up after 3 attempts" in error.message
    assert error.exit_code == 3
    _no_leak(stand, proxy, error, capfd)


@pytest.mark.parametrize(
    ("action", "code", "fix"),
    [
        ("AssumeRole", "AccessDenied", "sts:TagSession"),
        (WEB, "AccessDenied", "sts:AssumeRoleWithWebIdentity"),
        (WEB, "InvalidIdentityToken", "OIDC identity provider"),
        (WEB, "ExpiredTokenException", "fresh one"),
    ],
)
def test_refusals_are_never_retried(
    stand: Stand,
    proxy: StsProxy,
    capfd: pytest.CaptureFixture[str],
    action: str,
    code: str,
    fix: str,
) -> None:
    proxy.errors.append(QueuedError(action, code))
    with pytest.raises(ProviderRefused) as caught:
        stand.provider(proxy.url).mint(stand.request(), stand.token)
    error = caught.value
    assert proxy.calls(action) == proxy.calls(action)[:1]  # exactly one request for the call
    assert len(proxy.calls(action)) == 1
    assert stand.sleeps == []
    assert not error.retryable
    assert error.code == code
    role = stand.target_arn if action == "AssumeRole" else stand.gate_arn
    assert error.message.startswith(f"AWS STS {action} for {role} failed: {code} (HTTP 400)")
    assert fix in (error.fix or "")
    _no_leak(stand, proxy, error, capfd)


def test_a_read_timeout_is_retried_then_fails_as_a_mint_error(
    stand: Stand, proxy: StsProxy, capfd: pytest.CaptureFixture[str]
) -> None:
    faults(proxy, Fault.TIMEOUT, Fault.TIMEOUT)
    with pytest.raises(MintError) as caught:
        stand.provider(proxy.url, attempts=2, read_timeout=0.3).mint(stand.request(), stand.token)
    error = caught.value
    assert error.retryable
    assert "got no complete answer (ReadTimeoutError)" in error.message
    assert [s.fault for s in proxy.seen] == [Fault.TIMEOUT, Fault.TIMEOUT]
    assert len(stand.sleeps) == 1
    _no_leak(stand, proxy, error, capfd)


def test_a_reset_then_success(stand: Stand, proxy: StsProxy) -> None:
    faults(proxy, Fault.RESET)
    issued = stand.provider(proxy.url).mint(stand.request(), stand.token)
    assert issued.credential.session_arn
    assert proxy.actions() == [WEB, "AssumeRole"]  # the reset request never reached moto
    assert len(proxy.seen) == 3


def test_nothing_listening_is_a_retryable_connection_error(stand: Stand) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(MintError) as caught:
        stand.provider(url, attempts=2).mint(stand.request(), stand.token)
    assert caught.value.retryable
    assert "could not connect" in caught.value.message
    assert len(stand.sleeps) == 1
