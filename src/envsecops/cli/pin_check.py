"""`envsecops pin-check`: parse arguments, build the run, render, map to an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import ExitCode, UsageError
from envsecops.model import Severity

if TYPE_CHECKING:
    from envsecops.pins.engine import PinCheckOptions, PinReport
    from envsecops.pins.fix import FixResult
    from envsecops.pins.resolve import RefResolver
    from envsecops.policy.pins import PinsPolicy
    from envsecops.report.context import RenderContext

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
    parser.add_argument(
        "--online",
        action="store_true",
        help="also check through the GitHub API that each `@<sha> # vX` comment names that "
        "commit's tag (token from $GITHUB_TOKEN or $GH_TOKEN; anonymous works, rate-limited)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="rewrite unpinned `uses:` to `owner/repo@<sha> # <tag>` (resolved through the "
        "GitHub API, so implies --online), then check again",
    )
    parser.add_argument(
        "--github-api-url",
        metavar="URL",
        help="GitHub REST API for --online/--fix (default: $GITHUB_API_URL, else "
        "https://api.github.com)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run pin-check and return 0 (clean), 1 (findings), 2 (bad input) or 3 (API failure)."""
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
    resolver = _build_resolver(args.github_api_url) if args.online or args.fix else None
    fixed = _fix(options, policy, resolver) if args.fix and resolver is not None else None
    report = run_pin_check(options, policy)
    if not report.files:
        raise UsageError(
            f"no files to check under {', '.join(str(p) for p in paths)} "
            "(workflows, actions, Dockerfiles, compose, Kubernetes, devcontainer, requirements)",
            fix="point pin-check at a repository root, or check --include/--exclude",
        )
    if resolver is not None:
        from envsecops.pins.online import add_online_findings

        report = add_online_findings(report, base, resolver, policy, options.today)
    context = RenderContext(
        version=__version__, fail_on=Severity(args.fail_on), policy_source=policy.source
    )
    text = _render(args.format, report, context)
    if args.format == "text" and args.output is None and os.environ.get("GITHUB_ACTIONS") == "true":
        from envsecops.gh.commands import stop_commands

        text = stop_commands(text)  # file names and messages are untrusted: no workflow commands
    if args.output is not None:
        _write(args.output, text, "--output")
    else:
        sys.stdout.write(text)
    if args.sarif_file is not None:
        _write(args.sarif_file, _render("sarif", report, context), "--sarif-file")
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from envsecops.report.pins_summary import append_summary

        written = append_summary(Path(os.environ["GITHUB_STEP_SUMMARY"]), report, context)
        if written.truncated:
            print(
                f"envsecops: the job summary was truncated ({written.omitted} bytes left out) "
                "to stay under GitHub's 1 MiB limit; the full report is above",
                file=sys.stderr,
            )
    failing = [f for f in report.findings if f.severity.rank >= context.fail_on.rank]
    unfixed = fixed is not None and any(item.blocking for item in fixed.not_fixed)
    return int(ExitCode.FINDINGS if failing or unfixed else ExitCode.OK)


def _build_resolver(api_url: str | None) -> RefResolver:
    """The GitHub resolver for --online/--fix; warns on stderr when it runs anonymously."""
    from envsecops.gh.api import api_settings
    from envsecops.pins.resolve import GitHubResolver

    settings = api_settings(api_url)
    if settings.anonymous_note:
        print(f"envsecops: note: {settings.anonymous_note}", file=sys.stderr)
    return GitHubResolver(settings)


def _fix(options: PinCheckOptions, policy: PinsPolicy, resolver: RefResolver) -> FixResult:
    """Rewrite what the first run reports as unpinned (not what it suppresses); print changes."""
    from envsecops.pins.engine import run_pin_check
    from envsecops.pins.fix import fix_files
    from envsecops.pins.rules.unpinned_uses import UNPINNED_USES

    before = run_pin_check(options, policy)
    skip = {
        (s.finding.path, s.finding.line, s.finding.column): f"suppressed ({s.by}: {s.reason})"
        for s in before.suppressed
        if s.finding.rule_id == UNPINNED_USES.id
    }
    files = [(options.base / rel, rel, kind) for rel, kind in before.files]
    result = fix_files(files, resolver, skip)
    for change in result.changes:
        note = f" ({change.note})" if change.note else ""
        _say(
            f"fixed {change.rel}:{change.line}:{change.column}: "
            f"{change.before} -> {change.after}{note}"
        )
    for item in result.not_fixed:
        _say(f"not fixed {item.rel}:{item.line}:{item.column}: {item.value}: {item.reason}")
    print(
        f"envsecops: --fix rewrote {len(result.changes)} reference(s) in "
        f"{len(result.written)} file(s); {len(result.not_fixed)} left as they were",
        file=sys.stderr,
    )
    return result


def _say(text: str) -> None:
    """One stderr line; control characters from files are escaped (no injected log lines)."""
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    print(f"envsecops: {safe}", file=sys.stderr)


def _write(path: Path, text: str, flag: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"{flag} {path}: cannot write the report ({exc.strerror})",
            fix=f"point {flag} at a writable file in an existing directory",
        ) from exc


def _display(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _render(name: str, report: PinReport, context: RenderContext) -> str:
    from envsecops.report import renderer

    return renderer(name)(report, context)
