"""`envsecops mint`: an allow decision for this job, re-checked, exchanged for credentials."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from envsecops.cli.verify import add_reinventory_arguments
from envsecops.errors import EnvsecopsError, ExitCode, UsageError

PROVIDERS = ("aws", "gcp", "vault")
SIGNERS = ("key", "sigstore")
DEFAULT_OUT = Path("envsecops-mint")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `mint`."""
    p = subparsers.add_parser(
        "mint",
        help="exchange this job's OIDC token for short-lived credentials, after an allow",
        description="Check the signed decision (an allow for this job, unexpired, made under "
        "this policy), take a fresh inventory (no drift), record the intent in every ledger, "
        "then exchange this job's OIDC token with the provider, mask and export the "
        "credentials, and record what was issued. Exit 0 issued, 1 refused (deny, expired, "
        "another job, drift, swapped policy, rejected token), 2 bad usage, 3 ledger, token "
        "service or provider failure.",
    )
    p.add_argument(
        "--decision",
        type=Path,
        required=True,
        metavar="FILE",
        help="decision.json written by this job's verify step",
    )
    p.add_argument(
        "--decision-attestation",
        type=Path,
        metavar="FILE",
        help="its signed statement (default: decision.dsse.json, or "
        "decision.sigstore.json with --signer sigstore, beside --decision)",
    )
    p.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="the policy text the decision rests on (default: policy.yml beside "
        "--decision); its policy id must be the decision's",
    )
    p.add_argument(
        "--provider",
        choices=PROVIDERS,
        help="which `credentials.providers` entry (default: the policy's only one)",
    )
    p.add_argument(
        "--signer",
        choices=SIGNERS,
        help="how the decision was signed (default: sigstore in Actions, else key)",
    )
    p.add_argument(
        "--key",
        type=Path,
        metavar="PEM",
        help="the private key verify signed with; its public key is trusted "
        "(default: $ENVSECOPS_SIGNING_KEY unless --public-key is given)",
    )
    p.add_argument(
        "--public-key",
        type=Path,
        action="append",
        default=[],
        metavar="PEM",
        help="a trusted public key for the decision (repeatable)",
    )
    p.add_argument(
        "--identity",
        metavar="URL",
        help="keyless: the signer identity (default: https://github.com/"
        "<job_workflow_ref of this job's OIDC token>)",
    )
    p.add_argument(
        "--trusted-root", type=Path, metavar="FILE", help="keyless: a Sigstore trusted_root.json"
    )
    p.add_argument("--sigstore-instance", choices=("production", "staging"), default="production")
    add_reinventory_arguments(p)
    p.add_argument(
        "--bag",
        type=Path,
        metavar="FILE",
        help="the attested bag.json: on drift, drift.json gets the component diff",
    )
    p.add_argument(
        "--max-decision-age",
        type=int,
        default=300,
        metavar="SECONDS",
        help="refuse a decision issued longer ago than this (default 300), even "
        "if it has not expired",
    )
    p.add_argument(
        "--ledger",
        action="append",
        default=[],
        metavar="SPEC",
        help="another ledger (file:PATH or s3://…), added to the policy's `ledger:`",
    )
    p.add_argument(
        "--oidc-issuer",
        metavar="URL",
        help="the OIDC issuer tokens are validated against (default: GitHub's)",
    )
    p.add_argument(
        "--output-credentials",
        action="store_true",
        help="also set the credentials as step outputs (they are always exported to $GITHUB_ENV)",
    )
    p.add_argument(
        "--duration",
        type=int,
        metavar="SECONDS",
        help="credential lifetime; at most the policy's `credentials.max-lifetime` "
        "(default: the provider's minimum, AWS 900 s)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output directory: credential.json, drift files, and outside Actions "
        "credentials.env (default: ./envsecops-mint)",
    )
    p.set_defaults(handler=run)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MintOptions:
    """The parsed command line (the verify builders read a VerifyOptions made from it)."""

    signer: str
    provider: str | None
    duration: int | None
    max_decision_age: int
    output_credentials: bool
    ledgers: tuple[str, ...]
    bag: Path | None


def _options(args: argparse.Namespace, in_actions: bool) -> MintOptions:
    signer = args.signer or ("sigstore" if in_actions else "key")
    if signer == "key" and (args.identity or args.trusted_root):
        raise UsageError("--identity and --trusted-root are for --signer sigstore")
    if signer == "sigstore" and (args.key or args.public_key):
        raise UsageError(
            "--key and --public-key are for --signer key", fix="drop them, or add --signer key"
        )
    if args.max_decision_age < 1:
        raise UsageError("--max-decision-age must be a positive number of seconds")
    if args.duration is not None and args.duration < 1:
        raise UsageError("--duration must be a positive number of seconds")
    if not args.root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    if not args.syft_timeout > 0:
        raise UsageError("--syft-timeout must be a positive number of seconds")
    return MintOptions(
        signer=signer,
        provider=args.provider,
        duration=args.duration,
        max_decision_age=args.max_decision_age,
        output_credentials=args.output_credentials,
        ledgers=tuple(args.ledger),
        bag=args.bag,
    )


def run(args: argparse.Namespace) -> int:
    """Mint; 0 issued, 1 refused, 2 bad usage, 3 ledger/token service/provider failure."""
    from envsecops.attest.outputs import prepare_out_dir
    from envsecops.cli import mint_build as build
    from envsecops.cli.attest_build import say
    from envsecops.mint.export import Destination
    from envsecops.mint.inputs import DecisionFiles
    from envsecops.mint.run import MintPlan, mint
    from envsecops.mint.timing import Timings

    gc.disable()  # a short run building many acyclic objects (the inventory), as verify does
    timings = Timings()
    environ = dict(os.environ)  # one snapshot: everything below reads this, never os.environ
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    options = _options(args, in_actions)
    files = DecisionFiles.beside(
        args.decision, args.decision_attestation, args.policy, options.signer
    )
    github_env, github_output = build.runner_files(environ) if in_actions else (None, None)
    destination = Destination(
        out_dir=prepare_out_dir(args.out),
        github_env=github_env,
        github_output=github_output,
        output_credentials=options.output_credentials,
    )
    plan = MintPlan(
        files=files,
        provider=options.provider,
        duration=options.duration,
        max_decision_age=options.max_decision_age,
        environ=environ,
        in_actions=in_actions,
        destination=destination,
        attested_bag=options.bag,
    )
    collaborators = build.collaborators(args, options, files, environ, in_actions)
    try:
        minted = mint(plan, collaborators, timings)
    except EnvsecopsError as exc:
        build.report_failure(exc, environ, in_actions)
        raise
    finally:
        say(timings.line())
    build.report(minted, environ, in_actions)
    sys.stdout.flush()
    return int(ExitCode.OK)
