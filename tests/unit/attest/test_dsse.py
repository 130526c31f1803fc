"""DSSE: PAE against the spec's test vector, and strict envelope and base64 decoding."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from envsecops.attest.dsse import Envelope, EnvelopeError, Signature, pae
from envsecops.attest.encoding import EncodingError, b64decode_strict, load_json_object
from envsecops.attest.interface import VerificationError

# The test vector of secure-systems-lab/dsse protocol.md (v1.0.0).
SPEC_TYPE = "http://example.com/HelloWorld"
SPEC_BODY = b"hello world"
SPEC_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
SPEC_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
SPEC_ENVELOPE = (
    b'{"payload": "aGVsbG8gd29ybGQ=", "payloadType": "http://example.com/HelloWorld", '
    b'"signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHq'
    b'JPcIAriEGAHTVeCUjW2JIZA=="}]}'
)


def test_pae_matches_the_spec_vector() -> None:
    assert pae(SPEC_TYPE, SPEC_BODY) == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    assert pae("", b"") == b"DSSEv1 0  0 "
    # lengths are byte lengths of the UTF-8 type, not character counts
    assert pae("é", b"\x00\xff") == b"DSSEv1 2 \xc3\xa9 2 \x00\xff"


def test_the_spec_signature_verifies_over_our_pae() -> None:
    envelope = Envelope.from_json(SPEC_ENVELOPE)
    assert (envelope.payload_type, envelope.payload) == (SPEC_TYPE, SPEC_BODY)
    raw = envelope.single_signature().sig
    assert envelope.single_signature().keyid == ""
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicNumbers(SPEC_X, SPEC_Y, ec.SECP256R1()).public_key()
    key.verify(der, envelope.pae(), ec.ECDSA(hashes.SHA256()))  # raises if PAE were wrong


def test_envelope_round_trips_as_canonical_json() -> None:
    envelope = Envelope("application/x", b"\x00body", (Signature(b"sig", "k1"),))
    text = envelope.to_json()
    assert text == (
        b'{"payload":"AGJvZHk=","payloadType":"application/x",'
        b'"signatures":[{"keyid":"k1","sig":"c2ln"}]}'
    )
    assert Envelope.from_json(text) == envelope


def _doc(**fields: object) -> bytes:
    base: dict[str, object] = {
        "payload": "aGVsbG8=",
        "payloadType": "t",
        "signatures": [{"sig": "c2ln"}],
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"[]", "must be a JSON object"),
        (b"\xff", "not UTF-8"),
        (b"{", "not JSON"),
        (b'{"payload": NaN}', "`NaN` is not JSON"),
        (b'{"payload":"aGk=","payload":"aGVsbG8="}', "duplicate key 'payload'"),
        (_doc(payload=...), "lacks the required field(s) ['payload']"),
        (_doc(signatures=...), "['signatures']"),
        (_doc(payloadType=7), "`payloadType` must be a string"),
        (_doc(signatures={"sig": "c2ln"}), "`signatures` must be a list"),
        (_doc(signatures=["c2ln"]), "`signatures[0]` must be an object"),
        (_doc(signatures=[{"keyid": "k"}]), "`signatures[0]` has no `sig`"),
        (_doc(signatures=[{"sig": ""}]), "`signatures[0]`.sig is empty"),
        (_doc(signatures=[{"sig": "c2ln", "keyid": 3}]), "keyid must be a string"),
        (_doc(signatures=[{"sig": "c2ln"}] * 17), "limit 16"),
        (_doc(payload="aGV sbG8"), "not base64"),
        (_doc(payload="aGVsb"), "base64 length"),
        (_doc(payload="aGVsbG9="), "stray bits"),
        (_doc(payload="aGVsbA==="), "padding"),
        (_doc(payload="+-"), "not base64"),
        (b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}', "Sigstore bundle"),
    ],
)
def test_malformed_envelopes_are_refused(content: bytes, needle: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        Envelope.from_json(content)
    assert needle in caught.value.message
    assert isinstance(caught.value, VerificationError)


def test_unknown_fields_are_ignored_as_the_spec_requires() -> None:
    envelope = Envelope.from_json(_doc(extra={"x": 1}, signatures=[{"sig": "c2ln", "x": 2}]))
    assert envelope.signatures == (Signature(b"sig", ""),)


def test_signature_count_is_exactly_one() -> None:
    none = Envelope.from_json(_doc(signatures=[]))
    with pytest.raises(EnvelopeError, match="no signature"):
        none.single_signature()
    two = Envelope.from_json(_doc(signatures=[{"sig": "c2ln"}, {"sig": "c2ln"}]))
    with pytest.raises(EnvelopeError, match="2 signatures"):
        two.single_signature()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b""),
        ("aGVsbG8=", b"hello"),
        ("aGVsbG8", b"hello"),  # unpadded is allowed...
        ("-_8=", b"\xfb\xff"),  # ...and so is the URL-safe alphabet
        ("+/8=", b"\xfb\xff"),
    ],
)
def test_canonical_base64_in_either_alphabet_decodes(text: str, expected: bytes) -> None:
    assert b64decode_strict(text, "x") == expected


@pytest.mark.parametrize("text", ["aGVsbG8=\n", "aGVs\nbG8=", "+_8=", "aGVsbG8==", "a", "=", 5])
def test_non_canonical_base64_is_refused(text: object) -> None:
    with pytest.raises(EncodingError):
        b64decode_strict(text, "x")


def test_json_objects_have_a_size_limit() -> None:
    with pytest.raises(EncodingError, match="more than the 10-byte limit"):
        load_json_object(b'{"a": "0123456789"}', "doc", max_bytes=10)
    assert load_json_object(b'{"a": 1}', "doc", max_bytes=None) == {"a": 1}
    with pytest.raises(EncodingError, match="not usable JSON"):
        load_json_object(b'{"a": ' + b"9" * 5000 + b"}", "doc")
    with pytest.raises(EncodingError, match="nested too deeply"):
        load_json_object(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "doc")
