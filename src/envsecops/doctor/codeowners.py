"""CODEOWNERS: where GitHub looks for it, and which rule owns a path (pure, no I/O).

GitHub uses the first of ``.github/CODEOWNERS``, ``CODEOWNERS`` and ``docs/CODEOWNERS`` on the
branch. Each line is a pattern and its owners; ``#`` starts a comment (``\\#`` is a literal);
the *last* matching line wins, and a line with no owners leaves the path unowned. Patterns
follow .gitignore's rules except that ``!`` negation and ``[ ]`` ranges are not supported:
a leading ``/`` or a ``/`` inside anchors the pattern to the root, otherwise it matches at any
depth; ``*`` stays within a path segment, ``**`` crosses them; a trailing ``/`` (or a last
segment without wildcards) also matches everything below that directory, while ``docs/*``
matches only the files directly in ``docs``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True, slots=True)
class Rule:
    """One CODEOWNERS line: its number, the pattern as written, and the owners."""

    line: int
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str]
    directories: bool  # the pattern also owns what lies below a matching directory
    dir_only: bool = False  # a trailing `/`: directories only, never a file of that name


def _split(line: str) -> list[str]:
    """Whitespace-separated fields, honouring `\\ ` and `\\#`; a `#` field starts a comment."""
    fields: list[str] = []
    current = ""
    escaped = False
    for char in line:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "#" and not current:
            break
        elif char.isspace():
            if current:
                fields.append(current)
            current = ""
        else:
            current += char
    if current:
        fields.append(current)
    return fields


def _translate(pattern: str) -> tuple[re.Pattern[str], bool, bool] | None:
    """The regex a path (or a parent directory) must fully match; None for what GitHub skips."""
    if pattern.startswith("!") or "[" in pattern:
        return None
    body = pattern.rstrip("/")
    trailing = body != pattern
    anchored = body.startswith("/") or "/" in body.strip("/")
    body = body.lstrip("/")
    if not body:
        return None
    last = body.rsplit("/", 1)[-1]
    directories = trailing or not any(char in last for char in "*?")
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif body.startswith("**", i):
            out += ".*"
            i += 2
        elif body[i] == "*":
            out += "[^/]*"
            i += 1
        elif body[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(body[i])
            i += 1
    if not anchored:
        out = "(?:.*/)?" + out
    return re.compile(out), directories, trailing


def parse(text: str) -> list[Rule]:
    """The rules GitHub would use, in file order (lines it cannot use are skipped)."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = _split(raw)
        if not fields:
            continue
        translated = _translate(fields[0])
        if translated is None:
            continue
        regex, directories, dir_only = translated
        rules.append(Rule(number, fields[0], tuple(fields[1:]), regex, directories, dir_only))
    return rules


def _candidates(path: str) -> list[tuple[str, bool]]:
    parts = path.strip("/").split("/")
    dirs = [("/".join(parts[:i]), True) for i in range(1, len(parts))]
    return [(path.strip("/"), False), *dirs]


def matches(rule: Rule, path: str) -> bool:
    """Whether ``rule`` owns ``path``: the path itself, or a directory above it."""
    for candidate, is_dir in _candidates(path):
        if (is_dir and not rule.directories) or (rule.dir_only and not is_dir):
            continue
        if rule.regex.fullmatch(candidate):
            return True
    return False


def owner_rule(rules: list[Rule], path: str) -> Rule | None:
    """The last rule matching ``path`` (GitHub's precedence); None when nothing matches."""
    found: Rule | None = None
    for rule in rules:
        if matches(rule, path):
            found = rule
    return found
