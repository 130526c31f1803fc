"""JSON with comments (devcontainer.json): parse with json5, and find where values are written.

json5 gives no positions, so findings are located by searching the text for the value as
written, with comments blanked out first (keeping every character's offset) so that a value
that also appears in a comment is found where it takes effect.
"""

from __future__ import annotations

import json
import re
from typing import Any

from envsecops.pins.documents.base import DocumentProblem

ERROR_AT = re.compile(r"<string>:(?P<line>\d+) (?P<what>.*?) at column (?P<column>\d+)")
DUPLICATE = re.compile(r'Duplicate key "(?P<key>.*)" found in object')


def mask_comments(text: str) -> str:
    """``text`` with `//` and `/* */` comments replaced by spaces (newlines kept)."""
    out = list(text)
    index, length = 0, len(text)
    quote = ""
    while index < length:
        char = text[index]
        if quote:
            if char == "\\":
                index += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif text.startswith("//", index):
            end = text.find("\n", index)
            end = length if end < 0 else end
            for blank in range(index, end):
                out[blank] = " "
            index = end
            continue
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            end = length if end < 0 else end + 2
            for blank in range(index, end):
                if out[blank] != "\n":
                    out[blank] = " "
            index = end
            continue
        index += 1
    return "".join(out)


class JsoncText:
    """Parsed JSONC and a comment-free copy of its text to locate values in."""

    def __init__(self, text: str) -> None:
        import json5

        self.text = text
        self.masked = mask_comments(text)
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        try:
            self.data: Any = json5.loads(text, allow_duplicate_keys=False)
        except RecursionError as exc:
            raise DocumentProblem("input-too-large", "JSON nesting is too deep to parse") from exc
        except ValueError as exc:
            raise self._problem(str(exc)) from exc

    def _problem(self, message: str) -> DocumentProblem:
        located = ERROR_AT.search(message)
        if located is not None:
            return DocumentProblem(
                "parse-error",
                f"JSON syntax error: {located.group('what')}",
                int(located.group("line")),
                int(located.group("column")),
            )
        duplicate = DUPLICATE.search(message)
        if duplicate is not None:
            key = duplicate.group("key")
            hits = list(re.finditer(re.escape(json.dumps(key)) + r"\s*:", self.masked))
            line, column = self.position(hits[1].start()) if len(hits) > 1 else (1, 1)
            return DocumentProblem(
                "duplicate-key",
                f"duplicate key {key!r}: JSON parsers disagree on which value wins",
                line,
                column,
            )
        return DocumentProblem("parse-error", f"JSON error: {message}")

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
        return self.locate(quoted, json.dumps(value, ensure_ascii=False), f"'{value}'")
