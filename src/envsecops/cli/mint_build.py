"""What `envsecops mint` builds (verify's own builders, reused) and how it reports.

The decision's verifier, this job's claims and the fresh inventory come from
:mod:`envsecops.cli.verify_build` through a :class:`VerifyOptions` made from mint's command
line, so mint checks a decision, binds a job and inventories a runner exactly as verify does.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops.cli.attest_build import say
from envsecops.errors import EnvsecopsError, UsageError

if TYPE_CHECKING:
    from envsecops.attest.interface import Verifier
    from envsecops.attest.key import KeySigner
    from envsecops.cli.mint import MintOptions
    from envsecops.cli.verify import VerifyOptions
    from envsecops.creds.interface import Provider
    from envsecops.gh.jwks import IssuerKeys
    from envsecops.ledger.interface import Ledger
    from envsecops.mint.inputs import DecisionFiles
    from envsecops.mint.render import Minted
    from envsecops.mint.run import Collaborators
    from envsecops.model.bag import Bag


def runner_files(environ: Mapping[str, str]) -> tuple[Path, Path]:
    """``$GITHUB_ENV`` and ``$GITHUB_OUTPUT``: both must be set in Actions (checked first)."""
    missing = [name for name in ("GITHUB_ENV", "GITHUB_OUTPUT") if not environ.get(name)]
    if missing:
        raise UsageError(
            f"GITHUB_ACTIONS is true but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set: the credentials could not be "
            "handed to the following steps",
            fix="run mint as a step of a GitHub Actions job, or unset GITHUB_ACTIONS locally",
        )
    return Path(environ["GITHUB_ENV"]), Path(environ["GITHUB_OUTPUT"])


def verify_options(
    args: argparse.Namespace, options: MintOptions, files: DecisionFiles, issuer: str
) -> VerifyOptions:
    """The VerifyOptions verify's builders read (signer, keys, inventory settings, issuer)."""
    from envsecops.cli.verify import VerifyOptions

    return VerifyOptions(
        attestation=files.attestation,
        bag=files.decision,
        policy=str(files.policy),
        policy_source="local",
        signer=options.signer,
        key=args.key,
        public_keys=tuple(args.public_key),
        identity=args.identity,
        trusted_root=args.trusted_root,
        sigstore_instance=args.sigstore_instance,
        nonce=None,
        pin_report=None,
        configs=tuple(args.config),
        syft=args.syft,
        syft_timeout=args.syft_timeout,
        root=args.root.resolve(),
        mode=None,
        issuer=issuer,
        out=args.out,
    )


def _key_signer(verify: VerifyOptions, environ: Mapping[str, str]) -> KeySigner | None:
    """The key verify signed with (--key, else $ENVSECOPS_SIGNING_KEY): its public half is
    trusted besides any --public-key; with only --public-key given, none is needed."""
    from envsecops.attest.key import DEFAULT_KEY_ENV
    from envsecops.cli.verify_build import build_key_signer

    if verify.signer != "key":
        return None
    if verify.key is None and verify.public_keys and not environ.get(DEFAULT_KEY_ENV, "").strip():
        return None
    return build_key_signer(verify, environ)


def collaborators(
    args: argparse.Namespace,
    options: MintOptions,
    files: DecisionFiles,
    environ: Mapping[str, str],
    in_actions: bool,
) -> Collaborators:
    """The real collaborators: verify's builders, the ledgers, the token service, providers."""
    from envsecops.cli.verify_build import fetch_job_claims, inventory_factory, verifier_factory
    from envsecops.gh.oidc import GITHUB_ISSUER
    from envsecops.mint.preconditions import Refused
    from envsecops.mint.run import Claims, Collaborators

    issuer = args.oidc_issuer or GITHUB_ISSUER
    verify = verify_options(args, options, files, issuer)
    key_signer = _key_signer(verify, environ)
    keys: list[IssuerKeys] = []

    def job_claims() -> dict[str, str] | None:
        claims, rejected = fetch_job_claims(verify, environ, in_actions)
        if rejected is not None:
            raise Refused("token.rejected", rejected.message)
        return claims

    def validate(token: str, audience: str) -> dict[str, str]:
        from envsecops.gh.jwks import IssuerKeys
        from envsecops.gh.oidc import validate_token

        if not keys:
            keys.append(IssuerKeys(issuer))
        return validate_token(token, audience=audience, keys=keys[0], issuer=issuer)

    def request(audience: str) -> str:
        from envsecops.gh.oidc import request_token

        return request_token(environ, audience)

    def verifier(claims: Claims | None) -> Verifier:
        return verifier_factory(verify, key_signer, dict(claims or {}) or None)()

    def inventory(claims: Claims | None) -> Bag:
        return inventory_factory(verify, environ, claims)()

    def provider(name: str) -> Provider:
        from envsecops.creds import provider_for

        return provider_for(name)

    return Collaborators(
        job_claims=job_claims,
        build_verifier=verifier,
        take_inventory=inventory,
        build_ledgers=lambda policy: ledgers(policy, options.ledgers),
        request_token=request,
        validate_token=validate,
        provider_for=provider,
        emit=lambda line: print(line, flush=True),
        clock=lambda: datetime.now(UTC),
    )


def ledgers(policy: Path, extra: tuple[str, ...]) -> list[Ledger]:
    """The policy's ledgers plus --ledger ones (as `record`), else the default file ledger."""
    from envsecops.cli.audit import build, choose_ledgers

    choice = choose_ledgers(policy, list(extra), extend=True)
    if choice.note:
        say(f"note: {choice.note}")
    return build(choice)


def report(minted: Minted, environ: Mapping[str, str], in_actions: bool) -> None:
    """The table on stdout (inside stop-commands in Actions) and the job summary section."""
    from envsecops.gh.commands import append_step_summary, stop_commands
    from envsecops.mint.render import render_summary, render_text

    text = render_text(minted)
    sys.stdout.write(stop_commands(text) if in_actions else text)
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if in_actions and summary:
        append_step_summary(Path(summary), render_summary(minted))


def report_failure(exc: EnvsecopsError, environ: Mapping[str, str], in_actions: bool) -> None:
    """In Actions: one error annotation and a job-summary section (the CLI prints the rest)."""
    if not in_actions:
        return
    from envsecops.gh.commands import AnnotationLevel, annotation, append_step_summary
    from envsecops.mint.render import render_refusal

    code = str(getattr(exc, "code", type(exc).__name__))
    first = exc.message.splitlines()[0] if exc.message else code
    print(annotation(AnnotationLevel.ERROR, first, title="envsecops mint"), flush=True)
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_step_summary(Path(summary), render_refusal(code, exc.message))
        except EnvsecopsError as problem:
            say(f"the job summary could not be written: {problem.message}")
