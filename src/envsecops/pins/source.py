"""A file under check: its path, kind and text, read once and bounded in size."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from envsecops.pins.kinds import FileKind

MAX_FILE_BYTES = 4 * 1024 * 1024
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


class SourceError(Exception):
    """The file could not be read as text: kind is parse-error or input-too-large."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class SourceFile:
    """One file to check; ``rel`` is the POSIX path reported to users."""

    path: Path
    rel: str
    kind: FileKind
    max_bytes: int = MAX_FILE_BYTES
    _text: str | None = field(default=None, repr=False)

    @classmethod
    def from_text(cls, rel: str, kind: FileKind, text: str) -> SourceFile:
        """A file held in memory (tests, stdin)."""
        return cls(path=Path(rel), rel=rel, kind=kind, _text=text)

    @property
    def text(self) -> str:
        """The decoded content; raises SourceError when too large or not UTF-8."""
        if self._text is None:
            try:
                size = self.path.stat().st_size
            except OSError as exc:
                raise SourceError("parse-error", f"cannot read file: {exc.strerror}") from exc
            if size > self.max_bytes:
                raise SourceError(
                    "input-too-large",
                    f"file is {size} bytes, over the {self.max_bytes} byte limit",
                )
            try:
                data = self.path.read_bytes()
            except OSError as exc:
                raise SourceError("parse-error", f"cannot read file: {exc.strerror}") from exc
            try:
                self._text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise SourceError(
                    "parse-error", f"file is not UTF-8 (byte {exc.start} is invalid)"
                ) from exc
        return self._text

    @cached_property
    def lines(self) -> list[str]:
        """The text split into lines without line endings.

        Only the breaks YAML (libyaml) counts are breaks here, so that line numbers from the
        parsers and the lines read for comments and ignores agree; ``str.splitlines`` would
        also split on form feeds and other separators that no parser counts.
        """
        lines = LINE_BREAK.split(self.text)
        if lines and lines[-1] == "":
            lines.pop()
        return lines

    def line(self, number: int) -> str:
        """Line ``number`` (1-based), or '' when out of range."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""
