"""`envsecops policy`: init (draft from a bag), test (policy unit tests), diff (replay), propose."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envsecops.cli import policy_propose
from envsecops.errors import ExitCode, InputError, UsageError

if TYPE_CHECKING:
    from envsecops.model.bag import Bag
    from envsecops.policy.model import Policy

DEFAULT_POLICY = ".github/envsecops.yml"
DEFAULT_TESTS = ".github/envsecops-tests"
FORMATS = ("text", "json")
NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `policy` and its subcommands."""
    parser = subparsers.add_parser(
        "policy",
        help="draft, test, replay and propose the allowlist (.github/envsecops.yml)",
        description="Policy-as-code tooling: `init` drafts an allowlist from a bag, `test` runs "
        "policy unit tests, `diff` replays recorded bags under two policies, `propose` opens "
        "a pull request with the entries a new bag needs.",
    )
    parser.set_defaults(handler=lambda _args: _no_subcommand(parser))
    commands = parser.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    _add_init(commands)
    _add_test(commands)
    _add_diff(commands)
    policy_propose.add_parser(commands)


def _no_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return int(ExitCode.USAGE)


def add_bag_option(p: argparse.ArgumentParser) -> None:
    """`--from BAG_JSON` (required), as `init` and `propose` take it."""
    p.add_argument(
        "--from",
        dest="bag",
        type=Path,
        required=True,
        metavar="BAG_JSON",
        help="the bag.json attest wrote",
    )


def _add_init(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "init",
        help="draft a policy that allows exactly one bag",
        description="Draft readable, grouped, commented YAML that allows exactly the bag "
        "given (review it before committing it as .github/envsecops.yml). Writes to stdout, "
        "or to --out, which must not exist yet.",
    )
    add_bag_option(p)
    p.add_argument(
        "--name",
        help="the policy name, [A-Za-z0-9._-]{1,64} (default: the "
        "repository name in $GITHUB_REPOSITORY, else this folder's)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the draft here instead of stdout; never overwrites",
    )
    p.set_defaults(handler=run_init)


def _add_test(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "test",
        help="run policy unit tests (YAML cases: a bag and the expected verdict and reasons)",
        description="Run every case file (*.yml, *.yaml) under DIR. Exit 0 all pass, 1 a case "
        "failed, 2 a case could not be loaded or there was none.",
    )
    p.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path(DEFAULT_TESTS),
        metavar="DIR",
        help=f"the folder of cases (default: {DEFAULT_TESTS})",
    )
    p.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help=f"the policy for cases that name none (default: {DEFAULT_POLICY} when it exists)",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="report format")
    p.set_defaults(handler=run_test)


def _add_diff(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "diff",
        help="replay recorded bags under an old and a new policy; list verdict flips",
        description="Judge every bag.json / *.bag.json under --bags by both policies and list "
        "each run whose verdict would flip. Exit 0 no flips, 1 flips, 2 bad input (or no bag "
        "found: nothing replayed is not a safe rollout).",
    )
    p.add_argument("old", type=Path, metavar="OLD", help="the policy in force")
    p.add_argument("new", type=Path, metavar="NEW", help="the policy to roll out")
    p.add_argument(
        "--bags",
        type=Path,
        required=True,
        metavar="DIR",
        help="a folder of recorded bags (searched recursively)",
    )
    p.add_argument("--format", choices=FORMATS, default="text", help="report format")
    p.set_defaults(handler=run_diff)


def load_bag(path: Path) -> Bag:
    """bag.json, or an InputError naming the file."""
    from envsecops.policy.outcome import read_bag

    return read_bag(path, str(path))


def load_policy(path: Path) -> Policy:
    """A policy file, or an InputError naming the file (a missing file says how to draft one)."""
    from envsecops.policy.load import load_policy_file

    return load_policy_file(path, str(path))


def default_name(environ: dict[str, str] | os._Environ[str], cwd: Path) -> str:
    """A policy name: the repository's name, else the folder's, made of allowed characters."""
    repository = environ.get("GITHUB_REPOSITORY", "")
    raw = repository.rpartition("/")[2] or cwd.name
    name = NAME_CHARS.sub("-", raw).strip("-.")[:64]
    return name or "envsecops"


def run_init(args: argparse.Namespace) -> int:
    """Draft the policy and write it to stdout or to a new file."""
    from envsecops.policy.render import draft_policy

    bag = load_bag(args.bag)
    name = args.name if args.name is not None else default_name(os.environ, Path.cwd())
    draft = draft_policy(bag, name=name)
    if args.out is None:
        sys.stdout.write(draft.text)
    else:
        _write_new(args.out, draft.text)
    where = "stdout" if args.out is None else str(args.out)
    print(
        f"envsecops: drafted policy {name!r} from bag {bag.env_hash} to {where}; review it, "
        f"then commit it as {DEFAULT_POLICY}",
        file=sys.stderr,
    )
    if draft.denied:
        print(
            f"envsecops: the bag stays denied for {len(draft.denied)} reason(s) no policy entry "
            "can clear (listed at the end of the draft):",
            file=sys.stderr,
        )
        for code, subject, why in draft.denied:
            print(f"  ! {code} {subject}: {why}", file=sys.stderr)
    return int(ExitCode.OK)


def _write_new(path: Path, text: str) -> None:
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as exc:
        raise UsageError(
            f"{path} already exists; `policy init` never overwrites a policy",
            fix="choose another --out, or move the existing file away first",
        ) from exc
    except OSError as exc:
        raise InputError(f"cannot write the draft: {exc.strerror or exc}", path=str(path)) from exc


def _emit(report: Any, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.render_text())


def run_test(args: argparse.Namespace) -> int:
    """Run the policy unit tests and print the report."""
    from envsecops.policy.testing import run_policy_tests

    policy = args.policy
    if policy is None and Path(DEFAULT_POLICY).is_file():
        policy = Path(DEFAULT_POLICY)
    elif policy is not None and not policy.is_file():
        raise InputError(
            "there is no policy file here",
            path=str(policy),
            fix="pass --policy with the policy under test",
        )
    report = run_policy_tests(args.directory, policy)
    _emit(report, args.format)
    return int(report.exit_code)


def run_diff(args: argparse.Namespace) -> int:
    """Replay the bags under both policies and print the flips."""
    from envsecops.policy.replay import replay

    old, new = load_policy(args.old), load_policy(args.new)
    report = replay(old, new, args.bags)
    _emit(report, args.format)
    return int(report.exit_code)


def run(args: argparse.Namespace) -> int:
    """Dispatch (kept for callers that run the module directly)."""
    handler = getattr(args, "handler", None)
    if handler is None or handler is run:
        raise UsageError("choose a subcommand: init, test, diff or propose")
    return int(handler(args))
