"""Key signing: ECDSA P-256 and Ed25519 envelopes, and every way a verifier must refuse one."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from envsecops.attest.dsse import MEDIA_TYPE, Envelope, pae
from envsecops.attest.interface import VerificationError
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key, key_id, load_public_key
from envsecops.canonical import digest_bytes
from envsecops.errors import InputError
from tests.unit.attest.samples import b64, envelope_json

PAYLOAD = b'{"_type":"https://in-toto.io/Statement/v1"}'
TYPE = "application/vnd.in-toto+json"


@pytest.fixture(params=["ecdsa-p256", "ed25519"])
def keypair(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[KeySigner, KeyVerifier]:
    made = generate_key(tmp_path / "signing.pem", algorithm=request.param)
    signer = KeySigner.from_file(made.private_path)
    return signer, KeyVerifier.from_files([made.public_path])


def test_generate_key_writes_a_private_0600_pem_and_never_overwrites(tmp_path: Path) -> None:
    made = generate_key(tmp_path / "k.pem")
    assert stat.S_IMODE(made.private_path.stat().st_mode) == 0o600
    assert made.public_path == tmp_path / "k.pem.pub"
    assert b"BEGIN PRIVATE KEY" in made.private_path.read_bytes()
    public = load_public_key(made.public_path.read_bytes(), "k.pem.pub")
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert made.key_id == digest_bytes(der) == key_id(public)
    before = made.private_path.read_bytes()
    with pytest.raises(InputError, match="cannot create the private key file") as caught:
        generate_key(tmp_path / "k.pem")
    assert "never overwritten" in caught.value.diagnostics()
    assert made.private_path.read_bytes() == before
    with pytest.raises(InputError, match="unknown key algorithm"):
        generate_key(tmp_path / "other.pem", algorithm="rsa")


def test_sign_then_verify(keypair: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keypair
    signed = signer.sign(TYPE, PAYLOAD)
    assert (signed.media_type, signed.suffix) == (MEDIA_TYPE, ".dsse.json")
    assert signed.signer == f"key:{signer.key_id}"
    assert Envelope.from_json(signed.content).signatures[0].keyid == signer.key_id
    verified = verifier.verify(signed.content)
    assert (verified.payload_type, verified.payload) == (TYPE, PAYLOAD)
    assert verified.signer == f"key:{signer.key_id}"
    assert verifier.key_ids == (signer.key_id,)


def _tampered(content: bytes, **fields: object) -> bytes:
    data = envelope_json(content)
    data.update(fields)
    return json.dumps(data).encode()


def test_tampered_payload_or_type_fails(keypair: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keypair
    content = signer.sign(TYPE, PAYLOAD).content
    for forged in (
        _tampered(content, payload=b64(PAYLOAD + b" ")),
        _tampered(content, payloadType="application/json"),
        # moving bytes between type and payload keeps the concatenation but not the PAE
        _tampered(content, payloadType=TYPE[:-1], payload=b64(TYPE[-1:].encode() + PAYLOAD)),
    ):
        with pytest.raises(VerificationError, match="does not verify with any trusted key"):
            verifier.verify(forged)


def test_wrong_key_fails(tmp_path: Path, keypair: tuple[KeySigner, KeyVerifier]) -> None:
    signer, _ = keypair
    other = generate_key(tmp_path / "other.pem")
    content = signer.sign(TYPE, PAYLOAD).content
    with pytest.raises(VerificationError) as caught:
        KeyVerifier.from_files([other.public_path]).verify(content)
    assert other.key_id in caught.value.message
    assert caught.value.fix is not None


def test_a_signature_swapped_in_from_another_envelope_fails(
    keypair: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keypair
    good = envelope_json(signer.sign(TYPE, PAYLOAD).content)
    other = envelope_json(signer.sign(TYPE, b'{"other":true}').content)
    swapped = dict(good, signatures=other["signatures"])
    with pytest.raises(VerificationError, match="does not verify"):
        verifier.verify(json.dumps(swapped).encode())


def test_missing_and_extra_signatures_fail(keypair: tuple[KeySigner, KeyVerifier]) -> None:
    signer, verifier = keypair
    good = envelope_json(signer.sign(TYPE, PAYLOAD).content)
    with pytest.raises(VerificationError, match="no signature"):
        verifier.verify(json.dumps(dict(good, signatures=[])).encode())
    # a valid signature next to garbage, or twice, is still refused: exactly one
    for extra in ([{"sig": b64(b"junk")}], good["signatures"]):
        doubled = dict(good, signatures=good["signatures"] + extra)
        with pytest.raises(VerificationError, match="2 signatures"):
            verifier.verify(json.dumps(doubled).encode())
    del good["signatures"]
    with pytest.raises(VerificationError, match="required field"):
        verifier.verify(json.dumps(good).encode())


def test_keyid_is_a_hint_but_a_lying_hint_is_refused(
    tmp_path: Path, keypair: tuple[KeySigner, KeyVerifier]
) -> None:
    signer, _ = keypair
    other = generate_key(tmp_path / "other.pem")
    verifier = KeyVerifier.from_files([other.public_path, tmp_path / "signing.pem.pub"])
    good = envelope_json(signer.sign(TYPE, PAYLOAD).content)
    no_hint = dict(good, signatures=[{"sig": good["signatures"][0]["sig"]}])
    assert verifier.verify(json.dumps(no_hint).encode()).signer == f"key:{signer.key_id}"
    lying = dict(good, signatures=[dict(good["signatures"][0], keyid=other.key_id)])
    with pytest.raises(VerificationError, match="names another key"):
        verifier.verify(json.dumps(lying).encode())


def test_url_safe_unpadded_envelopes_from_other_producers_verify(
    keypair: tuple[KeySigner, KeyVerifier],
) -> None:
    signer, verifier = keypair
    good = envelope_json(signer.sign(TYPE, PAYLOAD).content)

    def urlsafe(text: str) -> str:
        return text.replace("+", "-").replace("/", "_").rstrip("=")

    good["payload"] = urlsafe(good["payload"])
    good["signatures"][0]["sig"] = urlsafe(good["signatures"][0]["sig"])
    assert verifier.verify(json.dumps(good).encode()).payload == PAYLOAD


def test_ecdsa_signature_is_der_over_the_pae(tmp_path: Path) -> None:
    made = generate_key(tmp_path / "k.pem")
    signer = KeySigner.from_file(made.private_path)
    sig = Envelope.from_json(signer.sign(TYPE, PAYLOAD).content).single_signature().sig
    public = load_public_key(made.public_path.read_bytes(), "k")
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(sig, pae(TYPE, PAYLOAD), ec.ECDSA(hashes.SHA256()))


def test_key_from_environment_and_its_errors(tmp_path: Path) -> None:
    made = generate_key(tmp_path / "k.pem")
    pem = made.private_path.read_text()
    signer = KeySigner.from_env("MY_KEY", environ={"MY_KEY": pem})
    assert signer.key_id == made.key_id
    with pytest.raises(InputError, match="MY_KEY is unset or empty") as caught:
        KeySigner.from_env("MY_KEY", environ={})
    assert caught.value.fix is not None
    assert "secrets.MY_KEY" in caught.value.fix
    with pytest.raises(InputError) as garbage:
        KeySigner.from_env("MY_KEY", environ={"MY_KEY": "not-a-key-but-a-secret"})
    assert "$MY_KEY" in garbage.value.message
    assert "not-a-key-but-a-secret" not in garbage.value.diagnostics()


def test_encrypted_keys_need_their_password(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    )
    with pytest.raises(InputError, match="encrypted and no password"):
        KeySigner.from_pem(pem, source="k.pem")
    with pytest.raises(InputError, match="password is wrong"):
        KeySigner.from_pem(pem, source="k.pem", password=b"nope")
    assert KeySigner.from_pem(pem, source="k.pem", password=b"pw").key_id == key_id(
        key.public_key()
    )


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_unsupported_keys_are_refused_with_the_file_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"k\.pem: the ECDSA key uses curve secp384r1"):
        KeySigner.from_pem(_pem(ec.generate_private_key(ec.SECP384R1())), source="k.pem")
    with pytest.raises(InputError, match="unsupported key type RSAPrivateKey"):
        KeySigner.from_pem(_pem(rsa.generate_private_key(65537, 2048)), source="k.pem")
    with pytest.raises(InputError, match="not a readable PEM private key"):
        KeySigner.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n", source="k.pem")
    with pytest.raises(InputError, match="not a PEM public key"):
        load_public_key(_pem(ec.generate_private_key(ec.SECP256R1())), "pub.pem")
    with pytest.raises(InputError, match=r"missing\.pem: cannot read the key"):
        KeySigner.from_file(tmp_path / "missing.pem")
    huge = tmp_path / "huge.pem"
    huge.write_bytes(b"x" * 70_000)
    with pytest.raises(InputError, match="too large"):
        KeySigner.from_file(huge)
    with pytest.raises(InputError, match="no public key is configured"):
        KeyVerifier([])


def test_ed25519_key_id_is_the_spki_digest() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert KeySigner(key).key_id == digest_bytes(der)
