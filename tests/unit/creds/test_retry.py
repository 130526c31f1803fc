"""Bounded retries with full jitter: what is retried, how long it waits, when it stops."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from envsecops.creds.interface import MintError, ProviderRefused
from envsecops.creds.retry import Backoff, with_retries


class Flaky(Exception):
    """A failure the classifier below calls retryable."""


class Final(Exception):
    """A failure the classifier below calls final."""


def _classify(exc: Exception) -> MintError:
    if isinstance(exc, Flaky):
        return MintError("flaky", fix="wait", service="S", call="C", target="T", retryable=True)
    if isinstance(exc, Final):
        return ProviderRefused("no", fix="stop", service="S", call="C", target="T")
    raise exc


def _calls(*outcomes: Exception | str) -> tuple[list[int], Callable[[], str]]:
    seen: list[int] = []

    def call() -> str:
        seen.append(1)
        outcome = outcomes[len(seen) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return seen, call


def test_ceilings_double_up_to_the_cap() -> None:
    backoff = Backoff(base=0.25, cap=1.5)
    assert [backoff.ceiling(n) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.5, 1.5]


def test_full_jitter_draws_between_zero_and_the_ceiling() -> None:
    draws: list[tuple[float, float]] = []
    slept: list[float] = []

    def draw(low: float, high: float) -> float:
        draws.append((low, high))
        return high / 3

    backoff = Backoff(base=0.5, cap=4.0, sleep=slept.append, draw=draw)
    seen, call = _calls(Flaky(), Flaky(), "ok")
    assert with_retries(backoff, call, _classify) == "ok"
    assert draws == [(0.0, 0.5), (0.0, 1.0)]
    assert slept == [0.5 / 3, 1.0 / 3]
    assert len(seen) == 3


def test_real_jitter_stays_under_the_ceiling() -> None:
    slept: list[float] = []
    backoff = Backoff(base=0.2, cap=0.3, sleep=slept.append)
    for retry in range(1, 50):
        backoff.pause(retry)
    assert all(0.0 <= s <= 0.3 for s in slept)
    assert len(set(slept)) > 1


def test_a_final_error_is_raised_at_once() -> None:
    slept: list[float] = []
    seen, call = _calls(Final(), "never")
    with pytest.raises(ProviderRefused) as caught:
        with_retries(Backoff(sleep=slept.append), call, _classify)
    assert len(seen) == 1
    assert slept == []
    assert isinstance(caught.value.__cause__, Final)


def test_retryable_errors_stop_after_the_attempts() -> None:
    slept: list[float] = []
    seen, call = _calls(Flaky(), Flaky(), Flaky(), "never")
    with pytest.raises(MintError) as caught:
        with_retries(Backoff(attempts=3, sleep=slept.append), call, _classify)
    assert len(seen) == 3
    assert len(slept) == 2
    assert caught.value.attempts == 3
    assert caught.value.message == "flaky (gave up after 3 attempts)"


def test_unknown_exceptions_propagate_unchanged() -> None:
    seen, call = _calls(KeyError("bug"), "never")
    with pytest.raises(KeyError):
        with_retries(Backoff(sleep=lambda _s: None), call, _classify)
    assert len(seen) == 1


def test_a_mint_error_raised_inside_the_call_is_not_reclassified() -> None:
    error = MintError("inner", fix="f", service="S", call="C", target="T", retryable=True)
    seen, call = _calls(error, "never")
    with pytest.raises(MintError) as caught:
        with_retries(Backoff(sleep=lambda _s: None), call, _classify)
    assert caught.value is error
    assert len(seen) == 1


def test_a_backoff_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        Backoff(attempts=0)
