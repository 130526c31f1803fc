"""A Python model of how the GitHub Actions runner reads a step's output and runtime files.

It follows actions/runner (``src/Runner.Common/ActionCommand.cs``: ``TryParseV2`` for
``::cmd k=v::data`` at the start of a line, the legacy ``TryParse`` for ``##[cmd k=v;]data``
anywhere in a line, and their unescaping order; ``ActionCommandManager.TryProcessCommand``
for ``::stop-commands::``; ``FileCommandManager`` for ``name<<DELIMITER`` heredocs), so tests
can assert what the runner would do with our bytes rather than how they look.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERED = frozenset(
    {
        "set-env",
        "set-output",
        "save-state",
        "add-mask",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "debug",
        "notice",
        "warning",
        "error",
        "group",
        "endgroup",
        "echo",
        "stop-commands",
    }
)
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # .NET ReadLine splits on all three


@dataclass
class Command:
    """One command the runner would act on."""

    name: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""


def _replace_all(text: str, mappings: tuple[tuple[str, str], ...]) -> str:
    for escaped, token in mappings:
        text = text.replace(escaped, token)
    return text


DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
LEGACY = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))


def _split_pair(text: str) -> tuple[str, str] | None:
    parts = [p for p in text.split("=", 1) if p]
    return (parts[0], parts[1]) if len(parts) == 2 else None


def parse_v2(line: str, registered: set[str]) -> Command | None:
    """``ActionCommand.TryParseV2``."""
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.casefold() not in registered:
        return None
    command = Command(name)
    if space > 0:
        for item in (p for p in info[space + 1 :].strip().split(",") if p):
            pair = _split_pair(item)
            if pair is not None:
                command.properties[pair[0]] = _replace_all(pair[1], PROPERTY)
    command.data = _replace_all(message[end + 2 :], DATA)
    return command


def parse_v1(line: str, registered: set[str]) -> Command | None:
    """``ActionCommand.TryParse`` (the legacy ``##[`` form, found anywhere in the line)."""
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3 : close]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.casefold() not in registered:
        return None
    command = Command(name)
    if space > 0:
        for item in (p for p in info[space + 1 :].split(";") if p):
            pair = _split_pair(item)
            if pair is not None:
                command.properties[pair[0]] = _replace_all(pair[1], LEGACY)
    command.data = _replace_all(line[close + 1 :], LEGACY)
    return command


def process(output: str) -> list[Command]:
    """Every command the runner would act on in ``output``, honouring stop-commands."""
    registered = set(REGISTERED)
    stop_token: str | None = None
    acted: list[Command] = []
    for line in LINE_BREAK.split(output):
        if not line:
            continue
        command = parse_v2(line, registered) or parse_v1(line, registered)
        if command is None:
            continue
        if stop_token is not None:
            if command.name.casefold() == stop_token.casefold():
                registered.discard(stop_token.casefold())
                stop_token = None
            continue
        if command.name.casefold() == "stop-commands":
            stop_token = command.data
            registered.add(stop_token.casefold())
            continue
        acted.append(command)
    return acted


def read_file_commands(text: str) -> dict[str, str]:
    """``SetEnvFileCommand`` / ``SetOutputFileCommand`` on Linux: ``NAME=VALUE`` and heredocs."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            values[name] = value
            continue
        if heredoc < 0:
            raise ValueError(f"invalid format {line!r}")
        name, delimiter = line.split("<<", 1)
        if not name or not delimiter:
            raise ValueError(f"invalid format {line!r}")
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise ValueError(f"matching delimiter not found {delimiter!r}")
            current = lines[index]
            index += 1
            if current == delimiter:
                break
            body.append(current)
        values[name] = "\n".join(body)
    return values
