"""Shell dialects for the `run:` script lexer: quoting rules, operators, unquoting, line index."""

from __future__ import annotations

import bisect
import re
import shlex
from dataclasses import dataclass
from enum import StrEnum


class Dialect(StrEnum):
    """The shell language a `run:` script is written in."""

    POSIX = "posix"
    PWSH = "pwsh"
    CMD = "cmd"


@dataclass(frozen=True, slots=True)
class Syntax:
    """What is special in a dialect."""

    quotes: str
    escape: str
    escaped_quotes: str  # quotes inside which the escape character works
    comment: str
    separators: tuple[str, ...]
    paren_words: bool  # `( … )` is a grouped word (pwsh) rather than a subshell separator
    backquote: bool  # `` `…` `` is command substitution (POSIX)


SYNTAX = {
    Dialect.POSIX: Syntax(
        quotes="'\"`",
        escape="\\",
        escaped_quotes='"`',
        comment="#",
        separators=(";;&", ";;", ";&", "&&", "||", "|&", ";", "|", "&", "(", ")"),
        paren_words=False,
        backquote=True,
    ),
    Dialect.PWSH: Syntax(
        quotes="'\"",
        escape="`",
        escaped_quotes='"',
        comment="#",
        separators=("&&", "||", ";", "|", "{", "}"),
        paren_words=True,
        backquote=False,
    ),
    Dialect.CMD: Syntax(
        quotes='"',
        escape="^",
        escaped_quotes="",
        comment="",
        separators=("&&", "||", "&", "|", "(", ")"),
        paren_words=False,
        backquote=False,
    ),
}
REDIRECTS = ("<<<", "<<-", "&>>", "<<", "<>", "<&", ">>", ">&", ">|", "&>", "<", ">")
WHITESPACE = " \t\r\f\v"
CONTINUATION = {Dialect.POSIX: "\\\n", Dialect.PWSH: "`\n", Dialect.CMD: "^\n"}


def _plain(chars: str) -> re.Pattern[str]:
    """A run of characters that are not in ``chars``."""
    return re.compile("[^" + re.escape(chars) + "]+")


def plain_runs(dialect: Dialect) -> dict[str, re.Pattern[str]]:
    """Per context (`top`, `dq`, `bq`, `paren`, `brace`), a run of ordinary characters."""
    syntax = SYNTAX[dialect]
    dq_special = '"$' + syntax.escape + ("`" if syntax.backquote else "") + "\n"
    group = syntax.quotes + syntax.escape + "$"
    return {
        "top": _plain(WHITESPACE + "\n" + syntax.quotes + syntax.escape + "$<>&|;(){}#@*"),
        "dq": _plain(dq_special),
        "bq": _plain("`\\"),
        "paren": _plain(group + "()"),
        "brace": _plain(group + "{}"),
    }


PLAIN = {dialect: plain_runs(dialect) for dialect in Dialect}
_OPERATOR_START = {d: frozenset(op[0] for op in SYNTAX[d].separators) for d in Dialect}
# Words whose quoting is plain pairs of quotes with no escapes inside: `shlex`
# would only drop the quote characters, which this does without its per-character loop.
_SIMPLE_QUOTING = {
    Dialect.POSIX: re.compile(r"""(?:[^'"\\`]|'[^']*'|"[^"\\`]*")*"""),
    Dialect.PWSH: re.compile(r"""(?:[^'"`]|'[^']*'|"[^"`]*")*"""),
    Dialect.CMD: re.compile(r"""(?:[^"^]|"[^"]*")*"""),
}
_QUOTED = {
    Dialect.POSIX: re.compile(r"'([^']*)'|\"([^\"]*)\""),
    Dialect.PWSH: re.compile(r"'([^']*)'|\"([^\"]*)\""),
    Dialect.CMD: re.compile(r"()\"([^\"]*)\""),
}


def operator_at(text: str, at: int, dialect: Dialect) -> str | None:
    """The command separator starting at ``at`` (`&&`, `|`, `;`…), or None."""
    if text[at] not in _OPERATOR_START[dialect]:
        return None
    for op in SYNTAX[dialect].separators:
        if text.startswith(op, at):
            return None if op == "&" and text.startswith(">", at + 1) else op
    return None


def redirect_at(text: str, at: int, dialect: Dialect) -> str | None:
    """The redirection operator starting at ``at`` (`>`, `2>&1`'s `>&`, `<<`…), or None.

    In POSIX shells `<(` and `>(` are process substitutions, not redirections.
    """
    for op in REDIRECTS:
        if text.startswith(op, at):
            if op in ("<", ">") and text.startswith("(", at + 1):
                return None if dialect is Dialect.POSIX else op
            return op
    return None


def unquote(raw: str, dialect: Dialect) -> str:
    """A word's value: quotes and escapes removed (`$( … )` stays, its spaces collapsed).

    A word that `shlex` cannot read (an unbalanced quote) is returned as written.
    """
    raw = raw.replace(CONTINUATION[dialect], "")
    syntax = SYNTAX[dialect]
    if not any(c in raw for c in syntax.quotes + syntax.escape):
        return raw
    if _SIMPLE_QUOTING[dialect].fullmatch(raw):
        return _QUOTED[dialect].sub(lambda m: m.group(1) or m.group(2) or "", raw)
    lexer = shlex.shlex(raw, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    lexer.quotes = syntax.quotes.replace("`", "")
    lexer.escape = syntax.escape
    lexer.escapedquotes = syntax.escaped_quotes.replace("`", "")
    try:
        return " ".join(lexer)
    except ValueError:
        return raw


class LineIndex:
    """Where each distinct line of a text starts, to find heredoc delimiters in O(log n)."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.exact: dict[str, list[int]] = {}
        self.tabbed: dict[str, list[int]] = {}
        position = start
        while position <= end:
            newline = text.find("\n", position, end)
            stop = end if newline < 0 else newline
            line = text[position:stop].rstrip("\r")
            self.exact.setdefault(line, []).append(position)
            self.tabbed.setdefault(line.lstrip("\t"), []).append(position)
            if newline < 0:
                break
            position = newline + 1

    def find(self, line: str, strip_tabs: bool, at: int) -> int | None:
        """Start of the first line at or after ``at`` that reads ``line``, or None."""
        starts = (self.tabbed if strip_tabs else self.exact).get(line)
        if not starts:
            return None
        k = bisect.bisect_left(starts, at)
        return starts[k] if k < len(starts) else None
