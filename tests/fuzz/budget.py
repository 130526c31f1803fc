"""Per-parser example budgets, the Hypothesis settings built from them, and the run counter."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta

from hypothesis import HealthCheck, settings

SCALE_ENV = "ENVSECOPS_FUZZ_EXAMPLES"
RANDOM_ENV = "ENVSECOPS_FUZZ_RANDOM"
DEADLINE = timedelta(seconds=10)
"""The hang bound per example: generous, because CI machines are shared and slow at times
(a parser that hangs takes far longer); examples run in well under 0.1 s here."""

RAN: Counter[str] = Counter()
"""How many examples each parser's properties ran this session (read by the summary hook)."""


def scale() -> float:
    """The multiplier from ``ENVSECOPS_FUZZ_EXAMPLES`` (default 1; e.g. 20 for a long run)."""
    raw = os.environ.get(SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"{SCALE_ENV} must be a number (a multiplier), not {raw!r}") from exc
    return max(value, 0.01)


def fuzz_settings(examples: int) -> settings:
    """Settings for one property: ``examples`` scaled, the hang deadline, no slow-data nags.

    The suite derandomizes (the same examples every run, so CI never turns red by chance);
    ``ENVSECOPS_FUZZ_RANDOM=1`` explores new ones, e.g. with a larger
    ``ENVSECOPS_FUZZ_EXAMPLES``.
    """
    return settings(
        max_examples=max(1, round(examples * scale())),
        deadline=DEADLINE,
        derandomize=os.environ.get(RANDOM_ENV) != "1",
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def ran(parser: str) -> None:
    """Count one example for ``parser``."""
    RAN[parser] += 1
