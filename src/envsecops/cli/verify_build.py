"""What `envsecops verify` builds: signer, verifier, claims, inventory, policy request."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from envsecops.cli.attest_build import say
from envsecops.errors import EnvsecopsError, UsageError

if TYPE_CHECKING:
    from envsecops.attest.interface import Signer, Verifier
    from envsecops.attest.key import KeySigner
    from envsecops.cli.verify import VerifyOptions
    from envsecops.model.bag import Bag
    from envsecops.model.decision import Reason
    from envsecops.verify.policy_input import PolicyRequest

BINDING_AUDIENCE = "envsecops"
SIGSTORE_AUDIENCE = "sigstore"
TOKEN_ENVS = ("ENVSECOPS_GITHUB_TOKEN", "GITHUB_TOKEN")
GITHUB_API = "https://api.github.com"


def build_key_signer(options: VerifyOptions, environ: Mapping[str, str]) -> KeySigner:
    """The key that signs the decision, from --key or $ENVSECOPS_SIGNING_KEY (exit 2 if bad)."""
    from envsecops.attest.key import KeySigner

    if options.key is not None:
        return KeySigner.from_file(options.key)
    return KeySigner.from_env(environ=environ)


def sigstore_signer_factory(
    options: VerifyOptions, environ: Mapping[str, str], in_actions: bool
) -> Callable[[], Signer]:
    """Builds a keyless signer with a token fetched right before signing (tokens live 5 min)."""

    def build() -> Signer:
        from envsecops.attest.interface import SigningError
        from envsecops.attest.sigstore_signer import SigstoreSigner
        from envsecops.gh.oidc import PERMISSION_FIX, mask_commands, request_token

        try:
            token = request_token(environ, SIGSTORE_AUDIENCE)
        except EnvsecopsError as exc:
            raise SigningError(
                f"keyless signing needs an OIDC token, and the request failed: {exc.message}",
                fix=exc.fix or PERMISSION_FIX,
            ) from exc
        if in_actions:
            for line in mask_commands(token):
                print(line, flush=True)
        return SigstoreSigner(token, instance=options.sigstore_instance)

    return build


def verifier_factory(
    options: VerifyOptions, key_signer: KeySigner | None, claims: Mapping[str, str] | None
) -> Callable[[], Verifier]:
    """Builds the attestation verifier; the engine turns any failure into a deny reason."""

    def build() -> Verifier:
        if options.signer == "key":
            from envsecops.attest.key import KeyVerifier, load_public_key

            keys = [load_public_key(key_signer.public_pem, "--key")] if key_signer else []
            for path in options.public_keys:
                try:
                    pem = path.read_bytes()
                except OSError as exc:
                    raise UsageError(
                        f"--public-key {path}: cannot read ({exc.strerror or exc})"
                    ) from exc
                keys.append(load_public_key(pem, str(path)))
            return KeyVerifier(keys)
        from envsecops.attest.interface import VerificationError
        from envsecops.attest.sigstore_verify import (
            GITHUB_ACTIONS_ISSUER,
            SigstoreIdentity,
            SigstoreVerifier,
        )

        identity = options.identity
        if identity is None:
            workflow = (claims or {}).get("job_workflow_ref")
            if not workflow:
                raise VerificationError(
                    "the expected signer identity is unknown: there is no validated OIDC "
                    "claim `job_workflow_ref` to derive it from",
                    fix="run verify in the attesting job with `permissions: id-token: write`, "
                    "or pass --identity https://github.com/OWNER/REPO/.github/workflows/"
                    "FILE@REF",
                )
            identity = f"https://github.com/{workflow}"
        expected = SigstoreIdentity(
            identity, GITHUB_ACTIONS_ISSUER, repository_id=(claims or {}).get("repository_id")
        )
        return SigstoreVerifier(
            expected, trusted_root=options.trusted_root, instance=options.sigstore_instance
        )

    return build


def fetch_job_claims(
    options: VerifyOptions, environ: Mapping[str, str], in_actions: bool
) -> tuple[dict[str, str] | None, Reason | None]:
    """This step's validated claims (audience envsecops); a rejected token is a deny reason."""
    from envsecops.cli.attest_build import fetch_claims
    from envsecops.gh.oidc import REQUEST_URL_ENV
    from envsecops.model.decision import Reason

    if not in_actions and not environ.get(REQUEST_URL_ENV):
        say(
            "outside GitHub Actions, with no OIDC token: this job's facts come from the environment"
        )
        return None, None
    try:
        return fetch_claims(environ, options.issuer, BINDING_AUDIENCE, in_actions), None
    except EnvsecopsError as exc:
        return None, Reason(
            "binding.unknown",
            "job oidc-token",
            f"this step's OIDC token was served but failed validation, so this job's facts "
            f"cannot be trusted: {exc.message}",
        )


def inventory_factory(
    options: VerifyOptions, environ: Mapping[str, str], claims: Mapping[str, str] | None
) -> Callable[[], Bag]:
    """Takes the fresh inventory exactly as attest does (same catalogers, options, claims)."""

    def take() -> Bag:
        from envsecops.attest.outputs import ProgressLines
        from envsecops.bag.interface import CatalogError
        from envsecops.bag.inventory import context_from_environment, take_inventory
        from envsecops.bag.syft import SyftCataloger, find_syft

        extra = []
        if options.syft is not False:
            executable = find_syft(environ.get("PATH"), beside_interpreter=bool(options.syft))
            if executable is None and options.syft:
                raise CatalogError("--syft was given but no `syft` executable is on PATH")
            if executable is not None:
                say(f"cataloging with syft too ({executable})")
                extra.append(SyftCataloger(executable, timeout=options.syft_timeout))
        context = context_from_environment(
            environ, root=options.root, config_globs=options.configs, claims=claims or {}
        )
        progress = ProgressLines(sys.stderr)
        try:
            return take_inventory(context, extra=extra, progress=progress)
        finally:
            progress.finish()

    return take


def _repo_path(policy: str, environ: Mapping[str, str]) -> str:
    """The policy's path inside the repository, for the default-branch fetch."""
    path = PurePosixPath(policy)
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if path.is_absolute():
        if not workspace or not path.is_relative_to(workspace):
            raise UsageError(
                f"--policy {policy}: with --policy-source default-branch the policy path must "
                "be relative to the repository root (or inside $GITHUB_WORKSPACE)",
                fix="pass the path as it is in the repository, e.g. .github/envsecops.yml",
            )
        path = path.relative_to(workspace)
    if ".." in path.parts or not path.parts:
        raise UsageError(f"--policy {policy}: not a path inside the repository")
    return path.as_posix()


def _api_url(
    environ: Mapping[str, str], claims: Mapping[str, str] | None
) -> tuple[str, str | None]:
    """The API base URL; refused when a github.com token meets another API (set via $GITHUB_ENV)."""
    from envsecops.gh.oidc import GITHUB_ISSUER

    url = (environ.get("GITHUB_API_URL") or GITHUB_API).rstrip("/")
    if claims and claims.get("iss") == GITHUB_ISSUER and url != GITHUB_API:
        return url, (
            f"GITHUB_API_URL is {url!r}, but this job's OIDC token is github.com's, whose API is "
            f"{GITHUB_API}: any earlier step can change GITHUB_API_URL through $GITHUB_ENV, so "
            "the policy is not fetched from there"
        )
    return url, None


def policy_request(
    options: VerifyOptions,
    environ: Mapping[str, str],
    claims: Mapping[str, str] | None,
    in_actions: bool,
) -> PolicyRequest:
    """Where the policy is read from: a local file, the workspace, or the default branch."""
    from envsecops.verify.policy_input import PolicyRequest

    source = options.policy_source or ("default-branch" if in_actions else "local")
    if source == "local":
        return PolicyRequest("local", options.policy, path=Path(options.policy))
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if source == "workspace":
        path = Path(workspace) / options.policy if workspace else Path(options.policy)
        return PolicyRequest("workspace", str(path), path=path)
    repo_path = _repo_path(options.policy, environ)
    token = next((environ[n] for n in TOKEN_ENVS if environ.get(n)), None)
    api_url, problem = _api_url(environ, claims)
    repository = (claims or {}).get("repository")
    if repository is None and in_actions:
        problem = problem or (
            "this step has no validated OIDC token, so the repository whose default branch "
            "holds the policy is unknown (GITHUB_REPOSITORY is not trusted: any earlier step "
            "can set it); fix: grant the job `permissions: id-token: write`"
        )
    elif repository is None:
        repository = environ.get("GITHUB_REPOSITORY")
        if not repository:
            raise UsageError(
                "--policy-source default-branch outside GitHub Actions needs the repository",
                fix="set GITHUB_REPOSITORY=OWNER/REPO, or read a local file (drop --policy-source)",
            )
    display = f"{repository or '<unknown repository>'}@default-branch:{repo_path}"
    return PolicyRequest(
        "default-branch",
        display,
        repository=repository,
        repo_path=repo_path,
        token=token,
        api_url=api_url,
        problem=problem,
    )
