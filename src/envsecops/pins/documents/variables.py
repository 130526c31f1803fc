"""Shell-style `$VAR` / `${VAR:-default}` interpolation, resolved only from what a file declares.

Dockerfiles (global `ARG` defaults) and compose files (`${VAR:-default}`) name images through
variables. pin-check never reads the environment: a variable resolves only from a value the
file itself declares or from an inline default, and anything else stays unresolved, so a
finding says "cannot be verified" instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# `${NAME}` followed by an optional modifier: `:-`, `-`, `:+`, `+`, `:?`, `?`.
BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+?])(?P<word>.*))?", re.S)
MAX_DEPTH = 8


class _Unresolvable(Exception):
    """A substitution pin-check cannot evaluate (unknown name, unsupported modifier, nesting)."""


@dataclass
class Expansion:
    """The result of interpolating one string.

    ``value`` is None when some variable could not be resolved; ``unresolved`` names them.
    ``used`` lists the declared values that were substituted (``NAME=value``) and
    ``defaults`` the inline defaults that were taken (``${NAME:-default}``).
    """

    value: str | None
    unresolved: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)

    @property
    def substituted(self) -> bool:
        """Whether any variable (declared value or inline default) was substituted."""
        return bool(self.used or self.defaults)


def expand(text: str, known: Mapping[str, str | None], *, dollar_escape: bool = False) -> Expansion:
    """Interpolate ``text`` with ``known`` (name -> declared value, None when declared bare).

    ``dollar_escape`` makes `$$` a literal `$` (compose). A `$` not followed by a name or `{`
    is literal, as in the shells these formats copy.
    """
    result = Expansion(value=None)
    try:
        result.value = _expand(text, known, dollar_escape, result, 0)
    except _Unresolvable:
        result.value = None
    if result.unresolved:
        result.value = None
    return result


def _closing_brace(text: str, start: int) -> int:
    """Index of the `}` that closes the `${` whose `{` is at ``start``; -1 if unbalanced."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _expand(
    text: str, known: Mapping[str, str | None], escape: bool, out: Expansion, depth: int
) -> str:
    if depth > MAX_DEPTH:
        out.unresolved.append(text)
        raise _Unresolvable(text)
    parts: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$" or index + 1 >= len(text):
            parts.append(char)
            index += 1
            continue
        following = text[index + 1]
        if escape and following == "$":
            parts.append("$")
            index += 2
        elif following == "{":
            end = _closing_brace(text, index + 1)
            if end < 0:
                out.unresolved.append(text[index:])
                raise _Unresolvable(text)
            parts.append(_braced(text[index + 2 : end], known, escape, out, depth))
            index = end + 1
        else:
            match = NAME.match(text, index + 1)
            if match is None:
                parts.append(char)
                index += 1
                continue
            parts.append(_lookup(match.group(0), known, out))
            index = match.end()
    return "".join(parts)


def _lookup(name: str, known: Mapping[str, str | None], out: Expansion) -> str:
    value = known.get(name)
    if value is None:
        out.unresolved.append(name)
        return ""
    out.used.append(f"{name}={value}")
    return value


def _braced(
    body: str, known: Mapping[str, str | None], escape: bool, out: Expansion, depth: int
) -> str:
    match = BRACED.fullmatch(body)
    if match is None:
        out.unresolved.append("${" + body + "}")
        return ""
    name, op, word = match.group("name"), match.group("op"), match.group("word")
    if op is None:
        return _lookup(name, known, out)
    value = known.get(name)
    declared = name in known and value is not None
    if op in {":-", "-"}:
        if declared and (op == "-" or value):
            return _lookup(name, known, out)
        out.defaults.append("${" + body + "}")
        return _expand(word or "", known, escape, out, depth + 1)
    if op in {":+", "+"}:
        if not declared:
            # Unknown at analysis time: the alternative applies only when the caller sets it.
            out.unresolved.append(name)
            return ""
        out.used.append(f"{name}={value}")
        return _expand(word or "", known, escape, out, depth + 1) if (op == "+" or value) else ""
    # `:?` / `?`: the value must be provided; an error message is not a value.
    return _lookup(name, known, out)
