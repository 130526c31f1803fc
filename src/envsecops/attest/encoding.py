"""Strict decoders for untrusted attestation bytes: JSON without ambiguity, canonical base64.

An attestation is read by more than one program (ours, cosign, sigstore-python), so any
input two parsers could read differently is refused rather than interpreted: duplicate
object keys (Python keeps the last, Go's encoding/json keeps the last, other parsers the
first), `NaN`/`Infinity`, invalid UTF-8, and base64 that decodes the same bytes from more
than one spelling (stray padding, whitespace, mixed alphabets, non-zero trailing bits).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, NoReturn

from envsecops.attest.interface import VerificationError

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
"""Attestations and statements are small (a summary, never the bag); bigger is refused."""

_STANDARD = re.compile(r"[A-Za-z0-9+/]*")
_URLSAFE = re.compile(r"[A-Za-z0-9_-]*")


class EncodingError(VerificationError):
    """Attestation bytes that are not strict JSON or canonical base64: a deny."""


def _reject_constant(name: str) -> NoReturn:
    raise EncodingError(f"`{name}` is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise EncodingError(f"duplicate key {key!r} in a JSON object")
        out[key] = value
    return out


def load_json_object(
    data: bytes, what: str, *, max_bytes: int | None = MAX_DOCUMENT_BYTES
) -> dict[str, Any]:
    """Parse ``data`` as one strict JSON object; ``what`` names it in errors."""
    if max_bytes is not None and len(data) > max_bytes:
        raise EncodingError(f"{what} is {len(data)} bytes, more than the {max_bytes}-byte limit")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"{what} is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except EncodingError as exc:
        raise EncodingError(f"{what}: {exc.message}") from exc
    except json.JSONDecodeError as exc:
        raise EncodingError(
            f"{what} is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise EncodingError(f"{what} is not usable JSON: {exc}") from exc
    except RecursionError as exc:
        raise EncodingError(f"{what} is nested too deeply to be an attestation") from exc
    if not isinstance(value, dict):
        raise EncodingError(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def b64decode_strict(text: object, what: str) -> bytes:
    """Decode base64 in either RFC 4648 alphabet (DSSE allows both), canonical spelling only.

    Padding may be omitted (URL-safe producers often do) but, when present, must be exact;
    whitespace, characters from both alphabets, and trailing bits that are not zero are
    refused, so one byte string has exactly one accepted spelling per alphabet and padding.
    """
    if not isinstance(text, str):
        raise EncodingError(f"{what} must be a base64 string, not {type(text).__name__}")
    body = text.rstrip("=")
    padding = len(text) - len(body)
    if padding and (padding > 2 or len(text) % 4):
        raise EncodingError(f"{what} has wrong base64 padding")
    if len(body) % 4 == 1:
        raise EncodingError(f"{what} has a base64 length that cannot be decoded")
    if _STANDARD.fullmatch(body):
        altchars = b"+/"
    elif _URLSAFE.fullmatch(body):
        altchars = b"-_"
    else:
        raise EncodingError(
            f"{what} is not base64: characters outside the standard and URL-safe alphabets, "
            "whitespace, or the two alphabets mixed"
        )
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), altchars, validate=True)
    except binascii.Error as exc:
        raise EncodingError(f"{what} is not base64: {exc}") from exc
    if base64.b64encode(data, altchars).decode("ascii").rstrip("=") != body:
        raise EncodingError(f"{what} is not canonical base64 (its last character has stray bits)")
    return data


def b64encode(data: bytes) -> str:
    """Standard base64 with padding: what our envelopes carry."""
    return base64.b64encode(data).decode("ascii")
