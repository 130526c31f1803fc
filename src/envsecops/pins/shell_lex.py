"""Find command and word boundaries in a shell script, with offsets; shlex removes the quotes.

`shlex` knows quoting but not positions, `$( … )`, `<( … )`, backticks or heredocs, so a
small quote-aware scan decides where commands, words and redirections begin and end, and
`shlex` (with the dialect's quotes and escape character) turns each word into its value.
Nothing here raises on hostile input: an unbalanced quote makes the quote an ordinary
character of its line (the whitespace-split fallback), an unterminated heredoc is not a
heredoc, and an unclosed `$(` leaves the `$` as an ordinary character.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from enum import StrEnum


class Dialect(StrEnum):
    """The shell language a `run:` script is written in."""

    POSIX = "posix"
    PWSH = "pwsh"
    CMD = "cmd"


@dataclass(frozen=True, slots=True)
class _Syntax:
    quotes: str
    escape: str
    escaped_quotes: str
    comment: str
    separators: tuple[str, ...]
    paren_words: bool  # `( … )` is a grouped word (pwsh) rather than a subshell separator


_SYNTAX = {
    Dialect.POSIX: _Syntax(
        "'\"`",
        "\\",
        '"',
        "#",
        (";;&", ";;", ";&", "&&", "||", "|&", ";", "|", "&", "(", ")"),
        False,
    ),
    Dialect.PWSH: _Syntax("'\"", "`", '"', "#", ("&&", "||", ";", "|", "{", "}"), True),
    Dialect.CMD: _Syntax('"', "^", "", "", ("&&", "||", "&", "|", "(", ")"), False),
}
_SPECIAL = {
    dialect: re.compile(
        "[^" + re.escape(" \t\r\n\f\v" + syntax.quotes + syntax.escape + "$<>&|;(){}#@*") + "]+"
    )
    for dialect, syntax in _SYNTAX.items()
}
_CMD_REM = re.compile(r"(?i)(rem\b|::)")
_REDIRECTS = ("<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">")
_WHITESPACE = " \t\r\f\v"
_CONTINUATION = {Dialect.POSIX: "\\\n", Dialect.PWSH: "`\n", Dialect.CMD: "^\n"}


@dataclass(frozen=True, slots=True)
class RawWord:
    """A word's span in the text; ``value`` is the word after quote removal."""

    start: int
    end: int
    value: str


@dataclass
class RawCommand:
    """One simple command: words, span, the operator before it, heredoc bodies, redirections."""

    words: list[RawWord] = field(default_factory=list)
    start: int = -1
    end: int = -1
    after: str = ""
    heredocs: list[tuple[int, int]] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)


def unquote(raw: str, dialect: Dialect) -> str:
    """A word's value: quotes and escapes removed (`$( … )` stays, its spaces collapsed)."""
    continuation = _CONTINUATION[dialect]
    raw = raw.replace(continuation, "")
    syntax = _SYNTAX[dialect]
    lexer = shlex.shlex(raw, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.quotes = syntax.quotes.replace("`", "")
    lexer.escape = syntax.escape
    lexer.escapedquotes = syntax.escaped_quotes
    try:
        return " ".join(lexer)
    except ValueError:
        return raw


class Lexer:
    """Split ``text[start:end]`` into commands; call :meth:`run` once."""

    def __init__(self, text: str, dialect: Dialect, start: int = 0, end: int | None = None) -> None:
        self.text = text
        self.dialect = dialect
        self.syntax = _SYNTAX[dialect]
        self.special = _SPECIAL[dialect]
        self.i = start
        self.n = len(text) if end is None else end
        self.commands: list[RawCommand] = []
        self.current = RawCommand()
        self.word_start: int | None = None
        self.target_next: str | None = None
        self.heredoc_next: bool | None = None
        self.pending: list[tuple[RawCommand, str, bool]] = []

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
        if self.target_next is not None:
            self.current.redirects.append((self.target_next, unquote(raw, self.dialect)))
            self.target_next = None
        elif self.heredoc_next is not None:
            delimiter = unquote(raw, self.dialect).replace('"', "").replace("'", "")
            if delimiter:
                self.pending.append((self.current, delimiter, self.heredoc_next))
            self.heredoc_next = None
        else:
            self.current.words.append(RawWord(start, at, unquote(raw, self.dialect)))

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

    # -- skipping quoted and nested text --------------------------------------------------

    def _line_end(self, at: int) -> int:
        end = self.text.find("\n", at, self.n)
        return self.n if end < 0 else end

    def _skip_quote(self, at: int) -> int:
        """Index after the quote that closes the one at ``at``, or -1."""
        quote = self.text[at]
        escape = self.syntax.escape
        limit = self._line_end(at) if self.dialect is Dialect.CMD else self.n
        j = at + 1
        while j < limit:
            c = self.text[j]
            if c == quote:
                if self.dialect is Dialect.PWSH and self.text.startswith(quote, j + 1):
                    j += 2
                    continue
                return j + 1
            if quote in self.syntax.escaped_quotes + "`" and c == escape:
                j += 2
                continue
            if quote == '"' and self.dialect is not Dialect.CMD and c == "$":
                nxt = self.text[j + 1 : j + 2]
                if nxt in ("(", "{"):
                    close = self._skip_group(j + 1)
                    if close > 0:
                        j = close
                        continue
            j += 1
        return limit if self.dialect is Dialect.CMD else -1

    def _skip_group(self, at: int) -> int:
        """Index after the bracket that closes the `(` or `{` at ``at``, or -1."""
        opening = self.text[at]
        closing = ")" if opening == "(" else "}"
        depth = 0
        j = at
        while j < self.n:
            c = self.text[j]
            if c == opening:
                depth += 1
            elif c == closing:
                depth -= 1
                if depth == 0:
                    return j + 1
            elif c in self.syntax.quotes:
                end = self._skip_quote(j)
                if end < 0:
                    return -1
                j = end
                continue
            elif c == self.syntax.escape:
                j += 1
            j += 1
        return -1

    def _skip_heredocs(self, at: int) -> int:
        """Skip the bodies of heredocs opened on the line that just ended; return the new index."""
        pending, self.pending = self.pending, []
        for owner, delimiter, strip_tabs in pending:
            j = at
            while j < self.n:
                end = self._line_end(j)
                line = self.text[j:end]
                if (line.lstrip("\t") if strip_tabs else line).rstrip("\r") == delimiter:
                    owner.heredocs.append((at, j))
                    at = min(end + 1, self.n)
                    break
                j = end + 1
            else:
                return at  # unterminated: not a heredoc, so its lines are read as commands
        return at

    # -- the scan -------------------------------------------------------------------------

    def _operator(self, at: int) -> str | None:
        for op in self.syntax.separators:
            if self.text.startswith(op, at):
                if op == "&" and self.text.startswith(">", at + 1):
                    return None
                return op
        return None

    def _redirect(self, at: int) -> str | None:
        for op in _REDIRECTS:
            if self.text.startswith(op, at):
                if op in ("<", ">") and self.text.startswith("(", at + 1):
                    return None if self.dialect is Dialect.POSIX else op
                return op
        return None

    def _start_of_command(self) -> bool:
        return self.word_start is None and not self.current.words

    def run(self) -> list[RawCommand]:  # noqa: PLR0915 - one dispatch loop reads best flat
        """Scan the text and return its commands in order."""
        text, syntax = self.text, self.syntax
        while self.i < self.n:
            i = self.i
            c = text[i]
            if c == "\n":
                self._end_command(i, "\n")
                self.i = self._skip_heredocs(i + 1) if self.pending else i + 1
                continue
            if c in _WHITESPACE:
                self._end_word(i)
                self.i = i + 1
                continue
            if c == syntax.escape:
                if text.startswith("\n", i + 1):
                    self.i = i + 2
                    continue
                self._begin_word(i)
                self.i = min(i + 2, self.n)
                continue
            if self.word_start is None:
                if self.dialect is Dialect.CMD and self._start_of_command():
                    if _CMD_REM.match(text, i):
                        self.i = self._line_end(i)
                        continue
                elif self.dialect is Dialect.PWSH and text.startswith("<#", i):
                    close = text.find("#>", i + 2, self.n)
                    self.i = self.n if close < 0 else close + 2
                    continue
                if syntax.comment and c == syntax.comment:
                    self.i = self._line_end(i)
                    continue
            redirect = self._redirect(i) if c in "<>&" else None
            if redirect is not None:
                if self.word_start is not None and (
                    text[self.word_start : i].isdigit() or text[self.word_start : i] == "*"
                ):
                    self.word_start = None  # a file descriptor number, not a word
                else:
                    self._end_word(i)
                if self.current.start < 0:
                    self.current.start = i
                if redirect in ("<<", "<<-") and self.dialect is Dialect.POSIX:
                    self.heredoc_next = redirect == "<<-"
                else:
                    self.target_next = redirect
                self.i = i + len(redirect)
                continue
            operator = self._operator(i)
            if operator is not None:
                self._end_command(i, operator)
                self.i = i + len(operator)
                continue
            if c in syntax.quotes:
                self._begin_word(i)
                end = self._skip_quote(i)
                self.i = end if end > 0 else i + 1
                continue
            if c == "@" and self.dialect is Dialect.PWSH and text[i + 1 : i + 2] in ("'", '"'):
                self.i = self._here_string(i)
                continue
            group = self._group_at(i)
            if group > 0:
                self._begin_word(i)
                self.i = group
                continue
            self._begin_word(i)
            match = self.special.match(text, i, self.n)
            self.i = match.end() if match else i + 1
        self._end_command(self.n, "")
        return self.commands

    def _group_at(self, at: int) -> int:
        """End of a `$( … )`, `<( … )`, `${ … }` (or pwsh `( … )`, `@( … )`) at ``at``, or -1."""
        text = self.text
        two = text[at : at + 2]
        if two in ("$(", "${", "@(") or (self.dialect is Dialect.POSIX and two in ("<(", ">(")):
            return self._skip_group(at + 1)
        if self.syntax.paren_words and text[at] == "(":
            return self._skip_group(at)
        return -1

    def _here_string(self, at: int) -> int:
        """Skip a pwsh here-string `@" … "@`; the whole thing is one word."""
        quote = self.text[at + 1]
        self._begin_word(at)
        close = self.text.find("\n" + quote + "@", at + 2, self.n)
        return self.n if close < 0 else close + 3


def substitutions(raw: str, dialect: Dialect) -> list[str]:
    """The bodies of `$( … )`, `<( … )`, `>( … )` and backquotes in a word, outermost first.

    These run as commands too (`v=$(curl … | sh)`); single-quoted text is skipped.
    """
    if "(" not in raw and "`" not in raw:
        return []
    scanner = Lexer(raw, dialect)
    bodies: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "'" and dialect is not Dialect.CMD:
            close = raw.find("'", i + 1)
            i = len(raw) if close < 0 else close + 1
            continue
        if c == "\\" and dialect is Dialect.POSIX:
            i += 2
            continue
        if raw.startswith(("$(", "<(", ">("), i) and not raw.startswith("$((", i):
            end = scanner._skip_group(i + 1)
            if end > 0:
                bodies.append(raw[i + 2 : end - 1])
                i = end
                continue
        if c == "`" and dialect is Dialect.POSIX:
            close = raw.find("`", i + 1)
            if close > 0:
                bodies.append(raw[i + 1 : close])
                i = close + 1
                continue
        i += 1
    return bodies
