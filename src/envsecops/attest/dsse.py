"""DSSE v1 envelopes: the pre-authentication encoding and a strict JSON envelope codec.

Spec: https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md and envelope.md.
The signature covers ``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP
body`` where LEN is the ASCII decimal byte length, so neither the payload type nor the
payload can be changed or re-split without breaking it. Decoding follows the envelope's
parsing rules (required fields, unknown fields ignored, either base64 alphabet) and adds
strictness where two readers could disagree (see `encoding`). Envelopes may carry several
signatures; envsecops signs with one and its verifier requires exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from envsecops.attest.encoding import EncodingError, b64decode_strict, b64encode, load_json_object
from envsecops.canonical import canonical_json

MEDIA_TYPE = "application/vnd.dsse+json"
SUFFIX = ".dsse.json"
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_SIGNATURES = 16


class EnvelopeError(EncodingError):
    """A DSSE envelope that is malformed or does not have exactly the signatures required."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload_type`` and ``payload``."""
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature; ``keyid`` is an unauthenticated hint and never decides anything."""

    sig: bytes
    keyid: str = ""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded DSSE envelope."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def pae(self) -> bytes:
        """The bytes every signature in this envelope must cover."""
        return pae(self.payload_type, self.payload)

    def single_signature(self) -> Signature:
        """The one signature envsecops accepts; none or several is an error."""
        if not self.signatures:
            raise EnvelopeError(
                "the DSSE envelope has no signature",
                fix="re-run `envsecops attest` to sign the statement again",
            )
        if len(self.signatures) != 1:
            raise EnvelopeError(
                f"the DSSE envelope has {len(self.signatures)} signatures; envsecops accepts "
                "exactly one (an extra signature is never ignored)",
                fix="use the envelope as `envsecops attest` wrote it",
            )
        return self.signatures[0]

    def to_json(self) -> bytes:
        """The envelope as canonical JSON (RFC 8785) with standard, padded base64."""
        signatures: list[dict[str, str]] = []
        for signature in self.signatures:
            entry = {"sig": b64encode(signature.sig)}
            if signature.keyid:
                entry["keyid"] = signature.keyid
            signatures.append(entry)
        return canonical_json(
            {
                "payload": b64encode(self.payload),
                "payloadType": self.payload_type,
                "signatures": signatures,
            }
        )

    @classmethod
    def from_json(cls, content: bytes) -> Envelope:
        """Decode an envelope; raise EnvelopeError naming the field that is wrong."""
        try:
            data = load_json_object(content, "the DSSE envelope")
        except EnvelopeError:
            raise
        except EncodingError as exc:
            raise EnvelopeError(exc.message) from exc
        if "mediaType" in data and "payloadType" not in data:
            raise EnvelopeError(
                f"this is a Sigstore bundle ({data.get('mediaType')!r}), not a DSSE envelope",
                fix="verify it with the sigstore verifier (keyless), not a public key",
            )
        missing = [name for name in ("payload", "payloadType", "signatures") if name not in data]
        if missing:
            raise EnvelopeError(f"the DSSE envelope lacks the required field(s) {missing}")
        payload_type = data["payloadType"]
        if not isinstance(payload_type, str):
            raise EnvelopeError("the DSSE envelope's `payloadType` must be a string")
        payload = _decode(data["payload"], "`payload`")
        return cls(payload_type, payload, _signatures(data["signatures"]))


def _decode(value: object, what: str) -> bytes:
    try:
        return b64decode_strict(value, f"the DSSE envelope's {what}")
    except EncodingError as exc:
        raise EnvelopeError(exc.message) from exc


def _signatures(value: Any) -> tuple[Signature, ...]:
    if not isinstance(value, list):
        raise EnvelopeError("the DSSE envelope's `signatures` must be a list")
    if len(value) > MAX_SIGNATURES:
        raise EnvelopeError(
            f"the DSSE envelope has {len(value)} signatures (limit {MAX_SIGNATURES})"
        )
    out: list[Signature] = []
    for index, item in enumerate(value):
        where = f"`signatures[{index}]`"
        if not isinstance(item, dict):
            raise EnvelopeError(f"the DSSE envelope's {where} must be an object")
        if "sig" not in item:
            raise EnvelopeError(f"the DSSE envelope's {where} has no `sig`")
        sig = _decode(item["sig"], f"{where}.sig")
        if not sig:
            raise EnvelopeError(f"the DSSE envelope's {where}.sig is empty")
        keyid = item.get("keyid", "")
        if keyid is None:
            keyid = ""
        if not isinstance(keyid, str):
            raise EnvelopeError(f"the DSSE envelope's {where}.keyid must be a string")
        out.append(Signature(sig, keyid))
    return tuple(out)
