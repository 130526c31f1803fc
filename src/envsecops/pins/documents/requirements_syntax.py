"""Read a pip requirements file line by line exactly as pip's req_file.py does.

The order matters and is pip's: split lines (``str.splitlines``), join a line ending in
`\\` with the next unless it is a comment, strip `#` comments that start a line or follow
whitespace, split the requirement from its options at the first space-separated token
that starts with `-`, then read the options like optparse (long options may be
abbreviated; a value may follow `=` or be the next word). Mirroring pip matters for
security: a `--hash` that pip ignores (on its own line after a comment broke the
continuation, or after a `\\` followed by a space) must not count as a hash here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from envsecops.pins.documents.base import DocumentProblem

COMMENT = re.compile(r"(^|\s+)#.*$")
STRONG_HASHES = frozenset({"sha256", "sha384", "sha512"})
# Long options pip accepts in a requirements file (pip 23-25), and whether they take a value.
LONG_OPTIONS = {
    "--index-url": True,
    "--pypi-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--constraint": True,
    "--requirement": True,
    "--editable": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
    "--global-option": True,
    "--hash": True,
    "--config-settings": True,
}
SHORT_OPTIONS = {
    "-i": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
    "-C": "--config-settings",
}


@dataclass
class LogicalLine:
    """One line after pip's joining and comment stripping, with its options read."""

    number: int
    text: str
    args: str
    options: dict[str, list[str]] = field(default_factory=dict)

    def values(self, option: str) -> list[str]:
        """Every value given for a long option, in order."""
        return self.options.get(option, [])

    def has(self, option: str) -> bool:
        """Whether the option appears (flags have an empty value list entry)."""
        return option in self.options


def join_lines(lines: list[str]) -> list[tuple[int, str]]:
    """pip's join_lines: a line ending in `\\` continues unless it is a comment line."""
    joined: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.endswith("\\") or COMMENT.match(raw):
            line = " " + raw if COMMENT.match(raw) else raw
            if pending:
                pending.append(line)
                joined.append((first, "".join(pending)))
                pending = []
            else:
                joined.append((number, line))
        else:
            if not pending:
                first = number
            pending.append(raw.strip("\\"))
    if pending:
        joined.append((first, "".join(pending)))
    return joined


def break_args_options(line: str) -> tuple[str, str]:
    """pip's break_args_options: the requirement ends at the first `-`-word (split on ' ')."""
    tokens = line.split(" ")
    args: list[str] = []
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(args), " ".join(tokens[index:])
        args.append(token)
    return " ".join(args), ""


def _long_name(given: str, number: int) -> str:
    """optparse's _match_abbrev: an exact name, or the one long option it is a prefix of."""
    if given in LONG_OPTIONS:
        return given
    matches = [name for name in LONG_OPTIONS if name.startswith(given)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DocumentProblem(
            "parse-error",
            f"pip rejects the ambiguous option `{given}` (could be {', '.join(sorted(matches))})",
            number,
            1,
        )
    raise DocumentProblem(
        "parse-error",
        f"pip rejects the option `{given}` in a requirements file, so this file cannot be used",
        number,
        1,
    )


def read_options(words: list[str], number: int) -> dict[str, list[str]]:
    """Read option words like optparse; positional words are ignored, as pip ignores them."""
    options: dict[str, list[str]] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            break
        if word.startswith("--"):
            given, sep, value = word.partition("=")
            name = _long_name(given, number)
            takes_value = LONG_OPTIONS[name]
            if sep and not takes_value:
                raise DocumentProblem(
                    "parse-error", f"pip rejects `{word}`: `{name}` takes no value", number, 1
                )
            if takes_value and not sep:
                if index >= len(words):
                    raise DocumentProblem(
                        "parse-error", f"`{given}` needs a value, and pip rejects it", number, 1
                    )
                value = words[index]
                index += 1
            options.setdefault(name, []).append(value if takes_value else "")
        elif word.startswith("-") and len(word) > 1:
            short = word[:2]
            if short not in SHORT_OPTIONS:
                raise DocumentProblem(
                    "parse-error",
                    f"pip rejects the option `{short}` in a requirements file",
                    number,
                    1,
                )
            value = word[2:]
            if not value:
                if index >= len(words):
                    raise DocumentProblem(
                        "parse-error", f"`{short}` needs a value, and pip rejects it", number, 1
                    )
                value = words[index]
                index += 1
            options.setdefault(SHORT_OPTIONS[short], []).append(value)
    for value in options.get("--hash", []):
        algorithm, sep, _digest = value.partition(":")
        if not sep or algorithm not in STRONG_HASHES:
            raise DocumentProblem(
                "parse-error",
                f"pip rejects `--hash={value}`: it must be `sha256:`, `sha384:` or `sha512:` "
                "followed by the digest",
                number,
                1,
            )
    return options


def logical_lines(text: str) -> list[LogicalLine]:
    """The non-empty lines of a requirements file, joined, stripped and with options read."""
    result: list[LogicalLine] = []
    for number, raw in join_lines(text.splitlines()):
        line = COMMENT.sub("", raw).strip()
        if not line:
            continue
        args, options = break_args_options(line)
        try:
            words = shlex.split(options)
        except ValueError as exc:
            raise DocumentProblem(
                "parse-error", f"pip cannot split the options of this line: {exc}", number, 1
            ) from exc
        result.append(LogicalLine(number, line, args.strip(), read_options(words, number)))
    return result
