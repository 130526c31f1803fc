"""Keyless signing through sigstore-python: a Fulcio certificate for the OIDC identity, a
DSSE envelope over the in-toto statement, and a Rekor entry, returned as a Sigstore bundle.

Signing needs the network (Fulcio, Rekor, optionally a timestamp authority). Every failure
on the way becomes a SigningError naming the service, its URL and the fix; a bundle is
returned only when every step succeeded, so there is never an unsigned attestation.
The identity token is a credential: it is never put into a message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from envsecops.attest.dsse import INTOTO_PAYLOAD_TYPE
from envsecops.attest.encoding import EncodingError, b64decode_strict, load_json_object
from envsecops.attest.interface import SignedAttestation, Signer, SigningError
from envsecops.errors import InputError

if TYPE_CHECKING:
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken

SUFFIX = ".sigstore.json"
INSTANCES = ("production", "staging")
MAX_REASON = 300
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)?")
OIDC_FIX = (
    "in GitHub Actions grant `permissions: id-token: write` and request the token with "
    "audience `sigstore`; a token lives 5 minutes, so request it right before signing"
)


def _scrub(text: str, secret: str) -> str:
    """``text`` without the identity token or anything shaped like a JWT."""
    if secret:
        text = text.replace(secret, "<identity token>")
    return _JWT.sub("<jwt>", text)


def _reason(exc: BaseException, secret: str = "") -> str:
    """A short reason for ``exc``: the first two messages along its cause chain, and the
    service's own message when an HTTP error carries one; credentials blanked first."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        text = _scrub(str(current).strip(), secret)
        if text and len(parts) < 2 and not any(text in part for part in parts):
            parts.append(f"{type(current).__name__}: {text}"[:MAX_REASON])
        response = getattr(current, "response", None)
        body = getattr(response, "text", None)
        if isinstance(body, str) and body.strip():
            parts.append(f"the service said: {_scrub(body.strip(), secret)[:MAX_REASON]}")
            break
        current = current.__cause__ or current.__context__
    return "; ".join(parts) if parts else type(exc).__name__


class SigstoreSigner(Signer):
    """Signs in-toto statements keylessly with an OIDC identity token (audience `sigstore`)."""

    def __init__(
        self,
        identity_token: str,
        *,
        trust_config: Path | None = None,
        instance: str = "production",
    ) -> None:
        if instance not in INSTANCES:
            raise InputError(f"unknown Sigstore instance {instance!r}; choose one of {INSTANCES}")
        self._raw_token = identity_token
        self._trust_config_path = trust_config
        self._instance = instance

    def _why(self, exc: BaseException) -> str:
        """The reason for ``exc`` with the identity token, should a service echo it, blanked."""
        return _reason(exc, self._raw_token)

    def _token(self) -> IdentityToken:
        from sigstore.oidc import IdentityToken

        if not self._raw_token.strip():
            raise SigningError("no OIDC identity token was given for keyless signing", fix=OIDC_FIX)
        try:
            return IdentityToken(self._raw_token)
        except Exception as exc:
            raise SigningError(
                f"the OIDC identity token cannot be used for Sigstore ({self._why(exc)})",
                fix=OIDC_FIX,
            ) from exc

    def _trust_config(self) -> ClientTrustConfig:
        from sigstore.models import ClientTrustConfig

        path = self._trust_config_path
        if path is not None:
            try:
                return ClientTrustConfig.from_json(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
            except Exception as exc:
                raise InputError(
                    f"is not a Sigstore client trust config ({self._why(exc)})",
                    path=str(path),
                    fix="pass a JSON application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
                ) from exc
        try:
            if self._instance == "production":
                return ClientTrustConfig.production()
            return ClientTrustConfig.staging()
        except Exception as exc:
            raise SigningError(
                f"could not refresh the Sigstore {self._instance} trust root over TUF "
                f"({self._why(exc)})",
                fix="check that the runner can reach tuf-repo-cdn.sigstore.dev, or sign with a key",
            ) from exc

    def sign(self, payload_type: str, payload: bytes) -> SignedAttestation:
        """Sign the in-toto ``payload`` keylessly; return the Sigstore bundle bytes."""
        from sigstore import dsse
        from sigstore.sign import Signer as LibSigner
        from sigstore.sign import SigningContext

        if payload_type != INTOTO_PAYLOAD_TYPE:
            raise SigningError(
                f"Sigstore keyless signing takes in-toto statements only, not {payload_type!r}"
            )
        try:
            statement = dsse.Statement(payload)
        except Exception as exc:
            raise SigningError(
                f"the payload is not an in-toto statement ({self._why(exc)})"
            ) from exc
        token = self._token()
        config = self._trust_config()
        try:
            signing_config = config.signing_config
            context = SigningContext.from_trust_config(config)
            fulcio = signing_config.get_fulcio().url
            rekor = ", ".join(getattr(t, "url", "?") for t in signing_config.get_tlogs())
        except Exception as exc:
            raise SigningError(
                f"the Sigstore signing config is unusable ({self._why(exc)})",
                fix="pass a client trust config with a Fulcio CA and a Rekor log",
            ) from exc
        try:
            signer = LibSigner(token, context, cache=True)
        except Exception as exc:
            raise SigningError(
                f"Fulcio at {fulcio} did not issue a signing certificate ({self._why(exc)})",
                fix="check that the runner can reach Fulcio and that the token is fresh; "
                + OIDC_FIX,
            ) from exc
        try:
            bundle = signer.sign_dsse(statement)
        except Exception as exc:
            raise SigningError(
                f"Rekor at {rekor} did not log the signature ({self._why(exc)}); no attestation "
                "was produced",
                fix="check that the runner can reach the Rekor transparency log and retry",
            ) from exc
        content = bundle.to_json().encode("utf-8")
        return SignedAttestation(
            media_type=_checked_media_type(content, payload),
            content=content,
            suffix=SUFFIX,
            signer=f"sigstore:{_identity(bundle.signing_certificate)} (issuer {token.issuer})",
        )


def _identity(certificate: x509.Certificate) -> str:
    """The certificate's identity (its SAN), which is what a verifier must expect."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise SigningError("Fulcio issued a certificate without an identity (no SAN)") from exc
    values = [str(v) for v in names.get_values_for_type(x509.UniformResourceIdentifier)]
    values += [str(v) for v in names.get_values_for_type(x509.RFC822Name)]
    return ", ".join(values) or "<an identity of another kind>"


def _checked_media_type(content: bytes, payload: bytes) -> str:
    """The bundle's media type, after checking it holds exactly ``payload``."""
    try:
        data = load_json_object(content, "the Sigstore bundle", max_bytes=None)
        envelope = data.get("dsseEnvelope")
        signed = envelope.get("payload") if isinstance(envelope, dict) else None
        holds_payload = b64decode_strict(signed, "the bundle's payload") == payload
    except EncodingError as exc:
        raise SigningError(f"sigstore returned an unreadable bundle: {exc.message}") from exc
    media_type = data.get("mediaType")
    if not isinstance(media_type, str) or not holds_payload:
        raise SigningError("sigstore returned a bundle that does not hold our statement")
    return media_type
