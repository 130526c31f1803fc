"""Shared plumbing for the checks that read `run:` scripts: commands parsed once, options split."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.github import ActionDocument, WorkflowDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Rule
from envsecops.pins.shell_locate import LocatedCommand, script_commands

_CACHE: WeakKeyDictionary[Document, tuple[LocatedCommand, ...]] = WeakKeyDictionary()
_DYNAMIC = re.compile(r"\$|`|%[A-Za-z_][A-Za-z0-9_]*%")


def document_commands(document: Document) -> tuple[LocatedCommand, ...]:
    """Every command of every `run:` script in a workflow or action, parsed once per document."""
    cached = _CACHE.get(document)
    if cached is not None:
        return cached
    commands: list[LocatedCommand] = []
    if isinstance(document, (WorkflowDocument, ActionDocument)):
        seen: set[int] = set()
        for script in document.scripts:
            if id(script.node) in seen:
                continue  # a step repeated through a YAML alias is reported once
            seen.add(id(script.node))
            commands.extend(script_commands(script, document.source))
    result = tuple(commands)
    _CACHE[document] = result
    return result


def option_set(names: str) -> frozenset[str]:
    """A set of option names written as one space-separated string."""
    return frozenset(names.split())


def is_dynamic(value: str) -> bool:
    """Whether a word's value is only known when the step runs (`${{ }}`, `$VAR`, `%VAR%`)."""
    return bool(_DYNAMIC.search(value))


def quote_list(values: Sequence[str], limit: int = 5) -> str:
    """`a`, `b` and 3 more."""
    shown = ", ".join(f"`{value}`" for value in values[:limit])
    extra = len(values) - limit
    return f"{shown} and {extra} more" if extra > 0 else shown


@dataclass(frozen=True, slots=True)
class Options:
    """A command's arguments split into options (name, value or None) and positionals."""

    flags: tuple[tuple[str, str | None], ...]
    positionals: tuple[str, ...]

    def has(self, *names: str) -> bool:
        """Whether any of ``names`` was given."""
        return any(name in names for name, _value in self.flags)

    def values(self, *names: str) -> list[str]:
        """The values given to any of ``names``, in order."""
        return [value for name, value in self.flags if name in names and value is not None]


def parse_options(
    args: Sequence[str],
    takes_value: Callable[[str], bool],
    *,
    attached: frozenset[str] = frozenset(),
    stop_at_positional: bool = False,
) -> Options:
    """Split ``args``; `--opt=value` is self-contained, `-xVALUE` for short options in ``attached``.

    With ``stop_at_positional``, everything from the first positional on is positional (a
    `docker run` image and its command).
    """
    flags: list[tuple[str, str | None]] = []
    positionals: list[str] = []
    k = 0
    while k < len(args):
        arg = args[k]
        k += 1
        if arg == "--":
            positionals.extend(args[k:])
            break
        if not arg.startswith("-") or arg == "-":
            positionals.append(arg)
            if stop_at_positional:
                positionals.extend(args[k:])
                break
            continue
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            flags.append((name, value))
        elif not arg.startswith("--") and arg[:2] in attached and len(arg) > 2:
            flags.append((arg[:2], arg[2:].removeprefix("=")))
        elif takes_value(arg) and k < len(args):
            flags.append((arg, args[k]))
            k += 1
        else:
            flags.append((arg, None))
    return Options(tuple(flags), tuple(positionals))


def expand_short(args: Sequence[str], value_letters: str) -> list[str]:
    """Split short-option clusters: `-fsSLo f` becomes `-f -s -S -L -o f`, `-qO-` `-q -O -`.

    A letter in ``value_letters`` takes the rest of its cluster as its value, if any.
    """
    out: list[str] = []
    for arg in args:
        if len(arg) <= 2 or arg[0] != "-" or arg[1] == "-" or not arg[1].isalpha():
            out.append(arg)
            continue
        for index, letter in enumerate(arg[1:], start=1):
            out.append(f"-{letter}")
            if letter in value_letters:
                if index + 1 < len(arg):
                    out.append(arg[index + 1 :])
                break
    return out


def subcommand(
    args: Sequence[str], value_options: frozenset[str]
) -> tuple[str | None, tuple[str, ...]]:
    """The first positional (a tool's subcommand) after global options, and what follows it."""
    k = 0
    while k < len(args):
        arg = args[k]
        if arg == "--":
            return None, ()
        if not arg.startswith("-") or arg == "-":
            return arg, tuple(args[k + 1 :])
        k += 2 if arg in value_options and "=" not in arg else 1
    return None, ()


class ScriptCheck(Check):
    """A check over the commands of `run:` scripts in workflows and composite actions."""

    kinds = frozenset({FileKind.WORKFLOW, FileKind.ACTION})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Hand every command of the document to :meth:`check_commands`."""
        commands = document_commands(document)
        if commands:
            self.check_commands(commands, emitter)

    @abstractmethod
    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """Inspect the commands (in file order) and emit findings."""

    @staticmethod
    def report(
        emitter: Emitter,
        rule: Rule,
        located: LocatedCommand,
        message: str,
        fix: str,
        *,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
    ) -> None:
        """Emit a finding at the command, with the command's text as its reference."""
        emitter.emit(
            rule,
            located.at,
            located.command.text,
            message,
            fix=fix,
            severity=severity,
            confidence=confidence,
        )
