"""A tiny YAML emitter for policy files: scalars plain only when no YAML reader can misread them.

PyYAML (YAML 1.1) reads ``no`` as a boolean and ``3.10`` as the float 3.1; envsecops' own loader
reads every scalar as the string written, but editors, linters and other tools do not. The policy
files that `policy init` and `policy propose` write therefore keep a scalar plain only when it
starts with a letter, ``_`` or ``/``, holds nothing but ``[A-Za-z0-9_./+:@~%-]``, does not end
with ``:`` and is not one of YAML 1.1's boolean or null words; every other scalar is
double-quoted with YAML escapes. Comments are made single-line and printable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./+:@~%-]*\Z")
YAML11_WORDS = frozenset(
    word
    for base in ("y", "yes", "n", "no", "true", "false", "on", "off", "null")
    for word in (base, base.capitalize(), base.upper())
)
"""Plain words YAML 1.1 resolves to booleans or null (``~`` is excluded by PLAIN already)."""
_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def needs_quotes(text: str) -> bool:
    """Whether ``text`` must be double-quoted to be read back as exactly this string."""
    return not PLAIN.match(text) or text.endswith(":") or text in YAML11_WORDS


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    printable = (
        code in {0x09, 0x0A, 0x0D}
        or 0x20 <= code <= 0x7E
        or code == 0x85
        or 0xA0 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    ) and code != 0xFEFF
    if printable:
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar."""
    return '"' + "".join(_escape(char) for char in text) + '"'


def scalar(text: str) -> str:
    """``text`` plain when that is safe, double-quoted otherwise."""
    return quoted(text) if needs_quotes(text) else text


def flow_list(values: Iterable[str]) -> str:
    """``[a, "b", …]``."""
    return "[" + ", ".join(scalar(value) for value in values) + "]"


def comment(text: str) -> str:
    """``text`` made safe for the inside of a one-line comment (no line breaks, printable)."""
    out = []
    for char in text:
        code = ord(char)
        if char in "\r\n\x85\u2028\u2029" or code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(_escape(char) if char in _SHORT_ESCAPES else f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF or code == 0xFEFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def comment_lines(text: str, indent: str = "", width: int = 96) -> list[str]:
    """``text`` as ``# …`` lines wrapped at ``width`` columns, indented by ``indent``."""
    words = comment(text).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and len(indent) + 2 + len(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return [f"{indent}# {line}".rstrip() for line in lines]
