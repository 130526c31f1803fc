"""JSON with comments (devcontainer.json), read as VS Code's JSONC and located by offset.

JSONC is JSON plus `//` and `/* */` comments and trailing commas, nothing more. We blank
exactly those (keeping every other character at its offset) and hand the result to the
standard library's C-accelerated `json`, which reports errors with line and column. We
do not use ``json5`` here: it accepts far more than JSONC (single quotes, unquoted keys,
`NaN`), which VS Code rejects, and its pure-Python parser takes seconds on a
megabyte-sized file a hostile repository could commit. The same scan records where every
key is written, so duplicate keys are reported at the second one, and values can be
located for findings.
"""

from __future__ import annotations

import json
import re
from typing import Any

from envsecops.pins.documents.base import DocumentProblem

WHITESPACE = " \t\r\n"


def mask_comments(text: str) -> str:
    """``text`` with `//` and `/* */` comments replaced by spaces (newlines kept)."""
    out = list(text)
    index, length = 0, len(text)
    in_string = False
    while index < length:
        char = text[index]
        if in_string:
            if char == "\\":
                index += 2
                continue
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            out[index:end] = " " * (end - index)
            index = end
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            out[index:end] = [c if c == "\n" else " " for c in text[index:end]]
            index = end
            continue
        index += 1
    return "".join(out)


def _next_significant(text: str, index: int) -> str:
    while index < len(text) and text[index] in WHITESPACE:
        index += 1
    return text[index] if index < len(text) else ""


def strip_trailing_commas(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Blank commas before `}`/`]` (outside strings); also return every key as
    (enclosing object offset, key offset, key token)."""
    out = list(text)
    keys: list[tuple[int, int, str]] = []
    stack: list[int] = []
    previous = ""  # the last significant character, to leave `{,}` and `[1,,]` invalid
    index = 0
    while index < len(text):
        char = text[index]
        if char == '"':
            start = index
            index += 1
            while index < len(text) and text[index] != '"':
                index += 2 if text[index] == "\\" else 1
            index += 1
            if stack and stack[-1] >= 0 and _next_significant(text, index) == ":":
                keys.append((stack[-1], start, text[start:index]))
            previous = '"'
            continue
        if char == "{":
            stack.append(index)
        elif char == "[":
            stack.append(-1)
        elif char in "}]" and stack:
            stack.pop()
        elif (
            char == ","
            and previous not in {"{", "[", ","}
            and _next_significant(text, index + 1) in {"}", "]"}
        ):
            out[index] = " "
        if char not in WHITESPACE:
            previous = char
        index += 1
    return "".join(out), keys


class _NotJson(Exception):
    """`NaN`, `Infinity` or `-Infinity`: Python's json accepts them, JSON does not."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _not_json(token: str) -> Any:
    raise _NotJson(token)


class JsoncText:
    """Parsed JSONC and a comment-free copy of its text to locate values in."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = mask_comments(text)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        plain, keys = strip_trailing_commas(self.masked)
        self._duplicates(keys)
        try:
            self.data: Any = json.loads(plain, parse_constant=_not_json)
        except _NotJson as exc:
            line, column = self.locate(exc.token)
            raise DocumentProblem(
                "parse-error", f"JSON syntax error: `{exc.token}` is not JSON", line, column
            ) from exc
        except RecursionError as exc:
            raise DocumentProblem("input-too-large", "JSON nesting is too deep to parse") from exc
        except json.JSONDecodeError as exc:
            raise DocumentProblem(
                "parse-error", f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno
            ) from exc

    def _duplicates(self, keys: list[tuple[int, int, str]]) -> None:
        seen: set[tuple[int, str]] = set()
        for owner, offset, token in keys:
            try:
                name = json.loads(token)
            except json.JSONDecodeError:
                continue  # reported by the parser with its position
            if (owner, name) in seen:
                line, column = self.position(offset)
                raise DocumentProblem(
                    "duplicate-key",
                    f"duplicate key {name!r}: JSON parsers disagree on which value wins",
                    line,
                    column,
                )
            seen.add((owner, name))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        low, high = 0, len(self.line_starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.line_starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1, offset - self.line_starts[low] + 1

    def locate(self, *candidates: str, start: int = 0) -> tuple[int, int]:
        """Position of the first candidate (searched in order) found outside comments."""
        for candidate in candidates:
            found = self.masked.find(candidate, start)
            if found >= 0:
                return self.position(found)
        return (1, 1)

    def locate_string(self, value: str, key: str | None = None) -> tuple[int, int]:
        """Where the string ``value`` is written, preferably as the value of ``key``."""
        quoted = json.dumps(value)
        if key is not None:
            pattern = re.escape(json.dumps(key)) + r"\s*:\s*" + re.escape(quoted)
            match = re.search(pattern, self.masked)
            if match is not None:
                return self.position(match.end() - len(quoted))
        return self.locate(quoted, json.dumps(value, ensure_ascii=False))
