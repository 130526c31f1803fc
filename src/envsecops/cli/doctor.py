"""`envsecops doctor`: check the GitHub settings a repository or an organization needs for the gate.

Parses the command line into :class:`DoctorOptions`, runs :func:`envsecops.doctor.run.run_doctor`
and prints the table or the JSON. Exit 0 when every check passed; 1 when any failed or could
not be checked (a token that may not read a setting proves nothing); 2 for bad usage; 3 when
the GitHub API could not be asked (unreachable, 5xx, rate limited, token refused).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from envsecops import __version__
from envsecops.errors import UsageError

ORG_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
TOKEN_ENVS = ("ENVSECOPS_GITHUB_TOKEN", "GITHUB_TOKEN")


@dataclass(frozen=True, slots=True)
class DoctorOptions:
    """The parsed command line; the token stays out of repr."""

    kind: str
    name: str
    policy_path: str
    gate_workflow: str | None
    output: str
    api_url: str


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `doctor`."""
    parser = subparsers.add_parser(
        "doctor",
        help="check a repository's or an organization's GitHub settings for the gate",
        description="Check through the GitHub API (token from $ENVSECOPS_GITHUB_TOKEN or "
        "$GITHUB_TOKEN): OIDC subjects with job_workflow_ref, read-only default workflow "
        "token, SHA pinning required, the policy file under CODEOWNERS on a protected default "
        "branch, and a ruleset requiring the gate workflow. Exit 0 all pass, 1 any fail or "
        "cannot check, 2 usage, 3 GitHub API unreachable. See docs/doctor.md.",
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--repo", metavar="OWNER/NAME", help="check one repository")
    target.add_argument("--org", metavar="NAME", help="check an organization's settings")
    parser.add_argument(
        "--gate-workflow",
        metavar="OWNER/REPO/.github/workflows/gate.yml[@REF]",
        help="the gate workflow a ruleset must require",
    )
    parser.add_argument(
        "--policy-path",
        default=".github/envsecops.yml",
        metavar="PATH",
        help="the policy file CODEOWNERS must cover (default: .github/envsecops.yml)",
    )
    parser.add_argument("--format", dest="output", choices=("text", "json"), default="text")
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="the GitHub REST API (default: $GITHUB_API_URL, else https://api.github.com)",
    )
    parser.set_defaults(handler=run)


def parse(args: argparse.Namespace, environ: Mapping[str, str]) -> DoctorOptions:
    """The options, checked before any request is built from them."""
    from envsecops.policy.remote import repository_name, repository_path

    if args.repo is not None:
        kind, name = "repo", repository_name(args.repo.strip())
    else:
        name = str(args.org).strip()
        if not ORG_NAME.fullmatch(name):
            raise UsageError(f"--org {name!r} is not a GitHub organization name")
        kind = "org"
    return DoctorOptions(
        kind=kind,
        name=name,
        policy_path=repository_path(args.policy_path),
        gate_workflow=args.gate_workflow,
        output=args.output,
        api_url=args.api_url or environ.get("GITHUB_API_URL") or "https://api.github.com",
    )


def token_from(environ: Mapping[str, str]) -> str | None:
    """$ENVSECOPS_GITHUB_TOKEN, else $GITHUB_TOKEN; None when neither is set."""
    return next((environ[n] for n in TOKEN_ENVS if environ.get(n, "").strip()), None)


def run(args: argparse.Namespace) -> int:
    """Run the checks and print the report; the exit code is the report's."""
    from envsecops.doctor.context import GateWorkflow, Options
    from envsecops.doctor.model import Target
    from envsecops.doctor.render import render_json, render_text
    from envsecops.doctor.run import run_doctor

    options = parse(args, os.environ)
    gate = GateWorkflow.parse(options.gate_workflow) if options.gate_workflow else None
    report = run_doctor(
        Target(options.kind, options.name),
        Options(options.policy_path, gate),
        api_url=options.api_url,
        token=token_from(os.environ),
    )
    text = render_json(report, __version__) if options.output == "json" else render_text(report)
    sys.stdout.write(text)
    return int(report.exit_code)
