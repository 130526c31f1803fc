"""Exit codes and the error hierarchy: every failure carries what happened and the fix."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes shared by every subcommand (DESIGN §6)."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    INFRA = 3


class EnvsecopsError(Exception):
    """Base error: a message, an optional fix, and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def diagnostics(self) -> str:
        """Return a human explanation: what happened and how to fix it."""
        text = self.message
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class UsageError(EnvsecopsError):
    """The command line was wrong."""


class InputError(EnvsecopsError):
    """An input file could not be used; names the file and, where known, line and column."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        fix: str | None = None,
    ) -> None:
        where = ""
        if path is not None:
            where = path
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(where + message, fix=fix)
        self.path = path
        self.line = line
        self.column = column


class InfraError(EnvsecopsError):
    """A service we depend on (GitHub API, signer, provider, ledger) failed."""

    exit_code = ExitCode.INFRA
