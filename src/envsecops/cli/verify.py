"""`envsecops verify`: check the attestation, the binding, drift and the policy; sign a decision."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from envsecops.verify.engine import VerifyOutcome
    from envsecops.verify.publish import Published

SIGNERS = ("key", "sigstore")
POLICY_SOURCES = ("default-branch", "workspace")
MODES = ("enforce", "audit")
DEFAULT_POLICY = ".github/envsecops.yml"
NONCE_SHAPE = r"[A-Za-z0-9_-]{16,128}"
OUTPUT_NAMES = (
    "verdict",
    "decision",
    "env-hash",
    "policy-id",
    "decision-attestation",
    "drift",
    "policy-file",
)


def add_reinventory_arguments(p: argparse.ArgumentParser) -> None:
    """The options that make a fresh inventory match the attested one (verify and mint)."""
    p.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="GLOB",
        help="an extra config file or glob to inventory, as given to attest",
    )
    syft = p.add_mutually_exclusive_group()
    syft.add_argument(
        "--syft", action="store_true", default=None, help="also catalog with syft (as attest did)"
    )
    syft.add_argument("--no-syft", dest="syft", action="store_false", help="never run syft")
    p.add_argument("--syft-timeout", type=float, default=900.0, metavar="SECONDS")
    p.add_argument("--root", type=Path, default=Path("/"), help="testing: treat PATH as /")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `verify`."""
    p = subparsers.add_parser(
        "verify",
        help="verify an attestation against this job, a fresh inventory and the policy",
        description="Check the bag attestation (signature and signer), its binding to this job "
        "(repository, run, attempt, job, nonce, age), drift (a fresh inventory), and the "
        "policy; write a signed decision. Exit 0 allow (or a deny in audit mode), 1 deny, "
        "2 bad usage (nothing written), 3 the decision could not be signed.",
    )
    p.add_argument(
        "--attestation",
        type=Path,
        required=True,
        metavar="FILE",
        help="the attestation attest wrote (.dsse.json or .sigstore.json)",
    )
    p.add_argument(
        "--bag", type=Path, required=True, metavar="FILE", help="the bag.json attest wrote"
    )
    p.add_argument(
        "--policy",
        default=DEFAULT_POLICY,
        metavar="PATH",
        help=f"the policy file (default: {DEFAULT_POLICY}, relative to the working "
        "directory, or to $GITHUB_WORKSPACE / the repository root when read from there)",
    )
    p.add_argument(
        "--policy-source",
        choices=POLICY_SOURCES,
        help="default-branch: through the GitHub API (the default in Actions); "
        "workspace: the checked-out copy (in Actions only when given); default "
        "outside Actions: the local file",
    )
    p.add_argument(
        "--signer",
        choices=SIGNERS,
        help="sign the decision (and verify the attestation) keylessly or with a key "
        "(default: sigstore in Actions, key elsewhere)",
    )
    p.add_argument(
        "--key",
        type=Path,
        metavar="PEM",
        help="private key that signs the decision; its public key is trusted for the "
        "attestation (default: the PEM in $ENVSECOPS_SIGNING_KEY)",
    )
    p.add_argument(
        "--public-key",
        type=Path,
        action="append",
        default=[],
        metavar="PEM",
        help="another trusted public key for the attestation (repeatable)",
    )
    p.add_argument(
        "--identity",
        metavar="URL",
        help="keyless: the signer identity to require (default: https://github.com/"
        "<job_workflow_ref of this job's OIDC token>)",
    )
    p.add_argument(
        "--trusted-root",
        type=Path,
        metavar="FILE",
        help="keyless: a Sigstore trusted_root.json (default: the embedded root)",
    )
    p.add_argument("--sigstore-instance", choices=("production", "staging"), default="production")
    p.add_argument("--nonce", help="the nonce this job's attest step printed; must match")
    p.add_argument(
        "--pin-report",
        type=Path,
        metavar="FILE",
        help="a `pin-check --format json` report; its findings are judged by the policy",
    )
    add_reinventory_arguments(p)
    p.add_argument(
        "--mode",
        choices=MODES,
        help="enforce may make an audit-mode policy strict; audit cannot relax one",
    )
    p.add_argument(
        "--oidc-issuer",
        metavar="URL",
        help="OIDC issuer to validate this job's token against (default: GitHub's)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("envsecops-decision"),
        help="output directory (default: ./envsecops-decision)",
    )
    p.set_defaults(handler=run)  # fmt: skip


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """The parsed command line."""

    attestation: Path
    bag: Path
    policy: str
    policy_source: str | None
    signer: str
    key: Path | None
    public_keys: tuple[Path, ...]
    identity: str | None
    trusted_root: Path | None
    sigstore_instance: str
    nonce: str | None
    pin_report: Path | None
    configs: tuple[str, ...]
    syft: bool | None
    syft_timeout: float
    root: Path
    mode: str | None
    issuer: str
    out: Path


def _options(args: argparse.Namespace, environ: Mapping[str, str]) -> VerifyOptions:
    import re

    from envsecops.gh.oidc import GITHUB_ISSUER

    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    signer = args.signer or ("sigstore" if in_actions else "key")
    if signer == "key" and (args.identity or args.trusted_root):
        raise UsageError("--identity and --trusted-root are for --signer sigstore")
    if signer == "sigstore" and (args.key or args.public_key):
        raise UsageError(
            "--key and --public-key are for --signer key", fix="drop them, or add --signer key"
        )
    if args.nonce is not None and not re.fullmatch(NONCE_SHAPE, args.nonce):
        raise UsageError(
            f"--nonce {args.nonce!r} must be 16 to 128 characters of letters, digits, `_`, `-`",
            fix="pass the `nonce` output of this job's attest step",
        )
    if not args.root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    if not args.syft_timeout > 0:
        raise UsageError("--syft-timeout must be a positive number of seconds")
    if not args.policy.strip():
        raise UsageError("--policy must not be empty")
    return VerifyOptions(
        attestation=args.attestation,
        bag=args.bag,
        policy=args.policy,
        policy_source=args.policy_source,
        signer=signer,
        key=args.key,
        public_keys=tuple(args.public_key),
        identity=args.identity,
        trusted_root=args.trusted_root,
        sigstore_instance=args.sigstore_instance,
        nonce=args.nonce,
        pin_report=args.pin_report,
        configs=tuple(args.config),
        syft=args.syft,
        syft_timeout=args.syft_timeout,
        root=args.root.resolve(),
        mode=args.mode,
        issuer=args.oidc_issuer or GITHUB_ISSUER,
        out=args.out,
    )


def run(args: argparse.Namespace) -> int:
    """Verify; 0 allow (or audit-mode deny), 1 deny, 2 bad usage, 3 decision not signed."""
    from envsecops.attest.outputs import prepare_out_dir
    from envsecops.cli import verify_build as build
    from envsecops.cli.attest_build import say
    from envsecops.verify.engine import Collaborators, VerifyInputs, run_checks
    from envsecops.verify.job import current_job, principal_of
    from envsecops.verify.policy_input import PolicyLoaders
    from envsecops.verify.publish import publish

    # A short-lived run that builds ~10^5 acyclic objects (YAML nodes, components): cyclic
    # collections only cost it time (a third of the policy load; bench/verify.py).
    gc.disable()
    environ = dict(os.environ)  # one snapshot: everything below reads this, never os.environ
    options = _options(args, environ)
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    github_output = _github_output(environ) if in_actions else None
    key_signer = build.build_key_signer(options, environ) if options.signer == "key" else None
    out_dir = prepare_out_dir(options.out)
    claims, rejected = build.fetch_job_claims(options, environ, in_actions)
    request = build.policy_request(options, environ, claims, in_actions)
    job = current_job(claims, environ, in_actions=in_actions)
    if in_actions and claims is None:
        say(
            "warning: no validated OIDC token: this job's facts come from environment "
            "variables, which any earlier step can set (grant `id-token: write`)"
        )
    inputs = VerifyInputs(
        attestation=options.attestation,
        bag=options.bag,
        policy=request,
        nonce=options.nonce,
        pin_report=options.pin_report,
        mode=options.mode,
        base=Path(environ.get("GITHUB_WORKSPACE") or Path.cwd()),
        preliminary=(rejected,) if rejected is not None else (),
    )
    collaborators = Collaborators(
        build_verifier=build.verifier_factory(options, key_signer, claims),
        take_inventory=build.inventory_factory(options, environ, claims),
        loaders=PolicyLoaders.default(),
    )
    outcome = run_checks(inputs, job, principal_of(claims, environ), collaborators)
    signer_factory = (
        (lambda: key_signer)
        if key_signer is not None
        else build.sigstore_signer_factory(options, environ, in_actions)
    )
    drift = outcome.drift.diff if outcome.drift is not None else None
    published = publish(
        outcome.decision, drift, out_dir, signer_factory, policy_text=outcome.policy.text
    )
    _report(outcome, published, in_actions)
    if github_output is not None:
        _set_outputs(github_output, published)
    return _exit_code(published)


def _exit_code(published: Published) -> int:
    from envsecops.model.decision import Mode, Verdict

    decision = published.decision
    if published.signing_error is not None:
        return int(ExitCode.INFRA)
    if decision.verdict is Verdict.DENY and decision.mode is Mode.ENFORCE:
        return int(ExitCode.FINDINGS)
    return int(ExitCode.OK)


def _report(outcome: VerifyOutcome, published: Published, in_actions: bool) -> None:
    """The table on stdout (wrapped against workflow commands in Actions), notes on stderr."""
    from envsecops.cli.attest_build import say
    from envsecops.gh.commands import stop_commands
    from envsecops.model.decision import Mode, Verdict
    from envsecops.report.decision_text import DecisionView, render_decision

    verified = outcome.attestation.verified if outcome.attestation is not None else None
    view = DecisionView(
        decision=published.decision,
        policy_source=outcome.policy.source,
        attestation_signer=verified.signer if verified is not None else None,
        decision_path=str(published.decision_path),
        decision_attestation=str(published.attestation_path)
        if published.attestation_path
        else None,
        drift_path=str(published.drift_path) if published.drift_path else None,
        notes=outcome.notes,
    )
    text = render_decision(view)
    sys.stdout.write(stop_commands(text) if in_actions else text)
    sys.stdout.flush()
    decision = published.decision
    if published.signing_error is not None:
        say(f"error: {published.signing_error}")
        say("the decision was written as a deny carrying decision.unsigned; the step fails")
    elif decision.verdict is Verdict.DENY and decision.mode is Mode.AUDIT:
        say(
            f"AUDIT MODE: the decision is DENY ({len(decision.reasons)} reasons); the step "
            "passes only because the policy is in audit mode"
        )


def _set_outputs(github_output: Path, published: Published) -> None:
    from envsecops.gh.commands import set_output

    decision = published.decision
    values = {
        "verdict": decision.verdict.value,
        "decision": str(published.decision_path),
        "env-hash": decision.env_hash,
        "policy-id": decision.policy_id,
        "decision-attestation": str(published.attestation_path or ""),
        "drift": str(published.drift_path or ""),
        "policy-file": str(published.policy_path or ""),
    }
    for name in OUTPUT_NAMES:
        set_output(github_output, name, values[name])


def _github_output(environ: Mapping[str, str]) -> Path:
    output = environ.get("GITHUB_OUTPUT")
    if not output:
        raise UsageError(
            "GITHUB_ACTIONS is true but GITHUB_OUTPUT is not set: cannot set the step outputs "
            + ", ".join(OUTPUT_NAMES),
            fix="run verify as a step of a GitHub Actions job, or unset GITHUB_ACTIONS locally",
        )
    return Path(output)
