"""`envsecops trust-policy aws|gcp`: cloud trust configuration that ties credentials to the gate.

The policies trust only GitHub OIDC tokens issued to the reusable gate workflow at a pinned ref
(``job_workflow_ref``) for listed repositories, so a job that skips the gate gets no credential
at all. Parses and validates the arguments, renders from the templates, prints or writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import ExitCode, InputError

if TYPE_CHECKING:
    from envsecops.trust.render import AwsRequest, GcpRequest, Rendered

DEFAULT_GATE_ROLE = "envsecops-gate"
DEFAULT_TARGET_ROLE = "envsecops-target"
DEFAULT_AUDIENCE = "sts.amazonaws.com"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gate-workflow",
        required=True,
        metavar="OWNER/REPO/.github/workflows/FILE.yml@REF",
        help="the reusable gate workflow; REF a full commit SHA (best) or refs/heads|tags/NAME",
    )
    parser.add_argument(
        "--repos",
        nargs="+",
        action="extend",
        default=[],
        required=True,
        metavar="OWNER/REPO@ID",
        help="repositories allowed to run the gate (OWNER/REPO@REPO_ID or "
        "OWNER@OWNER_ID/REPO@REPO_ID); repeatable",
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument(
        "--output-dir", type=Path, metavar="DIR", help="write the files here instead of printing"
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `trust-policy` and its providers."""
    parser = subparsers.add_parser(
        "trust-policy",
        help="generate the cloud trust policies that only trust the gate workflow",
        description="Render the AWS IAM trust policies or the GCP Workload Identity Federation "
        "provider that trust only GitHub OIDC tokens of the gate workflow at a pinned ref, for "
        "the listed repositories. Exit 0 rendered, 2 bad input.",
    )
    parser.set_defaults(handler=run)
    providers = parser.add_subparsers(dest="trust_provider", metavar="PROVIDER")

    aws = providers.add_parser("aws", help="gate role and target role policies (two hops)")
    _common(aws)
    aws.add_argument("--account-id", required=True, help="12-digit AWS account id")
    aws.add_argument(
        "--oidc-provider-arn",
        help="GitHub's IAM OIDC provider (default: arn:aws:iam::ACCOUNT:oidc-provider/"
        "token.actions.githubusercontent.com)",
    )
    aws.add_argument("--gate-role-name", default=DEFAULT_GATE_ROLE)
    aws.add_argument(
        "--target-role-arn",
        help=f"the role the job's credentials are for (default: role/{DEFAULT_TARGET_ROLE})",
    )
    aws.add_argument("--audience", default=DEFAULT_AUDIENCE)

    gcp = providers.add_parser("gcp", help="Workload Identity Federation provider (CEL)")
    _common(gcp)
    gcp.add_argument("--project-number", required=True, help="numeric project number")
    gcp.add_argument("--pool", required=True, help="workload identity pool id")
    gcp.add_argument("--provider", required=True, help="workload identity provider id")
    gcp.add_argument(
        "--service-account",
        help="also bind this service account (roles/iam.workloadIdentityUser) per repository",
    )


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen provider; without one, say how to choose (exit 2)."""
    provider = getattr(args, "trust_provider", None)
    if provider == "aws":
        return run_aws(args)
    if provider == "gcp":
        return run_gcp(args)
    print("envsecops: error: choose a provider: envsecops trust-policy aws|gcp", file=sys.stderr)
    return int(ExitCode.USAGE)


def build_aws(args: argparse.Namespace) -> AwsRequest:
    """Validate every AWS argument into a request (TrustInputError, exit 2, on the first bad)."""
    from envsecops.trust import inputs
    from envsecops.trust.render import AwsRequest

    gate = inputs.GateWorkflow.parse(args.gate_workflow)
    repos = inputs.parse_repos(args.repos, require_ids=False)
    account = inputs.account_id(args.account_id)
    provider_arn, partition = inputs.oidc_provider_arn(args.oidc_provider_arn, account)
    gate_role = inputs.role_name(args.gate_role_name)
    target = args.target_role_arn or f"arn:{partition}:iam::{account}:role/{DEFAULT_TARGET_ROLE}"
    return AwsRequest(
        gate=gate,
        repos=repos,
        account_id=account,
        oidc_provider_arn=provider_arn,
        partition=partition,
        gate_role_name=gate_role,
        target_role_arn=inputs.role_arn(target, partition),
        audience=inputs.audience(args.audience),
    )


def build_gcp(args: argparse.Namespace) -> GcpRequest:
    """Validate every GCP argument into a request; repository ids are required."""
    from envsecops.trust import inputs
    from envsecops.trust.render import GcpRequest

    return GcpRequest(
        gate=inputs.GateWorkflow.parse(args.gate_workflow),
        repos=inputs.parse_repos(args.repos, require_ids=True),
        project_number=inputs.project_number(args.project_number),
        pool=inputs.pool_or_provider(args.pool, "--pool"),
        provider=inputs.pool_or_provider(args.provider, "--provider"),
        service_account=inputs.service_account(args.service_account),
    )


def run_aws(args: argparse.Namespace) -> int:
    """`trust-policy aws`."""
    from envsecops.trust.render import render_aws

    return _emit(render_aws(build_aws(args)), args)


def run_gcp(args: argparse.Namespace) -> int:
    """`trust-policy gcp`."""
    from envsecops.trust.render import render_gcp

    return _emit(render_gcp(build_gcp(args)), args)


def _emit(rendered: Rendered, args: argparse.Namespace) -> int:
    for note in rendered.notes:
        print(f"envsecops: {note}", file=sys.stderr)
    if args.output_dir is not None:
        _write(rendered, args.output_dir)
    if args.format == "json":
        sys.stdout.write(json.dumps(rendered.document, indent=2, ensure_ascii=True) + "\n")
    elif args.output_dir is None:
        for item in rendered.files:
            sys.stdout.write(f"# {item.heading} ({item.name})\n{item.text}\n")
    return 0


def _write(rendered: Rendered, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for item in rendered.files:
            path = directory / item.name
            path.write_text(item.text, encoding="utf-8")
            print(f"envsecops: wrote {path}", file=sys.stderr)
    except OSError as exc:
        raise InputError(
            f"cannot write the policies: {exc.strerror or exc}",
            path=str(directory),
            fix="choose a writable --output-dir",
        ) from exc
