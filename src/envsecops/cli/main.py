"""Top-level argument parser, subcommand dispatch, and the mapping of errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Protocol

from envsecops import __version__
from envsecops.errors import EnvsecopsError, ExitCode


class Subcommand(Protocol):
    """A subcommand module: registers its arguments, runs from parsed arguments."""

    def add_parser(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Register the subcommand's parser."""

    def run(self, args: argparse.Namespace) -> int:
        """Run and return an exit code."""


def _subcommands() -> list[Subcommand]:
    from envsecops.cli import (
        attest,
        audit,
        demo,
        doctor,
        mint,
        pin_check,
        policy,
        record,
        trust_policy,
        verify,
    )

    return [pin_check, attest, verify, mint, record, audit, policy, demo, trust_policy, doctor]


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="envsecops",
        description="Check the ID and the bag: pin-check, attest, verify, mint, record.",
    )
    parser.add_argument("--version", action="version", version=f"envsecops {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _subcommands():
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
    parser = build_parser()
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
