"""Canonical JSON (RFC 8785) and the `sha256:<hex>` digests every record is named by."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

PREFIX = "sha256:"


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) serialisation of ``value``: sorted keys, no spaces, UTF-8."""
    return bytes(rfc8785.dumps(value))


def digest_bytes(data: bytes) -> str:
    """`sha256:<hex>` of raw bytes."""
    return PREFIX + hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of ``value``."""
    return digest_bytes(canonical_json(value))


def is_digest(text: str) -> bool:
    """Whether ``text`` is a well-formed `sha256:<64 lowercase hex>` digest."""
    hexpart = text[len(PREFIX) :]
    return (
        text.startswith(PREFIX)
        and len(hexpart) == 64
        and all(c in "0123456789abcdef" for c in hexpart)
    )
