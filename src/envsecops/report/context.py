"""What every renderer may need besides the result itself."""

from __future__ import annotations

from dataclasses import dataclass

from envsecops.model import Severity


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Tool version, the threshold that fails the step, and where the policy came from."""

    version: str
    fail_on: Severity
    policy_source: str | None
