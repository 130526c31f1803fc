"""Pin-check findings: rule id, severity, confidence, location, reference, message, fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is, lowest first."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Order for comparisons and thresholds."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


class Confidence(StrEnum):
    """How sure a check is that the finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Finding:
    """One pin-check result, located in a file (1-based line and column)."""

    rule_id: str
    severity: Severity
    confidence: Confidence
    path: str
    line: int
    column: int
    reference: str
    message: str
    fix: str | None = None
    end_line: int | None = None
    end_column: int | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Stable output order: file, position, rule, reference."""
        return (self.path, self.line, self.column, self.rule_id, self.reference)
