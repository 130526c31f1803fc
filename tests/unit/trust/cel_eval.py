"""A tiny evaluator for the CEL subset `trust-policy gcp` emits.

Grammar: ``term ("&&" term)*`` where a term is ``assertion.NAME == "str"`` or
``assertion.NAME in ["str", ...]``. A claim that is absent is an evaluation error, which Google
treats as a refusal; anything outside the subset raises, so the test notices new syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>&&|==|\[|\]|,)|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))'
)


class CelError(Exception):
    """Outside the subset, or an absent claim."""


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; refuses anything it does not know."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text.rstrip()):
        match = TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise CelError(f"unexpected text at {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match[kind]))
        pos = match.end()
    return out


def _string(token: tuple[str, str]) -> str:
    if token[0] != "str":
        raise CelError(f"expected a string literal, got {token}")
    return re.sub(r"\\(.)", r"\1", token[1][1:-1])


def evaluate(text: str, assertion: Mapping[str, str]) -> bool:
    """Evaluate the condition against the token's claims."""
    toks = tokens(text)
    result = True
    i = 0
    while True:
        kind, word = toks[i]
        if kind != "word" or not word.startswith("assertion."):
            raise CelError(f"expected assertion.NAME, got {word!r}")
        claim = word.removeprefix("assertion.")
        if claim not in assertion:
            raise CelError(f"no such key: {claim}")
        value = assertion[claim]
        operator = toks[i + 1][1]
        if operator == "==":
            result = result and value == _string(toks[i + 2])
            i += 3
        elif operator == "in":
            if toks[i + 2][1] != "[":
                raise CelError("expected [")
            items: list[str] = []
            i += 3
            while toks[i][1] != "]":
                items.append(_string(toks[i]))
                i += 1
                if toks[i][1] == ",":
                    i += 1
            result = result and value in items
            i += 1
        else:
            raise CelError(f"unsupported operator {operator!r}")
        if i == len(toks):
            return result
        if toks[i][1] != "&&":
            raise CelError(f"expected &&, got {toks[i][1]!r}")
        i += 1


def allows(text: str, assertion: Mapping[str, str]) -> bool:
    """True only when the condition evaluates to true; an error is a refusal."""
    try:
        return evaluate(text, assertion)
    except CelError:
        return False
