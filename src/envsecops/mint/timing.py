"""Where a mint's wall time goes: named phases, timed with a monotonic clock, summed by name."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

PHASES = ("decision", "re-inventory", "token", "ledgers", "provider", "export")
"""The phases a mint reports, in the order they first run."""


class Timings:
    """Seconds per phase; a phase entered twice (the ledgers: intent, then issued) adds up."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._started = clock()
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block under ``name`` (also when it raises)."""
        start = self._clock()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + self._clock() - start

    def total(self) -> float:
        """Seconds since these timings were started."""
        return self._clock() - self._started

    def line(self) -> str:
        """``mint timings (s): decision 0.004, re-inventory 0.120, … total 0.300``."""
        names = [n for n in PHASES if n in self.seconds]
        names += sorted(n for n in self.seconds if n not in PHASES)
        parts = [f"{name} {self.seconds[name]:.3f}" for name in names]
        return "mint timings (s): " + ", ".join([*parts, f"total {self.total():.3f}"])
