"""DSSE envelopes (KeyVerifier) and Sigstore bundles (SigstoreVerifier) from hostile bytes.

A damaged envelope or bundle either fails with a VerificationError or, where the damage
was immaterial (JSON whitespace, key order), verifies to exactly the payload that was
signed: garbage never verifies, and no mutation changes what a verified payload says.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import example, given
from hypothesis import strategies as st

from envsecops.attest.interface import VerificationError
from envsecops.attest.key import KeySigner, KeyVerifier
from tests.conftest import shared_dir
from tests.fuzz.budget import fuzz_settings, ran
from tests.fuzz.mutate import any_bytes, json_edits, json_values

PAYLOAD_TYPE = "application/vnd.in-toto+json"
PAYLOAD = b'{"_type":"https://in-toto.io/Statement/v1","subject":[]}'
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)


@cache
def _signers() -> tuple[KeySigner, KeySigner]:
    return (
        KeySigner(ec.generate_private_key(ec.SECP256R1())),
        KeySigner(ed25519.Ed25519PrivateKey.generate()),
    )


@cache
def _verifier() -> KeyVerifier:
    from envsecops.attest.key import load_public_key

    return KeyVerifier(load_public_key(s.public_pem, "fuzz") for s in _signers())


@cache
def _envelopes() -> tuple[bytes, ...]:
    signed = [s.sign(PAYLOAD_TYPE, PAYLOAD).content for s in _signers()]
    other = _signers()[0].sign("text/plain", b"")  # a second payload to splice from
    return (*signed, other.content)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@st.composite
def forged_envelopes(draw: st.DrawFn) -> bytes:
    """A well-formed envelope whose signature is random or lifted from another payload."""
    payload = draw(st.binary(max_size=64))
    lifted = json.loads(draw(st.sampled_from(_envelopes())))["signatures"][0]
    sig = draw(st.one_of(st.just(lifted["sig"]), st.binary(max_size=80).map(_b64)))
    keyid = draw(st.one_of(st.just(lifted.get("keyid", "")), st.text(max_size=8)))
    extra = draw(st.dictionaries(st.text(max_size=6), json_values(4), max_size=2))
    envelope = {
        **extra,
        "payloadType": draw(st.sampled_from([PAYLOAD_TYPE, "text/plain", ""])),
        "payload": _b64(payload),
        "signatures": [{"sig": sig, "keyid": keyid}],
    }
    return json.dumps(envelope).encode()


def _accepts_only_the_signed_payload(content: bytes) -> None:
    try:
        verified = _verifier().verify(content)
    except VerificationError:
        return
    ran("dsse-envelope (verified)")
    assert (verified.payload_type, verified.payload) in {
        (PAYLOAD_TYPE, PAYLOAD),
        ("text/plain", b""),
    }, "a damaged envelope verified to a payload nobody signed"


@fuzz_settings(300)
@given(
    content=st.deferred(
        lambda: st.one_of(
            any_bytes(_envelopes()), st.sampled_from(_envelopes()).flatmap(json_edits)
        )
    )
)
@example(content=b'{"payloadType":"x","payload":"","signatures":[]}')
@example(content=b'{"payloadType":"x","payload":"","signatures":[{"sig":""}]}')
def test_dsse_envelope_mutations(content: bytes) -> None:
    """Byte-level damage to signed envelopes: refused, or the very payload that was signed."""
    ran("dsse-envelope")
    _accepts_only_the_signed_payload(content)


@fuzz_settings(200)
@given(content=forged_envelopes())
def test_dsse_forged_envelopes_never_verify(content: bytes) -> None:
    """Well-formed envelopes with a random payload and a random or lifted signature."""
    ran("dsse-envelope")
    _accepts_only_the_signed_payload(content)  # the forger may rebuild a signed pair exactly


def _sigstore_case() -> tuple[bytes, bytes, Path]:
    folder = shared_dir("sigstore-assets") / "pass-dsse-intoto-gha-prod"
    return (
        (folder / "bundle.sigstore.json").read_bytes(),
        (folder / "statement.intoto.json").read_bytes(),
        folder / "trusted_root.json",
    )


def test_sigstore_bundle_mutations() -> None:
    """Damaged bundles: VerificationError, or the signed statement and nothing else."""
    bundle, statement, root = _sigstore_case()
    from envsecops.attest.sigstore_verify import SigstoreIdentity, SigstoreVerifier

    verifier = SigstoreVerifier(SigstoreIdentity(BEACON), trusted_root=root)
    assert verifier.verify(bundle).payload == statement  # the control: the seed verifies

    @fuzz_settings(150)
    @given(content=st.one_of(any_bytes([bundle]), json_edits(bundle)))
    @example(content=b'{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}')
    def run(content: bytes) -> None:
        ran("sigstore-bundle")
        try:
            verified = verifier.verify(content)
        except VerificationError:
            return
        ran("sigstore-bundle (verified)")
        assert verified.payload == statement, "a damaged bundle verified to another statement"
        assert verified.payload_type == PAYLOAD_TYPE

    run()
