"""Keyless verification of Sigstore bundles, offline, against one exact signer identity.

sigstore-python (imported lazily) checks the Fulcio certificate chain at the signed time,
the SCT, the transparency-log entry (inclusion proof / SET, or an RFC 3161 timestamp) and
the signature; we add the identity policy and, for DSSE bundles, return the payload so the
caller checks the in-toto subject itself (sigstore does not). Every sigstore exception
is wrapped here into VerificationError with its reason: nothing escapes as a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from envsecops.attest.encoding import EncodingError, load_json_object
from envsecops.attest.interface import VerificationError, VerifiedPayload, Verifier
from envsecops.errors import InfraError, InputError

if TYPE_CHECKING:
    from sigstore.models import Bundle
    from sigstore.verify import Verifier as SigstoreLibVerifier
    from sigstore.verify.policy import VerificationPolicy

GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"
TUF_URLS = {
    "production": "https://tuf-repo-cdn.sigstore.dev",
    "staging": "https://tuf-repo-cdn.sigstage.dev",
}
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class SigstoreIdentity:
    """Who must have signed: an exact certificate SAN and OIDC issuer, and optionally the
    repository id (which survives renames, unlike the name in the SAN) and runner kind."""

    identity: str
    issuer: str = GITHUB_ACTIONS_ISSUER
    repository_id: str | None = None
    runner_environment: str | None = None

    def __post_init__(self) -> None:
        if not self.identity or not self.identity.isprintable():
            raise InputError("the expected Sigstore identity must be a non-empty printable string")
        if not self.issuer.startswith("https://"):
            raise InputError(
                f"the expected OIDC issuer {self.issuer!r} must be an https:// URL",
                fix=f"for GitHub Actions use {GITHUB_ACTIONS_ISSUER}",
            )
        if self.repository_id is not None and not self.repository_id.isdigit():
            raise InputError(f"the repository id {self.repository_id!r} must be digits")

    @classmethod
    def github_workflow(
        cls,
        repository: str,
        workflow_path: str,
        ref: str,
        *,
        repository_id: str | None = None,
        runner_environment: str | None = None,
    ) -> SigstoreIdentity:
        """The identity GitHub gives a workflow run: ``https://github.com/OWNER/REPO/
        .github/workflows/FILE@REF`` (the workflow that signed, i.e. `job_workflow_ref`)."""
        if not _REPOSITORY.fullmatch(repository):
            raise InputError(f"{repository!r} is not an OWNER/REPO name")
        if not workflow_path.startswith(".github/workflows/") or ".." in workflow_path:
            raise InputError(f"{workflow_path!r} is not a path under .github/workflows/")
        if not ref.startswith("refs/"):
            raise InputError(
                f"{ref!r} is not a full git ref", fix="write refs/heads/main or refs/tags/v1.2.3"
            )
        return cls(
            f"https://github.com/{repository}/{workflow_path}@{ref}",
            GITHUB_ACTIONS_ISSUER,
            repository_id,
            runner_environment,
        )

    def describe(self) -> str:
        """The identity as reported with a verified payload."""
        return f"{self.identity} (issuer {self.issuer})"


def _wrap(exc: Exception, doing: str) -> VerificationError:
    reason = str(exc) or type(exc).__name__
    return VerificationError(
        f"Sigstore {doing} failed: {reason}",
        fix="if the expected identity (workflow path and ref, issuer) and the trusted root "
        "are right, the attestation was altered or made elsewhere: treat it as forged",
    )


class SigstoreVerifier(Verifier):
    """Verifies Sigstore bundles against a trusted root: a file, or an instance's root as
    embedded in sigstore-python (no network, no cache), or refreshed over TUF if asked."""

    def __init__(
        self,
        identity: SigstoreIdentity,
        *,
        trusted_root: Path | None = None,
        instance: str = "production",
        refresh: bool = False,
    ) -> None:
        self.identity = identity
        self._verifier = _build(trusted_root, instance, refresh)

    def _policy(self) -> VerificationPolicy:
        from sigstore.verify import policy

        checks: list[VerificationPolicy] = [
            policy.Identity(identity=self.identity.identity, issuer=self.identity.issuer)
        ]
        if self.identity.repository_id is not None:
            checks.append(policy.OIDCSourceRepositoryIdentifier(self.identity.repository_id))
        if self.identity.runner_environment is not None:
            checks.append(policy.OIDCRunnerEnvironment(self.identity.runner_environment))
        return policy.AllOf(checks)

    def _bundle(self, content: bytes) -> tuple[Bundle, dict[str, Any]]:
        from sigstore.models import Bundle

        try:
            data = load_json_object(content, "the Sigstore bundle")
        except EncodingError as exc:
            raise VerificationError(exc.message) from exc
        media_type = data.get("mediaType")
        if not isinstance(media_type, str) or not media_type.startswith(BUNDLE_MEDIA_PREFIX):
            hint = (
                " (it is a DSSE envelope: verify it with a public key)"
                if "payloadType" in data
                else ""
            )
            raise VerificationError(f"not a Sigstore bundle: mediaType is {media_type!r}{hint}")
        try:
            return Bundle.from_json(content), data
        except Exception as exc:
            raise _wrap(exc, "bundle parsing") from exc

    def verify(self, content: bytes) -> VerifiedPayload:
        """Verify a DSSE bundle and return its payload; any defect is a VerificationError."""
        bundle, data = self._bundle(content)
        if "dsseEnvelope" not in data:
            raise VerificationError(
                "the Sigstore bundle holds a message signature, not a DSSE envelope: it "
                "carries no statement"
            )
        try:
            payload_type, payload = self._verifier.verify_dsse(bundle, self._policy())
        except Exception as exc:
            raise _wrap(exc, "DSSE verification") from exc
        return VerifiedPayload(payload_type, payload, f"sigstore:{self.identity.describe()}")

    def verify_artifact(self, content: bytes, artifact: bytes) -> str:
        """Verify a message-signature bundle over ``artifact``; return the signer."""
        bundle, _ = self._bundle(content)
        try:
            self._verifier.verify_artifact(artifact, bundle, self._policy())
        except Exception as exc:
            raise _wrap(exc, "artifact verification") from exc
        return f"sigstore:{self.identity.describe()}"


def _build(trusted_root: Path | None, instance: str, refresh: bool) -> SigstoreLibVerifier:
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier as LibVerifier

    if trusted_root is not None:
        try:
            root = TrustedRoot.from_file(str(trusted_root))
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=str(trusted_root)) from exc
        except Exception as exc:
            raise InputError(
                f"is not a Sigstore trusted root: {exc}",
                path=str(trusted_root),
                fix="pass a trusted_root.json (application/vnd.dev.sigstore.trustedroot+json)",
            ) from exc
        return _verifier(LibVerifier, root)
    if instance not in TUF_URLS:
        raise InputError(f"unknown Sigstore instance {instance!r}; choose one of {list(TUF_URLS)}")
    if not refresh:
        return _verifier(LibVerifier, _embedded_root(instance))
    try:
        factory = LibVerifier.production if instance == "production" else LibVerifier.staging
        return factory(offline=False)
    except Exception as exc:
        raise InfraError(
            f"could not refresh the Sigstore {instance} trusted root over TUF: {exc}",
            fix="check that tuf-repo-cdn is reachable, or verify offline (the embedded root "
            "or a trusted_root.json file)",
        ) from exc


def _embedded_root(instance: str) -> Any:
    """The trusted root shipped inside the installed sigstore package, read in place.

    Not sigstore's ``offline=True``: that reads ``$XDG_CACHE_HOME/sigstore-python/…``, a
    directory any earlier step of the job can write (or point elsewhere through
    `$GITHUB_ENV`), so a planted root there would decide what verifies.
    """
    from importlib import resources

    from sigstore.models import TrustedRoot

    name = quote(TUF_URLS[instance], safe="")
    try:
        resource = resources.files("sigstore._store").joinpath(name, "trusted_root.json")
        with resources.as_file(resource) as path:
            return TrustedRoot.from_file(str(path))
    except Exception as exc:
        raise InfraError(
            f"the Sigstore {instance} trusted root embedded in sigstore-python is unreadable: "
            f"{exc}",
            fix="reinstall envsecops's locked dependencies, or pass a trusted_root.json file",
        ) from exc


def _verifier(factory: Any, root: Any) -> SigstoreLibVerifier:
    try:
        built: SigstoreLibVerifier = factory(trusted_root=root)
    except Exception as exc:
        raise InputError(f"the Sigstore trusted root cannot verify anything: {exc}") from exc
    return built
