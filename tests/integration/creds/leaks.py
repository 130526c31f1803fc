"""Grep everything a mint could have shown for every secret it handled."""

from __future__ import annotations

import json
from collections.abc import Iterable

from envsecops.creds.interface import IssuedCredential, MintError


def exception_texts(error: BaseException) -> list[str]:
    """What an exception can show: str, repr, diagnostics, and the same for its causes."""
    texts: list[str] = []
    current: BaseException | None = error
    while current is not None:
        texts += [str(current), repr(current)]
        if isinstance(current, MintError):
            texts += [current.diagnostics(), current.target, current.code]
        current = current.__cause__ or current.__context__
    return texts


def issued_texts(issued: IssuedCredential) -> list[str]:
    """What an issued credential shows when printed, logged or recorded."""
    return [
        repr(issued),
        str(issued),
        json.dumps(issued.to_json()),
        json.dumps(issued.credential.to_json()),
        *issued.notes,
    ]


def assert_no_secret(secrets: Iterable[str], *texts: str | Iterable[str]) -> None:
    """Fail naming where a secret (or a 12-character piece of one) appears."""
    flat: list[str] = []
    for text in texts:
        flat += [text] if isinstance(text, str) else list(text)
    haystack = "\n".join(flat)
    for secret in secrets:
        assert secret, "an empty secret cannot be checked"
        pieces = {secret} | {secret[i : i + 12] for i in range(0, max(len(secret) - 12, 0), 12)}
        for piece in pieces:
            assert piece not in haystack, f"a secret ({len(secret)} chars) leaked: …{piece[:4]}…"
