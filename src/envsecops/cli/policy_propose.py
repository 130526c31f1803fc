"""`envsecops policy propose`: the allowlist change a new bag needs, as a diff or a pull request."""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from envsecops.model.bag import Bag
    from envsecops.policy.amend import Amendment

DEFAULT_POLICY = ".github/envsecops.yml"
DEFAULT_API_URL = "https://api.github.com"
MAX_LISTED = 200
"""Lines of `added` and `refused` a pull request body lists before "and N more"."""
MAX_LINE = 400


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `policy propose`."""
    from envsecops.cli.policy import add_bag_option

    p = commands.add_parser(
        "propose",
        help="open a pull request with the allowlist entries a new bag needs",
        description="Evaluate the bag against the current policy (the default branch's, "
        "through the GitHub API, with --repository or $GITHUB_REPOSITORY in Actions; else the "
        "local file), add the entries that would allow it (keeping every comment), and open a "
        "pull request, or print the unified diff with --dry-run. Reasons no allowlist entry "
        "should clear (a denied package, a runner mismatch, a problem component, a tag-pinned "
        "action, pin findings) are listed, never proposed. Exit 0 when the amended policy "
        "allows the bag, 1 when refused reasons remain, 2 bad input, 3 the GitHub API failed.",
    )
    add_bag_option(p)
    p.add_argument(
        "--policy",
        default=DEFAULT_POLICY,
        metavar="PATH",
        help=f"the policy file, repository-relative with --repository (default: {DEFAULT_POLICY})",
    )
    p.add_argument(
        "--repository",
        metavar="OWNER/REPO",
        help="read the policy from this repository's default branch and open the "
        "pull request there (default in Actions: $GITHUB_REPOSITORY)",
    )
    p.add_argument(
        "--api-url",
        metavar="URL",
        help=f"the REST API (default: $GITHUB_API_URL or {DEFAULT_API_URL})",
    )
    p.add_argument("--branch", help="the pull request's branch (default: envsecops/policy-<hash>)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the unified diff and what was refused; open nothing",
    )
    p.set_defaults(handler=run)


@dataclass(frozen=True, slots=True)
class ProposeOptions:
    """The parsed command line."""

    bag: Path
    policy: str
    repository: str | None
    api_url: str
    branch: str | None
    dry_run: bool
    token: str | None


def options(args: argparse.Namespace, environ: Mapping[str, str]) -> ProposeOptions:
    """Validate the command line against the environment."""
    repository = args.repository
    if repository is None and environ.get("GITHUB_ACTIONS") == "true":
        repository = environ.get("GITHUB_REPOSITORY") or None
    if repository is None and not args.dry_run:
        raise UsageError(
            "propose opens a pull request, so it needs the repository",
            fix="pass --repository OWNER/REPO, or --dry-run to print the diff of the local file",
        )
    token = environ.get("ENVSECOPS_GITHUB_TOKEN") or environ.get("GITHUB_TOKEN") or None
    return ProposeOptions(
        bag=args.bag,
        policy=args.policy,
        repository=repository,
        api_url=args.api_url or environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
        branch=args.branch,
        dry_run=args.dry_run,
        token=token,
    )


def _current(opts: ProposeOptions) -> tuple[str, str]:
    """The current policy text and where it came from."""
    from envsecops.errors import InputError
    from envsecops.policy.load import PolicyMissingError

    if opts.repository is not None:
        from envsecops.policy.fetch import fetch_default_branch_policy

        fetched = fetch_default_branch_policy(
            opts.repository, opts.policy, token=opts.token, api_url=opts.api_url
        )
        return fetched.text, fetched.source
    path = Path(opts.policy)
    try:
        return path.read_text(encoding="utf-8"), opts.policy
    except FileNotFoundError as exc:
        raise PolicyMissingError(
            "there is no policy file to amend",
            path=opts.policy,
            fix="draft the first one with `envsecops policy init --from bag.json > "
            f"{DEFAULT_POLICY}`",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the policy file: {exc}", path=opts.policy) from exc


def run(args: argparse.Namespace) -> int:
    """Amend the policy for the bag; print the diff or open the pull request."""
    from envsecops.cli.policy import load_bag
    from envsecops.policy.amend import amend_policy
    from envsecops.policy.load import load_policy_text

    opts = options(args, os.environ)
    bag = load_bag(opts.bag)
    text, source = _current(opts)
    policy = load_policy_text(text, source)
    amendment = amend_policy(text, policy, bag)
    _report(amendment, source)
    if not amendment.changed:
        print(
            f"envsecops: nothing to propose: {source} needs no new entry for this bag",
            file=sys.stderr,
        )
    elif opts.dry_run or opts.repository is None:
        sys.stdout.write(unified_diff(text, amendment.text, opts.policy))
    else:
        from envsecops.policy.propose_pr import open_policy_pull_request

        url = open_policy_pull_request(
            opts.repository,
            opts.policy,
            amendment.text,
            title=title(bag, amendment),
            body=body(bag, amendment, source),
            token=opts.token,
            api_url=opts.api_url,
            branch=opts.branch,
        )
        print(url)
    return int(ExitCode.FINDINGS if amendment.refused else ExitCode.OK)


def _report(amendment: Amendment, source: str) -> None:
    out = sys.stderr
    print(
        f"envsecops: {len(amendment.added)} entr{'y' if len(amendment.added) == 1 else 'ies'} "
        f"to add to {source}",
        file=out,
    )
    for line in amendment.added:
        print(f"  + {line}", file=out)
    if amendment.refused:
        print(
            f"envsecops: {len(amendment.refused)} reason(s) not proposed (the bag stays "
            "denied for them):",
            file=out,
        )
        for line in amendment.refused:
            print(f"  ! {_cut(line)}", file=out)


def unified_diff(old: str, new: str, path: str) -> str:
    """The change as a unified diff of ``path``."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def title(bag: Bag, amendment: Amendment) -> str:
    """The pull request title."""
    count = len(amendment.added)
    entries = f"{count} new entr{'y' if count == 1 else 'ies'}"
    return f"envsecops: allow bag {bag.env_hash[:19]}… ({entries})"


def body(bag: Bag, amendment: Amendment, source: str) -> str:
    """The pull request body: the bag, what was added, what was refused and why."""
    lines = [
        "Proposed by `envsecops policy propose`: the allowlist entries this bag needs.",
        "",
        f"- bag: `{bag.env_hash}` (created {bag.created_at or 'unknown'} by "
        f"{bag.tool or 'an unknown tool'})",
        f"- policy read from: `{source}`",
        "",
        "Review each entry: a new digest means a changed binary, config or tree; a new "
        "version or commit means an upgrade. Every edited line ends in `# proposed: <reason>`.",
        "",
        f"### Added ({len(amendment.added)})",
        "",
        *_listed(amendment.added),
    ]
    if amendment.refused:
        lines += [
            "",
            f"### Not proposed ({len(amendment.refused)}): the bag stays denied for these",
            "",
            "No allowlist entry should clear them; fix the runner or the workflow instead.",
            "",
            *_listed(amendment.refused),
        ]
    return "\n".join(lines) + "\n"


def _listed(items: tuple[str, ...]) -> list[str]:
    shown = ["- `" + _cut(item).replace("`", "'") + "`" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        shown.append(f"- … and {len(items) - MAX_LISTED} more")
    return shown or ["- (none)"]


def _cut(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE else flat[: MAX_LINE - 1] + "…"
