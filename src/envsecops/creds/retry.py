"""Bounded retries with capped exponential backoff and full jitter, shared by every provider."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from envsecops.creds.interface import MintError

T = TypeVar("T")


def _uniform(low: float, high: float) -> float:
    return random.uniform(low, high)  # noqa: S311 - jitter, not secrecy


@dataclass(frozen=True, slots=True)
class Backoff:
    """``attempts`` tries in all; before retry n, sleep a uniform draw in [0, min(cap, base·2ⁿ⁻¹)].

    Full jitter (every waiting client picks anywhere under the ceiling) spreads a fleet of
    runners that were throttled together. ``sleep`` and ``draw`` are injectable for tests.
    """

    attempts: int = 4
    base: float = 0.25
    cap: float = 4.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    draw: Callable[[float, float], float] = field(default=_uniform)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base < 0 or self.cap < 0:
            raise ValueError("a backoff needs at least one attempt and non-negative delays")

    def ceiling(self, retry: int) -> float:
        """The most retry number ``retry`` (1-based) may wait."""
        return float(min(self.cap, self.base * 2 ** (retry - 1)))

    def pause(self, retry: int) -> float:
        """Sleep before retry number ``retry``; returns the delay slept."""
        delay = self.draw(0.0, self.ceiling(retry))
        self.sleep(delay)
        return delay


NO_RETRY = Backoff(attempts=1)


def with_retries(
    backoff: Backoff, call: Callable[[], T], classify: Callable[[Exception], MintError]
) -> T:
    """Run ``call``; on failure ``classify`` the exception and retry while it is retryable.

    A non-retryable error is raised at once; a retryable one after the last attempt, saying how
    many attempts were made. Exceptions ``classify`` does not recognise propagate unchanged
    (it re-raises them), so a programming error is never mistaken for a flaky service.
    """
    for attempt in range(1, backoff.attempts + 1):
        try:
            return call()
        except MintError:
            raise
        except Exception as exc:  # classify decides, and re-raises what it does not know
            error = classify(exc)
            if not error.retryable or attempt == backoff.attempts:
                raise error.with_attempts(attempt) from exc
        backoff.pause(attempt)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
