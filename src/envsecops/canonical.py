"""Canonical JSON (RFC 8785) and the `sha256:<hex>` digests every record is named by."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import rfc8785

PREFIX = "sha256:"


_BMP_END = "\U00010000"
_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    """Whether ``json.dumps`` already gives the JCS bytes for ``value``.

    That holds for JSON made of strings, bools, None and safe integers, in objects whose keys
    are all in the Basic Multilingual Plane (where UTF-16 and code-point order agree): the
    escapes Python writes for control characters are the ones JCS prescribes. Floats,
    big integers and astral keys go through the rfc8785 package instead.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) or item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if -_SAFE_INT <= item <= _SAFE_INT:
                continue
            return False
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or (key and max(key) >= _BMP_END):
                    return False
                stack.append(child)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) serialisation of ``value``: sorted keys, no spaces, UTF-8.

    A plain-JSON fast path through the C encoder gives byte-identical output (a property
    test compares the two); anything else is serialised by the rfc8785 package.
    """
    if _plain(value):
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let rfc8785 refuse it
            pass
    return bytes(rfc8785.dumps(value))


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def bmp_only(text: str) -> bool:
    """Whether ``text`` has no character outside the Basic Multilingual Plane (fast, in C)."""
    return text.isascii() or _ASTRAL.search(text) is None


def digest_of_strings(value: Any) -> str:
    """:func:`digest` for JSON made only of objects, arrays and strings (a YAML document read
    as text), without the per-node walk: such a tree's sorted compact dump is RFC 8785 unless
    some text lies outside the Basic Multilingual Plane (key order) or is a lone surrogate,
    and only then does the general path run."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if bmp_only(text):
        try:
            return digest_bytes(text.encode("utf-8"))
        except UnicodeEncodeError:
            pass
    return digest(value)


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
