"""What a check is: rule metadata, the emitter it reports through, and the check interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envsecops.model import Confidence, Finding, Severity
from envsecops.syntax.yaml import Node, end_position, position

if TYPE_CHECKING:
    from envsecops.pins.documents.base import Document
    from envsecops.pins.kinds import FileKind

DOCS_URL = "https://github.com/envsecops/envsecops/blob/main/docs/pin-check.md"


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's identity and documentation; the id is the same in config, JSON and SARIF."""

    id: str
    title: str
    severity: Severity
    confidence: Confidence
    help: str

    @property
    def help_uri(self) -> str:
        """The rule's section in docs/pin-check.md."""
        return f"{DOCS_URL}#{self.id}"


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based span in a file."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    @classmethod
    def of(cls, node: Node) -> Location:
        """The span of a YAML node."""
        line, column = position(node)
        end_line, end_column = end_position(node)
        return cls(line, column, end_line, end_column)


class Emitter:
    """Collects the findings of the checks run on one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def emit(
        self,
        rule: Rule,
        at: Location,
        reference: str,
        message: str,
        *,
        fix: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
    ) -> None:
        """Record one finding for ``rule`` at ``at``."""
        self.findings.append(
            Finding(
                rule_id=rule.id,
                severity=severity or rule.severity,
                confidence=confidence or rule.confidence,
                path=self.path,
                line=at.line,
                column=at.column,
                reference=reference,
                message=message,
                fix=fix,
                end_line=at.end_line,
                end_column=at.end_column,
            )
        )


class Check(ABC):
    """One check: the rules it may report and the file kinds it reads."""

    rules: tuple[Rule, ...]
    kinds: frozenset[FileKind]

    @abstractmethod
    def run(self, document: Document, emitter: Emitter) -> None:
        """Inspect one parsed document and emit findings."""
