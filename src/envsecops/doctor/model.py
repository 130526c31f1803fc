"""The doctor's values: a check's status, its result with the fix, and the report of a run.

"Cannot check" is a value, never a silent pass: a token that may not read a setting leaves the
setting unknown, and the report's exit code treats unknown like a failure (fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from envsecops.errors import ExitCode


class Status(StrEnum):
    """The outcome of one check; the values are the stable JSON strings."""

    PASS = "pass"  # noqa: S105 - a status, not a secret
    FAIL = "fail"
    CANNOT_CHECK = "cannot-check"


@dataclass(frozen=True, slots=True)
class Target:
    """What is checked: ``kind`` is "repo" (``name`` = OWNER/NAME) or "org" (``name`` = ORG)."""

    kind: str
    name: str

    @property
    def owner(self) -> str:
        """The organization, or the repository's owner."""
        return self.name.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its stable kebab-case id, a title, the status, what was seen and the fix.

    ``fix`` is empty for a pass; otherwise it names the API call or the settings path (or, for
    "cannot check", the permission the token lacks). ``evidence`` lists the requests read.
    """

    id: str
    title: str
    status: Status
    detail: str
    fix: str = ""
    evidence: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status is not Status.PASS and not self.fix:
            raise ValueError(f"check {self.id}: a {self.status} result needs a fix")


@dataclass(frozen=True, slots=True)
class Report:
    """Every check's result for one target, in the registry's order."""

    target: Target
    results: tuple[CheckResult, ...] = field(default_factory=tuple)

    def count(self, status: Status) -> int:
        """How many results have ``status``."""
        return sum(1 for result in self.results if result.status is status)

    @property
    def exit_code(self) -> ExitCode:
        """0 only when every check passed; a failure or a check that could not run is 1.

        An empty report is 1 as well: no evidence is not a pass.
        """
        if self.results and all(result.status is Status.PASS for result in self.results):
            return ExitCode.OK
        return ExitCode.FINDINGS
