"""Map commands of a `run:` script back to the line and column where they are in the file.

- Literal block scalars (`|`, `|-`, `|+`, `|2`): script line i is file line header+1+i and
  the column is the line's indentation plus the offset in the script line (checked against
  the file text; on any mismatch the search below is used instead).
- Single-line plain scalars: the node's start column plus the offset.
- Folded `>` scalars, quoted and multi-line plain scalars, whose value differs from the file
  text by folding and escapes: the longest leading run of the command's words that occurs in
  the node's own lines, searched in order from the previous command (at most 64 lines and
  a few kilobytes on, which keeps the work per command bounded).
- Nothing found, or a command nested inside another (`bash -c '…'`): the outer command's
  position, or the node's start. A reported line is never outside the node.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass

from envsecops.pins.documents.github import Script
from envsecops.pins.rules.base import Location
from envsecops.pins.shell import Command, Dialect, dialect_for, parse_script
from envsecops.pins.source import SourceFile

MAX_PROBE_WORDS = 8
SEARCH_WINDOW = 64  # lines searched past the previous command: bounds the work per command
SEARCH_CHARS = 4096  # and characters, plus four times the command's own length
_SPACE = re.compile(r"\s")


@dataclass(frozen=True, slots=True)
class LocatedCommand:
    """A command and where it starts (and, when known exactly, ends) in the file."""

    command: Command
    at: Location
    script: Script


class _Locator:
    """Offsets of one script to file positions."""

    def __init__(self, script: Script, lines: list[str]) -> None:
        self.text = script.text
        self.lines = lines
        node = script.node
        self.style = node.style
        self.first = node.start_mark.line
        self.column = node.start_mark.column
        last = node.end_mark.line - (1 if node.end_mark.column == 0 else 0)
        self.last = max(self.first, min(last, len(lines) - 1))
        self.block = self.style in ("|", ">")
        self.cursor = (self.first + 1, 0) if self.block else (self.first, self.column)
        self.script_lines = self.text.split("\n")
        self.starts = [0]
        for match in re.finditer("\n", self.text):
            self.starts.append(match.end())

    def _row_col(self, offset: int) -> tuple[int, int]:
        row = bisect.bisect_right(self.starts, offset) - 1
        return row, offset - self.starts[row]

    def _direct(self, offset: int) -> tuple[int, int] | None:
        """0-based (file line, column) by arithmetic, when the style allows and the text agrees."""
        row, col = self._row_col(offset)
        if self.style == "|":
            line = self.first + 1 + row
            if line > self.last or line >= len(self.lines):
                return None
            expected = self.script_lines[row]
            actual = self.lines[line]
            indent = len(actual) - len(expected)
            if indent < 0 or not actual.endswith(expected) or actual[:indent].strip():
                return None
            return line, indent + col
        if self.style is None and row == 0 and "\n" not in self.text:
            actual = self.lines[self.first] if self.first < len(self.lines) else ""
            if actual[self.column : self.column + len(self.text)] == self.text:
                return self.first, self.column + col
        return None

    def _search(self, command: Command) -> tuple[int, int] | None:
        segment = self.text[command.start : command.end]
        newline = segment.find("\n")
        first_line = (segment if newline < 0 else segment[:newline]).rstrip("\\` ")
        spaces = (m.start() for m in _SPACE.finditer(first_line))
        cuts = list(itertools.islice(spaces, MAX_PROBE_WORDS - 1))
        probes = [first_line, *(first_line[:cut] for cut in reversed(cuts))]
        reach = SEARCH_CHARS + 4 * len(first_line)
        row, col = self.cursor
        for probe in probes:
            if not probe.strip():
                continue
            budget = reach
            for line in range(row, min(self.last, row + SEARCH_WINDOW) + 1):
                start = col if line == row else 0
                found = self.lines[line].find(probe, start, start + budget)
                if found >= 0:
                    return line, found
                budget -= len(self.lines[line]) - start
                if budget <= 0:
                    break
        return None

    def locate(self, command: Command) -> Location:
        """Where ``command`` starts (1-based), with its end when it maps exactly."""
        start = self._direct(command.start)
        if start is not None:
            end = self._direct(command.end)
            self.cursor = start
            if end is not None:
                return Location(start[0] + 1, start[1] + 1, end[0] + 1, end[1] + 1)
            return Location(start[0] + 1, start[1] + 1)
        found = self._search(command)
        if found is None:
            return Location(self.first + 1, self.column + 1)
        self.cursor = (found[0], found[1] + 1)
        return Location(found[0] + 1, found[1] + 1)


def script_commands(script: Script, source: SourceFile) -> list[LocatedCommand]:
    """The commands of one `run:` script with file positions; [] for a non-shell `shell:`."""
    dialect = dialect_for(script.shell)
    if dialect is None:
        return []
    commands = parse_script(script.text, dialect)
    locator = _Locator(script, source.lines)
    located: dict[int, Location] = {}
    out: list[LocatedCommand] = []
    for command in sorted(commands, key=lambda c: c.start):
        at = located.get(command.start)
        if at is None:
            at = locator.locate(command)
            located[command.start] = at
        out.append(LocatedCommand(command, at, script))
    return out


__all__ = ["Dialect", "LocatedCommand", "script_commands"]
