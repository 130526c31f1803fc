"""Key-mode signing: DSSE envelopes signed with an ECDSA P-256 or Ed25519 key (`cryptography`).

For local and air-gapped use. The key id is ``sha256:<hex>`` of the public key's DER
SubjectPublicKeyInfo, so it names the key itself, not a file or a label. The envelope's
``keyid`` is only a hint (DSSE): the verifier tries every configured key and reports the
one whose signature verified; a hint naming a different key is refused as tampering.
ECDSA signatures are ASN.1 DER over SHA-256 (as cosign and sigstore write them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from envsecops.attest.dsse import MEDIA_TYPE, SUFFIX, Envelope, Signature
from envsecops.attest.interface import (
    SignedAttestation,
    Signer,
    SigningError,
    VerificationError,
    VerifiedPayload,
    Verifier,
)
from envsecops.canonical import digest_bytes
from envsecops.errors import InputError

DEFAULT_KEY_ENV = "ENVSECOPS_SIGNING_KEY"
ALGORITHMS = ("ecdsa-p256", "ed25519")
MAX_PEM_BYTES = 64 * 1024

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_KEY_FIX = (
    "use an ECDSA P-256 or Ed25519 key in PEM form, e.g. one made by "
    "`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` or `openssl genpkey "
    "-algorithm ed25519`"
)


def key_id(public_key: PublicKey) -> str:
    """``sha256:<hex>`` of the DER SubjectPublicKeyInfo of ``public_key``."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return digest_bytes(der)


def _check_supported(key: object, source: str) -> None:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise InputError(
                f"the ECDSA key uses curve {key.curve.name}; envsecops signs with P-256 only",
                path=source,
                fix=_KEY_FIX,
            )
        return
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return
    raise InputError(
        f"unsupported key type {type(key).__name__.lstrip('_')}", path=source, fix=_KEY_FIX
    )


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the key: {exc.strerror}", path=str(path)) from exc
    if len(data) > MAX_PEM_BYTES:
        raise InputError("is too large to be a PEM key", path=str(path), fix=_KEY_FIX)
    return data


def load_public_key(pem: bytes, source: str) -> PublicKey:
    """A P-256 or Ed25519 public key from PEM; ``source`` names it in errors."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(
            "is not a PEM public key (-----BEGIN PUBLIC KEY-----)", path=source, fix=_KEY_FIX
        ) from exc
    _check_supported(key, source)
    assert isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)  # noqa: S101
    return key


class KeySigner(Signer):
    """Signs DSSE payloads with one private key; the key never leaves this object."""

    def __init__(self, private_key: PrivateKey) -> None:
        _check_supported(private_key, "<key>")
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    @classmethod
    def from_pem(cls, pem: bytes, *, source: str, password: bytes | None = None) -> KeySigner:
        """Load from PEM; ``source`` (a path or `$NAME`) names it in errors, never the key."""
        try:
            key = serialization.load_pem_private_key(pem, password=password)
        except TypeError as exc:
            needs = (
                "is encrypted and no password was given"
                if password is None
                else ("is not encrypted but a password was given")
            )
            raise InputError(f"the private key {needs}", path=source) from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise InputError(
                "is not a readable PEM private key (or the password is wrong)",
                path=source,
                fix=_KEY_FIX,
            ) from exc
        _check_supported(key, source)
        assert isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)  # noqa: S101
        return cls(key)

    @classmethod
    def from_file(cls, path: Path, *, password: bytes | None = None) -> KeySigner:
        """Load the private key from a PEM file."""
        return cls.from_pem(_read(path), source=str(path), password=password)

    @classmethod
    def from_env(
        cls,
        name: str = DEFAULT_KEY_ENV,
        *,
        environ: Mapping[str, str] | None = None,
        password: bytes | None = None,
    ) -> KeySigner:
        """Load the private key from the PEM text in environment variable ``name``."""
        env = os.environ if environ is None else environ
        value = env.get(name, "")
        if not value.strip():
            raise InputError(
                f"the environment variable {name} is unset or empty",
                fix=f"put the PEM private key in {name} (in Actions: `env: {name}: "
                f"${{{{ secrets.{name} }}}}`), or pass --key PATH",
            )
        return cls.from_pem(value.encode("utf-8"), source=f"${name}", password=password)

    @property
    def public_pem(self) -> bytes:
        """The public key in PEM form, to give to verifiers."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, payload_type: str, payload: bytes) -> SignedAttestation:
        """Sign PAE(payload_type, payload) and return the DSSE envelope."""
        unsigned = Envelope(payload_type, payload, ())
        try:
            if isinstance(self._key, ec.EllipticCurvePrivateKey):
                sig = self._key.sign(unsigned.pae(), ec.ECDSA(hashes.SHA256()))
            else:
                sig = self._key.sign(unsigned.pae())
        except (ValueError, UnsupportedAlgorithm) as exc:  # pragma: no cover - backend failure
            raise SigningError(f"the key {self.key_id} could not sign: {exc}") from exc
        signed = Envelope(payload_type, payload, (Signature(sig, self.key_id),))
        return SignedAttestation(MEDIA_TYPE, signed.to_json(), SUFFIX, f"key:{self.key_id}")


def _verifies(key: PublicKey, sig: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(sig, message)
    except InvalidSignature:
        return False
    return True


class KeyVerifier(Verifier):
    """Verifies DSSE envelopes against one or more trusted public keys."""

    def __init__(self, public_keys: Iterable[PublicKey]) -> None:
        self._keys: dict[str, PublicKey] = {}
        for key in public_keys:
            _check_supported(key, "<public key>")
            self._keys[key_id(key)] = key
        if not self._keys:
            raise InputError(
                "no public key is configured, so nothing could verify",
                fix="pass the signer's public key (`--public-key PATH`)",
            )

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> KeyVerifier:
        """Trust the PEM public keys in ``paths``."""
        return cls(load_public_key(_read(path), str(path)) for path in paths)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of the trusted keys, sorted."""
        return tuple(sorted(self._keys))

    def verify(self, content: bytes) -> VerifiedPayload:
        """Return the payload of a DSSE envelope signed by exactly one trusted key."""
        env = Envelope.from_json(content)
        signature = env.single_signature()
        message = env.pae()
        for kid, key in self._keys.items():
            if not _verifies(key, signature.sig, message):
                continue
            if signature.keyid and signature.keyid != kid:
                raise VerificationError(
                    f"the envelope's keyid hint {signature.keyid!r} names another key than "
                    f"the one that signed it ({kid}); the envelope was altered"
                )
            return VerifiedPayload(env.payload_type, env.payload, f"key:{kid}")
        hint = f" (its keyid hint is {signature.keyid!r})" if signature.keyid else ""
        raise VerificationError(
            f"the DSSE signature{hint} does not verify with any trusted key "
            f"({', '.join(self._keys)}): the payload or its type was changed after signing, "
            "or it was signed by another key",
            fix="verify with the public key of the key that signed it, or attest again",
        )


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    """Where `generate_key` wrote the key pair, and the key id."""

    private_path: Path
    public_path: Path
    key_id: str


def generate_key(path: Path, *, algorithm: str = "ecdsa-p256") -> GeneratedKey:
    """Write a new private key to ``path`` (mode 0600, never over an existing file) and
    its public key to ``path`` + ``.pub``."""
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown key algorithm {algorithm!r}; choose one of {ALGORITHMS}")
    private: PrivateKey = (
        ec.generate_private_key(ec.SECP256R1())
        if algorithm == "ecdsa-p256"
        else ed25519.Ed25519PrivateKey.generate()
    )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_path = path.with_name(path.name + ".pub")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise InputError(
            f"cannot create the private key file: {exc.strerror}",
            path=str(path),
            fix="choose a path that does not exist yet (keys are never overwritten)",
        ) from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    signer = KeySigner(private)
    try:
        public_path.write_bytes(signer.public_pem)
    except OSError as exc:
        raise InputError(
            f"cannot write the public key: {exc.strerror}", path=str(public_path)
        ) from exc
    return GeneratedKey(path, public_path, signer.key_id)
