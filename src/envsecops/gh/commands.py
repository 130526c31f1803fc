"""GitHub Actions runtime primitives: escaped workflow commands, file commands, step summary.

Everything that reaches the runner goes through this module, so that untrusted text (a
path, a finding message, a reference) can never become a command of its own:

- workflow commands (``::name props::data``) escape their data and property values exactly
  as the runner unescapes them (``actions/runner`` ``ActionCommand``), so a newline, ``%0A``
  or ``::add-mask::`` inside a message stays text;
- free text that must be echoed verbatim is wrapped in ``::stop-commands::<random token>``;
- ``$GITHUB_OUTPUT`` / ``$GITHUB_ENV`` entries use a random ``name<<DELIMITER`` heredoc, refuse
  a value that contains the delimiter, and validate names;
- ``$GITHUB_STEP_SUMMARY`` appends never make the file exceed the runner's 1 MiB per-step cap.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from envsecops.errors import EnvsecopsError, ExitCode

T = TypeVar("T")

STEP_SUMMARY_LIMIT = 1024 * 1024
"""The runner refuses to upload a step summary larger than this many bytes."""
OUTPUTS_LIMIT = 1024 * 1024
"""GitHub keeps at most this many bytes of outputs per job; one value never may exceed it."""
ANNOTATIONS_PER_LEVEL = 10
"""GitHub keeps at most this many annotations of each level per step and drops the rest."""

COMMAND_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
PROPERTY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STOP_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,}$")
LINE_BREAK = re.compile(r"\r\n|\r|\n")

PROTECTED_ENV_NAMES = frozenset(
    {
        "PATH",
        "ENV",
        "BASH_ENV",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "IFS",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "LD_AUDIT",
        "DYLD_INSERT_LIBRARIES",
        "DYLD_LIBRARY_PATH",
        "NODE_OPTIONS",
        "NODE_PATH",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONINSPECT",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "RUBYLIB",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "GIT_SSH_COMMAND",
        "GIT_EXEC_PATH",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
    }
)
"""Variables that change how every later step executes; envsecops never exports them."""

PROTECTED_ENV_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "GIT_CONFIG_")
"""Prefixes owned by the runner (or that inject git configuration)."""


class ActionsRuntimeError(EnvsecopsError):
    """A runtime file could not be written, or a write was refused as unsafe."""

    exit_code = ExitCode.INFRA


class InvalidNameError(ActionsRuntimeError):
    """An output or environment variable name that is malformed or protected."""

    exit_code = ExitCode.USAGE


class AnnotationLevel(StrEnum):
    """The three annotation commands."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"


def escape_data(text: str) -> str:
    """Escape a command's data (after ``::``): ``%``, CR and LF, as the runner unescapes them."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as data, plus ``:`` (ends the command) and ``,`` (next property)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(
    name: str, data: str = "", properties: Mapping[str, str | int | None] | None = None
) -> str:
    """One ``::name key=value,...::data`` line, no newline; empty properties are left out."""
    if not COMMAND_NAME.match(name):
        raise ValueError(f"not a workflow command name: {name!r}")
    parts: list[str] = []
    for key, value in (properties or {}).items():
        if not PROPERTY_NAME.match(key):
            raise ValueError(f"not a workflow command property name: {key!r}")
        if value is None or value == "":
            continue  # the runner drops `key=` anyway
        parts.append(f"{key}={escape_property(str(value))}")
    head = f"{name} {','.join(parts)}" if parts else name
    return f"::{head}::{escape_data(data)}"


def annotation(
    level: AnnotationLevel,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    column: int | None = None,
    end_line: int | None = None,
    end_column: int | None = None,
    title: str | None = None,
) -> str:
    """An ``::error``/``::warning``/``::notice`` line, with only the positions the runner keeps.

    The runner drops columns unless the annotation sits on one line, drops ``endLine`` without
    ``line``, and rejects descending ranges; such fields are left out here instead.
    """
    if line is None or line < 1:
        line = column = end_line = end_column = None
    elif end_line is not None and end_line < line:
        end_line = None
    if end_line is not None and end_line != line:
        column = end_column = None
    if column is not None and column < 1:
        column = None
    if column is None or (end_column is not None and end_column < column):
        end_column = None
    properties: dict[str, str | int | None] = {
        "file": file,
        "line": line,
        "col": column,
        "endLine": end_line,
        "endColumn": end_column,
        "title": title,
    }
    return workflow_command(str(level), message, properties)


def capped_annotations(
    items: Sequence[T],
    render: Callable[[T], str],
    aggregate: Callable[[int, int], str],
    per_level: int = ANNOTATIONS_PER_LEVEL,
) -> list[str]:
    """One level's annotation lines, never more than GitHub keeps, the overflow aggregated.

    Every item rendered when they fit; otherwise the first ``per_level - 1`` and then
    ``aggregate(hidden, shown)``: the line that says how many more there are and where.
    """
    if len(items) <= per_level:
        return [render(item) for item in items]
    shown = [render(item) for item in items[: per_level - 1]]
    return [*shown, aggregate(len(items) - len(shown), len(shown))]


def add_mask(value: str) -> list[str]:
    """``::add-mask::`` lines for a secret: the runner masks line by line, so one per line."""
    lines = [part for part in LINE_BREAK.split(value) if part.strip()]
    if not lines:
        raise ActionsRuntimeError(
            "refusing to mask an empty or blank value (the runner would ignore it)",
            fix="check that the credential field was actually returned",
        )
    masks = [workflow_command("add-mask", part) for part in lines]
    if len(lines) > 1:
        masks.append(workflow_command("add-mask", value))
    return masks


def new_token() -> str:
    """A random token for ``::stop-commands::`` or a heredoc delimiter (128 bits)."""
    return secrets.token_hex(16)


def stop_commands(text: str, token: str | None = None) -> str:
    """Wrap untrusted ``text`` so the runner treats every line in it as plain output.

    Returns ``::stop-commands::TOKEN``, the text, and the resuming ``::TOKEN::``, each on its
    own line, ending with a newline. The token is random and never occurs in the text.
    """
    folded = text.casefold()
    if token is None:
        token = new_token()
        while token in folded:  # pragma: no cover - 128 random bits
            token = new_token()
    elif not STOP_TOKEN.match(token) or token.casefold() in folded:
        raise ValueError("a stop-commands token must be long, plain and absent from the text")
    body = text if not text or text.endswith("\n") else text + "\n"
    return f"::stop-commands::{token}\n{body}::{token}::\n"


def file_command_entry(name: str, value: str, delimiter: str) -> str:
    """One heredoc entry ``name<<DELIMITER`` / value / ``DELIMITER`` for a runtime file."""
    if not STOP_TOKEN.match(delimiter):
        raise ValueError("a heredoc delimiter must be long and plain")
    if delimiter in value or delimiter in name:
        raise ActionsRuntimeError(
            f"refusing to write {name!r}: its value contains the heredoc delimiter",
            fix="this should be impossible with a random delimiter; the value may be hostile",
        )
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def check_output_name(name: str) -> None:
    """Refuse an output name that GitHub would reject or misread."""
    if not OUTPUT_NAME.match(name):
        raise InvalidNameError(
            f"invalid step output name {name!r}",
            fix="use letters, digits, `_` and `-`, starting with a letter or `_`",
        )


def check_env_name(name: str) -> None:
    """Refuse a malformed variable name, or one that would change how later steps execute."""
    if not ENV_NAME.match(name):
        raise InvalidNameError(
            f"invalid environment variable name {name!r}",
            fix="use letters, digits and `_`, starting with a letter or `_`",
        )
    upper = name.upper()
    if upper in PROTECTED_ENV_NAMES or upper.startswith(PROTECTED_ENV_PREFIXES):
        raise InvalidNameError(
            f"refusing to export {name!r} through $GITHUB_ENV: it changes how every later "
            "step runs (or belongs to the runner)",
        )


def set_output(path: Path, name: str, value: str) -> None:
    """Append one step output to ``$GITHUB_OUTPUT``."""
    check_output_name(name)
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > OUTPUTS_LIMIT:
        raise ActionsRuntimeError(
            f"refusing to write output {name!r}: {size:,} bytes is more than GitHub keeps for "
            "all of a job's outputs (1 MiB)",
            fix="write the data to a file and output its path instead",
        )
    _append(path, file_command_entry(name, value, new_token()), "$GITHUB_OUTPUT")


def set_env(path: Path, name: str, value: str) -> None:
    """Append one variable to ``$GITHUB_ENV`` for the following steps."""
    check_env_name(name)
    _append(path, file_command_entry(name, value, new_token()), "$GITHUB_ENV")


@dataclass(frozen=True, slots=True)
class SummaryWrite:
    """What an append to the step summary did: bytes written and bytes left out."""

    written: int
    omitted: int

    @property
    def truncated(self) -> bool:
        """Whether part of the summary was left out to stay under the limit."""
        return self.omitted > 0


def truncation_marker(omitted: int) -> str:
    """The visible note that ends a truncated summary."""
    return (
        "\n\n---\n\n> [!WARNING]\n> **Summary truncated**: GitHub accepts at most 1 MiB of "
        f"step summary, so the last {omitted:,} bytes were left out. The full result is in the "
        "step log and in the SARIF or JSON report.\n"
    )


def append_step_summary(
    path: Path, markdown: str, *, limit: int = STEP_SUMMARY_LIMIT
) -> SummaryWrite:
    """Append Markdown to ``$GITHUB_STEP_SUMMARY`` without the file ever exceeding ``limit``.

    Content that does not fit is cut at a line boundary and followed by a visible marker;
    when not even the marker fits, nothing is written (``written == 0``).
    """
    data = markdown.encode("utf-8", errors="replace")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ActionsRuntimeError(f"cannot open the step summary {path}: {exc}") from exc
    try:
        size = os.fstat(fd).st_size
        prefix = b"\n" if size and not _ends_with_newline(path, size) else b""
        omitted = 0
        if len(data) > limit - size - len(prefix):
            data, omitted = _truncate(data, limit - size - len(prefix))
        if data:
            _write_all(fd, prefix + data)
    except OSError as exc:
        raise ActionsRuntimeError(f"cannot append to the step summary {path}: {exc}") from exc
    finally:
        os.close(fd)
    return SummaryWrite(written=len(prefix + data) if data else 0, omitted=omitted)


def _truncate(data: bytes, budget: int) -> tuple[bytes, int]:
    """The longest line-aligned head of ``data`` that fits with the marker, and what was cut."""
    room = budget - len(truncation_marker(len(data)).encode("utf-8"))
    if room < 0:
        return b"", len(data)
    head = data[:room]
    newline = head.rfind(b"\n")
    if newline >= 0:
        head = head[: newline + 1]
    else:
        head = head.decode("utf-8", errors="ignore").encode("utf-8")
    omitted = len(data) - len(head)
    return head + truncation_marker(omitted).encode("utf-8"), omitted


def _ends_with_newline(path: Path, size: int) -> bool:
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _append(path: Path, entry: str, what: str) -> None:
    """Append an entry, first ending a previous unterminated line so it cannot absorb ours."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ActionsRuntimeError(f"cannot open {what} ({path}): {exc}") from exc
    try:
        size = os.fstat(fd).st_size
        prefix = "\n" if size and not _ends_with_newline(path, size) else ""
        _write_all(fd, (prefix + entry).encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ActionsRuntimeError(f"refusing to write {what}: the value is not valid text") from exc
    except OSError as exc:
        raise ActionsRuntimeError(f"cannot write {what} ({path}): {exc}") from exc
    finally:
        os.close(fd)
