"""One expectation of the demo checked: whether it held, and the line that says so."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    """One expectation checked: whether it held, and the line that says so."""

    ok: bool
    text: str
