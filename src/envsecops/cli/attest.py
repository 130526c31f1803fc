"""`envsecops attest`: inventory the bag, write bag.json, the SBOM and a signed attestation."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.cli.attest_build import (
    SIGSTORE_AUDIENCE,
    build_key_signer,
    build_sigstore_signer,
    build_syft,
    fetch_claims,
    require_token_service,
    say,
    take_bag,
)
from envsecops.errors import UsageError

if TYPE_CHECKING:
    from envsecops.attest.binding import Binding
    from envsecops.attest.interface import Signer
    from envsecops.attest.outputs import AttestationFiles
    from envsecops.model.bag import Bag

SIGNERS = ("key", "sigstore")
BINDING_AUDIENCE = "envsecops"
NONCE_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What `Binding` accepts as a nonce; checked here so a bad --nonce fails before the inventory."""
FAILED_PREFIX = "cataloger-failed:"
"""How the inventory names the record of a cataloger that raised."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `attest`."""
    parser = subparsers.add_parser(
        "attest",
        help="inventory this environment and sign an attestation of it",
        description="Inventory the bag (runner, binaries, packages, configs, environment, "
        "actions), write bag.json, a CycloneDX 1.6 SBOM and a signed in-toto attestation "
        "bound to this job; print the env hash.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("envsecops-attestation"),
        help="output directory (default: ./envsecops-attestation)",
    )
    parser.add_argument(
        "--signer",
        choices=SIGNERS,
        help="`sigstore` (keyless, in GitHub Actions) or `key` (default: sigstore in "
        "Actions, key elsewhere)",
    )
    parser.add_argument(
        "--key",
        type=Path,
        metavar="PATH",
        help="PEM private key for --signer key (default: the PEM in $ENVSECOPS_SIGNING_KEY)",
    )
    syft = parser.add_mutually_exclusive_group()
    syft.add_argument(
        "--syft",
        action="store_true",
        default=None,
        help="also catalog with syft; fail if it is missing (default: when on PATH)",
    )
    syft.add_argument("--no-syft", dest="syft", action="store_false", help="never run syft")
    parser.add_argument(
        "--syft-timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="kill syft after this long (default: 900)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="GLOB",
        help="an extra config file or glob to inventory (repeatable)",
    )
    parser.add_argument(
        "--root", type=Path, default=Path("/"), help="testing: treat PATH as / when inventorying"
    )
    parser.add_argument("--nonce", help="binding nonce, 16-128 of [A-Za-z0-9_-] (default: random)")
    parser.add_argument(
        "--oidc-issuer",
        default=None,
        metavar="URL",
        help="OIDC issuer to validate the job's token against (default: GitHub's; on GHES "
        "https://HOSTNAME/_services/token)",
    )
    parser.set_defaults(handler=run)


@dataclass(frozen=True, slots=True)
class AttestOptions:
    """The parsed command line."""

    out: Path
    signer: str
    key: Path | None
    syft: bool | None
    syft_timeout: float
    configs: tuple[str, ...]
    root: Path
    nonce: str
    issuer: str


def _options(args: argparse.Namespace, environ: Mapping[str, str]) -> AttestOptions:
    from envsecops.gh.oidc import GITHUB_ISSUER

    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    signer = args.signer or ("sigstore" if in_actions else "key")
    if args.key is not None and signer != "key":
        raise UsageError("--key is for --signer key", fix="drop --key, or add --signer key")
    nonce = args.nonce if args.nonce is not None else _new_nonce()
    if not NONCE_SHAPE.fullmatch(nonce):
        raise UsageError(
            f"--nonce {nonce!r} must be 16 to 128 characters of letters, digits, `_` and `-`"
        )
    if not args.root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    if not args.syft_timeout > 0:
        raise UsageError("--syft-timeout must be a positive number of seconds")
    return AttestOptions(
        out=args.out,
        signer=signer,
        key=args.key,
        syft=args.syft,
        syft_timeout=args.syft_timeout,
        configs=tuple(args.config),
        root=args.root.resolve(),
        nonce=nonce,
        issuer=args.oidc_issuer or GITHUB_ISSUER,
    )


def _new_nonce() -> str:
    import secrets

    return secrets.token_hex(16)


def run(args: argparse.Namespace) -> int:
    """Attest; 0 when the files are written, 2 on bad input, 3 when a service failed."""
    from envsecops.attest.outputs import ProgressLines, prepare_out_dir, set_step_outputs

    environ = dict(os.environ)  # one snapshot: everything below reads this, never os.environ
    options = _options(args, environ)
    in_actions = environ.get("GITHUB_ACTIONS") == "true"
    github_output = _github_output(environ) if in_actions else None
    key_signer = build_key_signer(options, environ) if options.signer == "key" else None
    if key_signer is None:
        require_token_service(environ)
    out_dir = prepare_out_dir(options.out)  # a bad --out fails now, not after the inventory
    claims = fetch_claims(environ, options.issuer, _audience(options), in_actions)
    syft = build_syft(options, environ)
    progress = ProgressLines(sys.stderr)
    try:
        bag = take_bag(options, environ, claims, syft, progress)
    finally:
        progress.finish()
    result = attest(bag, out_dir, claims, environ, options.nonce, key_signer, in_actions)
    print(bag.env_hash)
    _report(result)
    if github_output is not None:
        set_step_outputs(github_output, bag.env_hash, result.files, options.nonce)
    return 0


@dataclass(frozen=True, slots=True)
class AttestResult:
    """What one run produced."""

    bag: Bag
    binding: Binding
    signer: str
    files: AttestationFiles
    sbom_validated: bool


def attest(
    bag: Bag,
    out_dir: Path,
    claims: Mapping[str, str] | None,
    environ: Mapping[str, str],
    nonce: str,
    key_signer: Signer | None,
    in_actions: bool,
) -> AttestResult:
    """Bind, build the SBOM and the statement, sign, then write the three files."""
    from envsecops.attest.binding import Binding
    from envsecops.attest.outputs import write_files
    from envsecops.attest.statement import PAYLOAD_TYPE, build_statement, statement_bytes, utc_now
    from envsecops.bag.sbom import build_sbom
    from envsecops.canonical import canonical_json

    binding = Binding.collect(claims, environ, nonce=nonce, created_at=utc_now())
    bag_json = canonical_json(bag.to_json())
    sbom = build_sbom(bag)
    payload = statement_bytes(build_statement(bag, bag_json, binding))
    signer = key_signer or build_sigstore_signer(environ, in_actions)
    signed = signer.sign(PAYLOAD_TYPE, payload)  # nothing is written unless this succeeded
    files = write_files(out_dir, bag_json, sbom.text, signed.content, signed.suffix)
    return AttestResult(bag, binding, signed.signer, files, sbom.validated)


def _report(result: AttestResult) -> None:
    """Say on stderr what was attested, what failed, and which facts are unverified."""
    from envsecops.attest.binding import Origin

    bag, binding = result.bag, result.binding
    for component in bag.components:
        if component.name.startswith(FAILED_PREFIX):
            say(
                f"warning: cataloger {component.name[len(FAILED_PREFIX) :]} FAILED, recorded in "
                f"the bag as {component.name} (the default policy denies it): "
                + ((component.prop("error") or "").splitlines() or ["no detail"])[0]
            )
    if not result.sbom_validated:
        say(
            "warning: sbom.cdx.json was built with cyclonedx-python-lib but not schema-validated: "
            "the validator needs `jsonschema`, which is not installed"
        )
    say(f"attested {len(bag.components):,} components, env hash {bag.env_hash}")
    say(f"signed by {result.signer}; nonce {binding.nonce}")
    say(f"wrote {result.files.bag}, {result.files.sbom}, {result.files.attestation}")
    unverified = sorted(name for name, origin in binding.origins if origin is not Origin.OIDC)
    if unverified:
        say(
            "binding facts from the environment (not from a validated OIDC token, so any "
            f"earlier step could have set them): {', '.join(unverified)}"
        )


def _github_output(environ: Mapping[str, str]) -> Path:
    output = environ.get("GITHUB_OUTPUT")
    if not output:
        raise UsageError(
            "GITHUB_ACTIONS is true but GITHUB_OUTPUT is not set: cannot set the step outputs "
            "env-hash, attestation, sbom, bag, nonce",
            fix="run attest as a step of a GitHub Actions job (the runner sets GITHUB_OUTPUT), "
            "or unset GITHUB_ACTIONS locally",
        )
    return Path(output)


def _audience(options: AttestOptions) -> str:
    return SIGSTORE_AUDIENCE if options.signer == "sigstore" else BINDING_AUDIENCE
