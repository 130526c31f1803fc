"""`envsecops pin-check`: parse arguments, build the run, render, map to an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from envsecops.errors import ExitCode, UsageError
from envsecops.model import Severity

FORMATS = ("text", "json", "sarif", "github")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `pin-check`."""
    parser = subparsers.add_parser(
        "pin-check",
        help="report every reference that is not pinned immutably",
        description="Find unpinned `uses:`, images, FROM lines and dependency installs.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[Path()], help="files or directories"
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument("--sarif-file", type=Path, help="also write a SARIF 2.1.0 report here")
    parser.add_argument("--include", action="append", default=[], metavar="GLOB")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    parser.add_argument(
        "--policy", type=Path, help="policy file (default: .github/envsecops.yml when present)"
    )
    parser.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=Severity.LOW.value,
        help="lowest severity that fails the run (default: low; info never fails by default)",
    )
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (default: CPUs)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run pin-check and return 0 (clean), 1 (findings) or 2 (bad input)."""
    from envsecops import __version__
    from envsecops.pins.engine import PinCheckOptions, run_pin_check
    from envsecops.pins.registry import RULES
    from envsecops.policy.pins import PinsPolicy, load_pins_policy
    from envsecops.report.context import RenderContext

    paths = tuple(args.paths)
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory")
    base = Path.cwd()
    policy_path: Path | None = args.policy
    if policy_path is None:
        root = paths[0] if paths[0].is_dir() else paths[0].parent
        candidate = root / ".github" / "envsecops.yml"
        policy_path = candidate if candidate.is_file() else None
    elif not policy_path.is_file():
        raise UsageError(f"{policy_path}: policy file not found")
    policy = (
        load_pins_policy(policy_path, _display(policy_path, base), frozenset(RULES))
        if policy_path is not None
        else PinsPolicy(source=None)
    )
    options = PinCheckOptions(
        paths=paths,
        base=base,
        include=tuple(args.include),
        exclude=tuple(args.exclude),
        jobs=args.jobs,
    )
    report = run_pin_check(options, policy)
    if not report.files:
        raise UsageError(
            f"no files to check under {', '.join(str(p) for p in paths)} "
            "(workflows, actions, Dockerfiles, compose, Kubernetes, devcontainer, requirements)",
            fix="point pin-check at a repository root, or check --include/--exclude",
        )
    context = RenderContext(
        version=__version__, fail_on=Severity(args.fail_on), policy_source=policy.source
    )
    text = _render(args.format, report, context)
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.sarif_file is not None:
        args.sarif_file.write_text(_render("sarif", report, context), encoding="utf-8")
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from envsecops.report.pins_summary import append_summary

        append_summary(Path(os.environ["GITHUB_STEP_SUMMARY"]), report, context)
    failing = [f for f in report.findings if f.severity.rank >= context.fail_on.rank]
    return int(ExitCode.FINDINGS if failing else ExitCode.OK)


def _display(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _render(name: str, report: object, context: object) -> str:
    from envsecops.report import RENDERER_BY_NAME

    return RENDERER_BY_NAME[name](report, context)  # type: ignore[arg-type]
