"""Top-level argument parser, subcommand dispatch, and the mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from typing import Protocol, cast

from envsecops import __version__
from envsecops.errors import EnvsecopsError, ExitCode


class Subcommand(Protocol):
    """A subcommand module: registers its arguments, runs from parsed arguments."""

    def add_parser(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Register the subcommand's parser."""

    def run(self, args: argparse.Namespace) -> int:
        """Run and return an exit code."""


SUBCOMMANDS = {
    "pin-check": "pin_check",
    "attest": "attest",
    "verify": "verify",
    "mint": "mint",
    "record": "record",
    "audit": "audit",
    "policy": "policy",
    "demo": "demo",
    "trust-policy": "trust_policy",
    "doctor": "doctor",
}
"""Each command and the module under envsecops.cli that defines it, in help order."""


def _subcommands(only: str | None = None) -> list[Subcommand]:
    """The command modules: just ``only``'s when it names one (a run imports only what it
    needs: every CI step pays for start-up), else all of them (help, errors)."""
    names = [SUBCOMMANDS[only]] if only in SUBCOMMANDS else list(SUBCOMMANDS.values())
    return [cast(Subcommand, importlib.import_module(f"envsecops.cli.{name}")) for name in names]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or only the command ``only`` names."""
    parser = argparse.ArgumentParser(
        prog="envsecops",
        description="Check the ID and the bag: pin-check, attest, verify, mint, record.",
    )
    parser.add_argument("--version", action="version", version=f"envsecops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _subcommands(only):
        module.add_parser(subparsers)
    return parser


def _fail(code: ExitCode, message: str) -> int:
    print(f"envsecops: error: {message}", file=sys.stderr)
    return int(code)


def main(argv: list[str] | None = None) -> int:
    """Run envsecops; every outcome is an exit code, never a traceback."""
    args_list = sys.argv[1:] if argv is None else argv
    if args_list == ["--version"]:
        print(f"envsecops {__version__}")
        return 0
    parser = build_parser(only=args_list[0] if args_list else None)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else int(ExitCode.USAGE)
    runner: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if runner is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    try:
        return runner(args)
    except EnvsecopsError as exc:
        return _fail(exc.exit_code, exc.diagnostics())
    except KeyboardInterrupt:
        return _fail(ExitCode.INFRA, "interrupted")
    except Exception as exc:  # noqa: BLE001 - the last line of defence: fail closed, explained
        return _fail(
            ExitCode.INFRA,
            f"internal error ({type(exc).__name__}: {exc}); the step fails closed. "
            "Please report this with the command line you ran.",
        )
