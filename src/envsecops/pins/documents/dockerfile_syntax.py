"""Split a Dockerfile into instructions as BuildKit's parser does: lines, directives, flags.

We do not use ``dockerfile_parse`` for this. Its line joiner treats a line ending in `\\`
plus *any* Unicode whitespace (a no-break space, a form feed) as continued, where BuildKit
continues only after spaces and tabs; and it stops reading parser directives at
`# check=...`, which current BuildKit accepts before `# escape=`. Either difference lets a
`FROM evil:latest` line that BuildKit builds disappear inside the previous instruction, so
this module follows BuildKit's ``parser.Parse`` line by line instead (see the regression
cases in tests/unit/pins/test_dockerfile_syntax.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from envsecops.pins.documents.base import DocumentProblem

# Go's unicode.IsSpace, which BuildKit uses to trim the start of a line.
GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
GO_SPACE += "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# BuildKit's reWhitespace, which splits instruction words.
WHITESPACE = re.compile(r"[\t\v\f\r ]+")
# Go's `\s` is ASCII [\t\n\f\r ].
_S = r"[\t\n\f\r ]*"
DIRECTIVE = re.compile("#" + _S + r"([a-zA-Z][a-zA-Z0-9]*)" + _S + "=" + _S + "(.+?)" + _S)
SLASH_DIRECTIVE = re.compile("//" + _S + r"([a-zA-Z][a-zA-Z0-9]*)" + _S + "=" + _S + "(.+?)" + _S)
VALID_DIRECTIVES = frozenset({"syntax", "escape", "check"})


@dataclass(frozen=True, slots=True)
class Instruction:
    """One logical instruction: keyword (lower case), leading `--flags`, the rest, its lines."""

    keyword: str
    flags: tuple[str, ...]
    args: str
    line: int
    end_line: int


@dataclass
class DockerfileText:
    """A Dockerfile split into instructions, with its escape token and syntax frontend."""

    instructions: list[Instruction]
    escape: str
    lines: list[str]
    syntax: tuple[str, int] | None = None
    directives: dict[str, tuple[str, int]] = field(default_factory=dict)


def physical_lines(text: str) -> list[str]:
    """Lines as Go's bufio.ScanLines yields them: split on `\\n`, one trailing `\\r` dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _directives(lines: list[str]) -> tuple[dict[str, tuple[str, int]], int]:
    """Parser directives at the top, as ``parser.Parse`` reads them; returns them and the
    index of the first line that is not one."""
    found: dict[str, tuple[str, int]] = {}
    for index, line in enumerate(lines):
        match = DIRECTIVE.fullmatch(line.lstrip(GO_SPACE))
        if match is None or match.group(1).lower() not in VALID_DIRECTIVES:
            return found, index
        name = match.group(1).lower()
        if name in found:
            raise DocumentProblem(
                "parse-error", f"only one `{name}` parser directive can be used", index + 1, 1
            )
        found[name] = (match.group(2), index + 1)
    return found, len(lines)


def _syntax(lines: list[str], text: str) -> tuple[str, int] | None:
    """The frontend image BuildKit's DetectSyntax would forward the build to, and its line."""
    offset = 1 if lines and lines[0].startswith("#!") else 0
    for pattern in (DIRECTIVE, SLASH_DIRECTIVE):
        for index in range(offset, len(lines)):
            match = pattern.fullmatch(lines[index].lstrip(GO_SPACE))
            if match is None or match.group(1).lower() not in VALID_DIRECTIVES:
                break
            if match.group(1).lower() == "syntax":
                return match.group(2).split(" ", 1)[0], index + 1
    if not text.lstrip().startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    except RecursionError as exc:  # BuildKit (Go) reads deeper JSON: fail closed, not open
        raise DocumentProblem("input-too-large", "JSON nesting is too deep to parse") from exc
    if isinstance(data, dict) and isinstance(data.get("syntax"), str):
        return data["syntax"].split(" ", 1)[0], 1
    return None


def split_flags(rest: str) -> tuple[tuple[str, ...], str]:
    """Leading `--name[=value]` words and the remaining text, as BuildKit's
    extractBuilderFlags reads them: quotes group and are removed, `\\` escapes one character,
    and a bare `--` ends the flags."""
    flags: list[str] = []
    pos = 0
    while True:
        while pos < len(rest) and rest[pos] in GO_SPACE:
            pos += 1
        if not rest.startswith("--", pos):
            return tuple(flags), rest[pos:]
        word: list[str] = []
        quote = ""
        while pos < len(rest):
            char = rest[pos]
            if not quote and char in GO_SPACE:
                break
            if not quote and char in "\"'":
                quote = char
            elif quote and char == quote:
                quote = ""
            elif char == "\\":
                pos += 1
                if pos < len(rest):
                    word.append(rest[pos])
            else:
                word.append(char)
            pos += 1
        text = "".join(word)
        if text == "--":
            return tuple(flags), rest[pos:]
        flags.append(text)


def _instruction(content: str, line: int, end_line: int) -> Instruction:
    parts = WHITESPACE.split(content.strip(GO_SPACE), maxsplit=1)
    keyword = parts[0].lower()
    flags: tuple[str, ...] = ()
    args = ""
    if len(parts) == 2:
        flags, args = split_flags(parts[1])
    return Instruction(keyword, flags, args.strip(GO_SPACE), line, end_line)


def read_dockerfile(text: str) -> DockerfileText:
    """Split ``text`` into instructions with BuildKit's rules for continuations and comments."""
    lines = physical_lines(text)
    directives, _ = _directives(lines)
    if "escape" in directives and "check" in directives:
        line = directives["escape"][1]
        if line > directives["check"][1]:
            raise DocumentProblem(
                "parse-error",
                "`# escape=` follows `# check=`: BuildKit before 0.13 stops reading directives "
                "at `check` and would read this file with a different escape character; put "
                "`# escape=` first",
                line,
                1,
            )
    escape = directives.get("escape", ("\\", 0))[0]
    if escape not in {"\\", "`"}:
        line = directives["escape"][1]
        raise DocumentProblem(
            "parse-error", f"invalid escape token {escape!r}: it must be ` or \\", line, 1
        )
    continuation = re.compile(re.escape(escape) + r"[ \t]*\Z")
    instructions: list[Instruction] = []
    index = 0
    while index < len(lines):
        token = lines[index].lstrip(GO_SPACE)
        index += 1
        start = index
        content = "" if token.startswith("#") else token
        ended = continuation.search(content) is None
        content = continuation.sub("", content)
        if ended and not content:
            continue
        while not ended and index < len(lines):
            raw = lines[index]
            index += 1
            if raw.lstrip(GO_SPACE).startswith("#") or not raw.lstrip(GO_SPACE):
                continue
            ended = continuation.search(raw) is None
            content += continuation.sub("", raw)
        instructions.append(_instruction(content, start, index))
    return DockerfileText(instructions, escape, lines, _syntax(lines, text), directives)


def parse_words(rest: str, escape: str) -> list[str]:
    """Words of an ARG line as BuildKit's parseWords splits them (quotes kept in the word)."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    in_word = blank_ok = False
    index = 0
    while index < len(rest):
        char = rest[index]
        index += 1
        if not in_word:
            if char in GO_SPACE:
                continue
            in_word = True
        if quote:
            if char == quote:
                quote = ""
            elif char == escape and quote != "'":
                if index == len(rest):
                    continue
                current.append(char)
                char = rest[index]
                index += 1
            current.append(char)
            continue
        if char in GO_SPACE:
            if blank_ok or current:
                words.append("".join(current))
            current, in_word, blank_ok = [], False, False
            continue
        if char in "\"'":
            quote, blank_ok = char, True
        elif char == escape:
            if index == len(rest):
                continue
            current.append(char)
            char = rest[index]
            index += 1
        current.append(char)
    if in_word and (blank_ok or current):
        words.append("".join(current))
    return words


def unquote(word: str, escape: str) -> str:
    """Remove shell quoting from one word: '...' is literal, "..." and bare text honour escapes."""
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(word):
        char = word[index]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                out.append(char)
        elif char == escape and index + 1 < len(word):
            index += 1
            out.append(word[index])
        elif char in "\"'" and (not quote or char == quote):
            quote = "" if quote else char
        else:
            out.append(char)
        index += 1
    if quote:
        raise ValueError(f"unterminated {quote} quote in {word!r}")
    return "".join(out)
