"""AWS STS names and limits: session tags, SourceIdentity, RoleSessionName and DurationSeconds.

The rules are STS's own (the botocore service model carries them): a tag key is 1-128 and a
value 0-256 characters of ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``; ``SourceIdentity`` and
``RoleSessionName`` are 2-64 characters of ``[\\w+=,.@-]``; a chained session (gate role, then
the target role) lasts 900-3600 s. A character outside the set becomes ``_``; a value too long
keeps its head and ends in ``+`` and 16 hex digits of the original's SHA-256, so two long values
never collide. Every rewrite comes back with a note saying what was changed, so the record keeps
the fact that the tag on the session is not the value verbatim.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from envsecops.creds.interface import MintRequestInvalid, scrub, session_label

SERVICE = "AWS STS"
TAG_KEYS = ("env_hash", "policy_id", "decision_id")
"""The session tags every stamped session carries (also its TransitiveTagKeys)."""
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_NAME = 64
MIN_NAME = 2
MIN_DURATION = 900
DEFAULT_DURATION = 900
CHAINED_MAX_DURATION = 3600
TAG_PUNCTUATION = frozenset("_.:/=+-@")
NAME_CHARS = re.compile(r"[A-Za-z0-9_+=,.@-]")
HASH_SUFFIX = 17  # "+" and 16 hex digits


@dataclass(frozen=True, slots=True)
class Sanitised:
    """A value as it will be sent, and a note when it differs from the original."""

    value: str
    note: str | None = None


def _utf16_len(text: str) -> int:
    """Length as STS counts it (UTF-16 code units: characters beyond the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    out: list[str] = []
    used = 0
    for ch in text:
        width = _utf16_len(ch)
        if used + width > limit:
            break
        out.append(ch)
        used += width
    return "".join(out)


def _digest16(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def tag_char_allowed(ch: str) -> bool:
    """Whether STS accepts ``ch`` in a tag key or value: a letter, separator, digit or _.:/=+-@."""
    return unicodedata.category(ch)[0] in {"L", "Z", "N"} or ch in TAG_PUNCTUATION


def _fit(original: str, cleaned: str, limit: int) -> tuple[str, bool]:
    if _utf16_len(cleaned) <= limit:
        return cleaned, False
    return _cut(cleaned, limit - HASH_SUFFIX) + "+" + _digest16(original), True


def _note(what: str, original: str, replaced: int, cut: bool, limit: int, allowed: str) -> str:
    changes = []
    if replaced:
        changes.append(f"{replaced} character(s) outside {allowed} replaced with '_'")
    if cut:
        changes.append(
            f"cut to {limit} characters ending in '+' and 16 hex digits of the original's SHA-256"
        )
    return f"{what}: {'; '.join(changes)} (original {scrub(repr(original), limit=120)})"


def sanitise_tag(value: str, *, what: str, limit: int = MAX_TAG_VALUE) -> Sanitised:
    """``value`` within STS's tag alphabet and ``limit``; the note records any rewrite."""
    cleaned = "".join(ch if tag_char_allowed(ch) else "_" for ch in value)
    replaced = sum(1 for a, b in zip(value, cleaned, strict=True) if a != b)
    fitted, cut = _fit(value, cleaned, limit)
    if not replaced and not cut:
        return Sanitised(value)
    allowed = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]"
    return Sanitised(fitted, _note(f"tag {what}", value, replaced, cut, limit, allowed))


def session_tags(env_hash: str, policy_id: str, decision_id: str) -> tuple[Sanitised, ...]:
    """The three stamp values, in :data:`TAG_KEYS` order, each sanitised."""
    values = (env_hash, policy_id, decision_id)
    return tuple(sanitise_tag(value, what=key) for key, value in zip(TAG_KEYS, values, strict=True))


def _name_chars(text: str) -> tuple[str, int]:
    cleaned = "".join(ch if NAME_CHARS.fullmatch(ch) else "_" for ch in text)
    return cleaned, sum(1 for a, b in zip(text, cleaned, strict=True) if a != b)


def source_identity(decision_id: str) -> Sanitised:
    """The decision id as a ``SourceIdentity`` (2-64 of ``[\\w+=,.@-]``), rewritten if need be."""
    if len(decision_id) < MIN_NAME:
        raise MintRequestInvalid(
            f"decision id {decision_id!r} is shorter than the 2 characters SourceIdentity needs",
            fix="mint only with a decision made by `envsecops verify` (ids look like dec_<hex>)",
            service=SERVICE,
            call="AssumeRole",
            target="SourceIdentity",
        )
    cleaned, replaced = _name_chars(decision_id)
    fitted, cut = _fit(decision_id, cleaned, MAX_NAME)
    if not replaced and not cut:
        return Sanitised(decision_id)
    note = _note("source identity", decision_id, replaced, cut, MAX_NAME, "[\\w+=,.@-]")
    return Sanitised(fitted, note)


def role_session_name(run_id: str, run_attempt: str, env_hash_hex: str) -> str:
    """The RoleSessionName: :func:`envsecops.creds.interface.session_label` (≤ 64 chars)."""
    return session_label(run_id, run_attempt, env_hash_hex)


def check_duration(seconds: int | None) -> int:
    """``DurationSeconds``: 900 by default; anything outside 900-3600 is refused before a call."""
    if seconds is None:
        return DEFAULT_DURATION
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not MIN_DURATION <= seconds <= CHAINED_MAX_DURATION
    ):
        raise MintRequestInvalid(
            f"DurationSeconds {seconds!r} is outside {MIN_DURATION}-{CHAINED_MAX_DURATION} s: "
            "STS refuses less than 15 minutes, and a chained session (gate role, then the "
            "target role) lasts at most one hour",
            fix="ask for 900 s (the default) up to 3600 s; set `credentials.max-lifetime` in "
            "the policy to allow more than 15 minutes",
            service=SERVICE,
            call="AssumeRole",
            target="DurationSeconds",
        )
    return seconds
