"""Find command and word boundaries in a shell script, with offsets; shlex removes the quotes.

`shlex` knows quoting but not positions, `$( … )`, `<( … )`, backquotes or heredocs, so one
quote-aware pass decides where commands, words and redirections begin and end, and `shlex`
(with the dialect's quotes and escape character) turns each word into its value.

The pass runs in linear time on any input, which matters for a tool that reads hostile
files: quotes and brackets are tracked on an explicit stack (no recursion), and heredoc
delimiters are looked up in an index of the script's lines. Nothing raises. An unclosed
quote or bracket restarts the scan at its opener with that line read as plain words (the
whitespace-split fallback); after ``MAX_RESTARTS`` restarts the rest of the script is read
that way. An unterminated heredoc is not a heredoc, so nothing after it is hidden.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envsecops.pins.shell_dialect import (
    PLAIN,
    SYNTAX,
    WHITESPACE,
    Dialect,
    LineIndex,
    operator_at,
    redirect_at,
    unquote,
)

__all__ = ["Dialect", "Lexer", "RawCommand", "RawWord", "unquote"]

MAX_RESTARTS = 16
_CMD_REM = re.compile(r"(?i)(rem\b|::)")
_SUBSTITUTIONS = ("$(", "<(", ">(")
_BLANKS = re.compile("[" + re.escape(WHITESPACE) + "]+")


@dataclass(frozen=True, slots=True)
class RawWord:
    """A word's span in the text, its value, and the spans of its command substitutions."""

    start: int
    end: int
    value: str
    substitutions: tuple[tuple[int, int], ...] = ()


@dataclass
class RawCommand:
    """One simple command: words, span, the operator before it, heredoc bodies, redirections."""

    words: list[RawWord] = field(default_factory=list)
    start: int = -1
    end: int = -1
    after: str = ""
    heredocs: list[tuple[int, int]] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The lexer's state just before an opener, to restart there if it never closes."""

    at: int
    words: int
    redirects: int
    pending: int
    start: int
    end: int
    word_start: int | None
    target_next: str | None
    heredoc_next: bool | None
    substitutions: int


class Lexer:
    """Split ``text[start:end]`` into commands; call :meth:`run` once."""

    def __init__(self, text: str, dialect: Dialect, start: int = 0, end: int | None = None) -> None:
        self.text = text
        self.dialect = dialect
        self.syntax = SYNTAX[dialect]
        self.plain = PLAIN[dialect]
        self.i = start
        self.n = len(text) if end is None else end
        self.commands: list[RawCommand] = []
        self.current = RawCommand()
        self.word_start: int | None = None
        self.target_next: str | None = None
        self.heredoc_next: bool | None = None
        self.pending: list[tuple[RawCommand, str, bool]] = []
        # (context, opener offset, body start of an outermost substitution or -1)
        self.stack: list[tuple[str, int, int]] = []
        self.raw_until = -1
        self.restarts = 0
        self.substitutions: list[tuple[int, int]] = []
        self.open_substitutions = 0
        self.lines: LineIndex | None = None
        self.snapshot = self._snapshot(start)

    # -- words and commands ---------------------------------------------------------------

    def _begin_word(self, at: int) -> None:
        if self.word_start is None:
            self.word_start = at
            if self.current.start < 0:
                self.current.start = at

    def _end_word(self, at: int) -> None:
        if self.word_start is None:
            return
        start, self.word_start = self.word_start, None
        raw = self.text[start:at]
        self.current.end = at
        substitutions, self.substitutions = tuple(self.substitutions), []
        if self.target_next is not None:
            self.current.redirects.append((self.target_next, unquote(raw, self.dialect)))
            self.target_next = None
        elif self.heredoc_next is not None:
            delimiter = unquote(raw, self.dialect).replace('"', "").replace("'", "")
            if delimiter:
                self.pending.append((self.current, delimiter, self.heredoc_next))
            self.heredoc_next = None
        else:
            value = unquote(raw, self.dialect)
            self.current.words.append(RawWord(start, at, value, substitutions))

    def _end_command(self, at: int, operator: str) -> None:
        self._end_word(at)
        self.target_next = None
        self.heredoc_next = None
        if self.current.words:
            self.commands.append(self.current)
            self.current = RawCommand(after=operator)
        else:
            # Nothing since the last operator: a newline after `|`, `&&` or `||` continues
            # the list (`curl … |` then `sh` on the next line is still a pipe).
            keep = operator == "\n" and self.current.after
            self.current = RawCommand(after=self.current.after if keep else operator)

    def _line_end(self, at: int) -> int:
        end = self.text.find("\n", at, self.n)
        return self.n if end < 0 else end

    def _skip_heredocs(self, at: int) -> int:
        """Skip the bodies of heredocs opened on the line that just ended; return the new index."""
        pending, self.pending = self.pending, []
        if self.lines is None:
            self.lines = LineIndex(self.text, at, self.n)
        for owner, delimiter, strip_tabs in pending:
            found = self.lines.find(delimiter, strip_tabs, at)
            if found is None:
                return at  # unterminated: not a heredoc, so its lines are read as commands
            owner.heredocs.append((at, found))
            at = min(self._line_end(found) + 1, self.n)
        return at

    # -- contexts: quotes and brackets ----------------------------------------------------

    def _snapshot(self, at: int) -> _Snapshot:
        return _Snapshot(
            at=at,
            words=len(self.current.words),
            redirects=len(self.current.redirects),
            pending=len(self.pending),
            start=self.current.start,
            end=self.current.end,
            word_start=self.word_start,
            target_next=self.target_next,
            heredoc_next=self.heredoc_next,
            substitutions=len(self.substitutions),
        )

    def _push(self, kind: str, at: int, width: int, body: int = -1) -> None:
        if not self.stack:
            self.snapshot = self._snapshot(at)
            self._begin_word(at)
        if body >= 0:
            if self.open_substitutions:
                body = -1  # record outermost substitutions only
            else:
                self.open_substitutions += 1
        self.stack.append((kind, at, body))
        self.i = at + width

    def _pop(self, width: int) -> None:
        _kind, _at, body = self.stack.pop()
        if body >= 0:
            self.open_substitutions -= 1
            self.substitutions.append((body, self.i))
        self.i += width

    def _open_at(self, at: int) -> tuple[str, int, int] | None:
        """The context a character opens here: (kind, width, body start or -1), or None."""
        text = self.text
        c = text[at]
        if self.dialect is Dialect.CMD:
            return ("dq", 1, -1) if c == '"' else None
        two = text[at : at + 2]
        if two == "${":
            return "brace", 2, -1
        if two in _SUBSTITUTIONS and (two == "$(" or self.dialect is Dialect.POSIX):
            arithmetic = text.startswith("$((", at)
            return "paren", 2, -1 if arithmetic else at + 2
        if self.dialect is Dialect.PWSH:
            if two == "@(":
                return "paren", 2, -1
            if two in ('@"', "@'") and text.startswith("\n", at + 2):
                return "here" + two[1], 2, -1
            if text[at] == "(":
                return "paren", 1, -1
        if c in self.syntax.quotes:
            if c == "`":
                return "bq", 1, at + 1
            return ("sq" if c == "'" else "dq"), 1, -1
        return None

    def _inside(self) -> None:
        """Advance one step inside the innermost open quote or bracket."""
        kind = self.stack[-1][0]
        text, i = self.text, self.i
        if kind == "sq":
            close = text.find("'", i, self.n)
            if close < 0:
                self.i = self.n
            elif self.dialect is Dialect.PWSH and text.startswith("'", close + 1):
                self.i = close + 2
            else:
                self.i = close
                self._pop(1)
            return
        if kind.startswith("here"):
            close = text.find("\n" + kind[-1] + "@", i, self.n)
            self.i = self.n if close < 0 else close + 1
            if close >= 0:
                self._pop(2)
            return
        c = text[i]
        escapes = kind != "dq" or '"' in self.syntax.escaped_quotes
        if c == self.syntax.escape and escapes:
            self.i = min(i + 2, self.n)
            return
        if kind == "dq":
            self._inside_double(c)
            return
        if kind == "bq":
            if c == "`":
                self._pop(1)
                return
        else:
            closing, opening = (")", "(") if kind == "paren" else ("}", "{")
            if c == closing:
                self._pop(1)
                return
            if c == opening:
                self._push(kind, i, 1)
                return
            opened = self._open_at(i) if c in "$'\"`<>" else None
            if opened is not None and not opened[0].startswith("here"):
                self._push(opened[0], i, opened[1], opened[2])
                return
        match = self.plain[kind].match(text, i, self.n)
        self.i = match.end() if match else i + 1

    def _inside_double(self, c: str) -> None:
        text, i = self.text, self.i
        if c == '"':
            if self.dialect is Dialect.PWSH and text.startswith('"', i + 1):
                self.i = i + 2
            else:
                self._pop(1)
            return
        if c == "\n" and self.dialect is Dialect.CMD:
            self.stack.pop()  # a cmd quote ends with its line
            return
        if self.dialect is not Dialect.CMD and text.startswith("$(", i):
            self._push("paren", i, 2, -1 if text.startswith("$((", i) else i + 2)
            return
        if self.dialect is not Dialect.CMD and text.startswith("${", i):
            self._push("brace", i, 2)
            return
        if c == "`" and self.syntax.backquote:
            self._push("bq", i, 1, i + 1)
            return
        match = self.plain["dq"].match(text, i, self.n)
        self.i = match.end() if match else i + 1

    def _recover(self) -> None:
        """An opener never closed: restart at it with its line (or the rest) as plain words."""
        snapshot = self.snapshot
        self.stack.clear()
        self.open_substitutions = 0
        del self.current.words[snapshot.words :]
        del self.current.redirects[snapshot.redirects :]
        del self.pending[snapshot.pending :]
        del self.substitutions[snapshot.substitutions :]
        self.current.start, self.current.end = snapshot.start, snapshot.end
        self.word_start = snapshot.word_start
        self.target_next = snapshot.target_next
        self.heredoc_next = snapshot.heredoc_next
        self.restarts += 1
        self.raw_until = self.n if self.restarts > MAX_RESTARTS else self._line_end(snapshot.at)
        self.i = snapshot.at

    # -- the scan at the top level --------------------------------------------------------

    def _comment(self, at: int) -> int | None:
        """The index after a comment starting at ``at`` (at a word start), or None."""
        text = self.text
        if self.dialect is Dialect.CMD:
            if not self.current.words and _CMD_REM.match(text, at):
                return self._line_end(at)
            return None
        if self.dialect is Dialect.PWSH and text.startswith("<#", at):
            close = text.find("#>", at + 2, self.n)
            return self._line_end(at) if close < 0 else close + 2
        if text[at] == self.syntax.comment:
            return self._line_end(at)
        return None

    def _redirection(self, at: int, redirect: str) -> None:
        start = self.word_start
        if start is not None and (
            self.text[start:at].isdigit() or self.text[start:at] in ("*", "&")
        ):
            self.word_start = None  # a file descriptor number, not a word
            self.substitutions = []
        else:
            self._end_word(at)
        if self.current.start < 0:
            self.current.start = at
        if redirect in ("<<", "<<-") and self.dialect is Dialect.POSIX:
            self.heredoc_next = redirect == "<<-"
        else:
            self.target_next = redirect
        self.i = at + len(redirect)

    def _top(self) -> None:
        """Advance one step outside any quote or bracket."""
        text, i = self.text, self.i
        c = text[i]
        if c == "\n":
            self._end_command(i, "\n")
            self.i = self._skip_heredocs(i + 1) if self.pending else i + 1
            return
        if c in WHITESPACE:
            self._end_word(i)
            match = _BLANKS.match(text, i, self.n)
            self.i = match.end() if match else i + 1
            return
        if c == self.syntax.escape:
            if not text.startswith("\n", i + 1):
                self._begin_word(i)
            self.i = min(i + 2, self.n)
            return
        if self.word_start is None:
            after = self._comment(i)
            if after is not None:
                self.i = after
                return
        redirect = redirect_at(text, i, self.dialect) if c in "<>&" else None
        if redirect is not None:
            self._redirection(i, redirect)
            return
        operator = operator_at(text, i, self.dialect)
        if operator is not None:
            self._end_command(i, operator)
            self.i = i + len(operator)
            return
        opened = self._open_at(i) if i >= self.raw_until else None
        if opened is not None:
            self._push(opened[0], i, opened[1], opened[2])
            return
        self._begin_word(i)
        match = self.plain["top"].match(text, i, self.n)
        self.i = match.end() if match else i + 1

    def run(self) -> list[RawCommand]:
        """Scan the text and return its commands in order."""
        while True:
            while self.i < self.n:
                if self.stack:
                    self._inside()
                else:
                    self._top()
            if not self.stack:
                break
            self._recover()
        self._end_command(self.n, "")
        return self.commands
