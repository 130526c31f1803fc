"""Turn a `run:` script into simple commands: their argv, the tool they run, and where they are.

`parse_script` is pure (text in, commands with script offsets out);
:func:`envsecops.pins.shell_locate.script_commands` maps the offsets to file lines and
columns for each YAML scalar style.

What counts as a command: each simple command between `&&`, `||`, `;`, `|`, `&`,
newlines and subshell parentheses. `${{ … }}` expressions are masked before scanning (same
length, so offsets still point into the file), so `||` inside one splits nothing.
Wrappers are looked through (`sudo`, `doas`, `env`, `time`, `nice`, `nohup`, `timeout`,
`stdbuf`, `exec`, `command`, `corepack`, `xargs`, leading `VAR=x` assignments, `if`/`then`/
`!`…), and so are `python -m pip`, `pip3`, `uv pip` (see :mod:`envsecops.pins.shell_argv`).
Scripts handed to a shell are parsed too, and
reported at the outer command: `bash -c '…'`, `eval '…'`, `su -c '…'`, `pwsh -Command …`,
`cmd /c …`, and command substitutions `$( … )`, `` `…` ``, `<( … )`. The body of a heredoc
fed to a shell (`bash <<EOF`) is parsed and reported at its own lines; the body of any other
heredoc is data and is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from envsecops.pins.shell_argv import (
    POWERSHELLS,
    SHELLS,
    XARGS_INPUT,
    program_name,
    shell_code,
    tool_of,
    unwrap,
)
from envsecops.pins.shell_dialect import Dialect, unquote
from envsecops.pins.shell_lex import Lexer, RawCommand

__all__ = ["SHELLS", "Command", "Dialect", "dialect_for", "mask_expressions", "parse_script"]

NOT_SHELLS = re.compile(r"(python|pypy|py|node|nodejs|deno|bun|perl|ruby|php|rscript|julia)[\d.]*")
MAX_DEPTH = 4
MAX_REFERENCE = 300

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command of a script.

    ``words`` are all word values (wrappers included, redirections and quotes removed,
    `${{ … }}` as written); ``argv`` starts at the program; ``tool`` is the program
    normalised (`pip3`, `python -m pip` and `uv pip` are all `pip`; paths, `.exe` and
    Windows case are dropped) and ``args`` follow it.
    ``text`` is the command as written, continuations joined and whitespace collapsed.
    ``start``/``end`` are offsets in the script (for a nested command, its outer command's).
    Commands joined by `|` share ``pipeline`` and count up ``stage``. ``redirects`` are the
    (operator, target) pairs such as (`>`, `install.sh`).
    """

    words: tuple[str, ...]
    argv: tuple[str, ...]
    assignments: tuple[str, ...]
    tool: str
    args: tuple[str, ...]
    text: str
    start: int
    end: int
    pipeline: int
    stage: int
    dialect: Dialect
    redirects: tuple[tuple[str, str], ...] = ()
    nested: bool = False


def dialect_for(shell: str | None) -> Dialect | None:
    """The dialect of a step's `shell:`; None when it names an interpreter that is not a shell.

    No `shell:` means bash on Linux and macOS runners (pwsh on Windows, whose install
    commands read the same). An unknown shell or an expression is read as POSIX: checking
    it is safer than skipping it.
    """
    if shell is None or not shell.strip() or "${{" in shell:
        return Dialect.POSIX
    name = program_name(shell.split()[0], Dialect.CMD)
    if name in POWERSHELLS:
        return Dialect.PWSH
    if name == "cmd":
        return Dialect.CMD
    if NOT_SHELLS.fullmatch(name):
        return None
    return Dialect.POSIX


def mask_expressions(text: str) -> str:
    """Replace each `${{ … }}` with `${{___}}` of the same length (newlines kept)."""

    def _mask(match: re.Match[str]) -> str:
        inner = match.group(0)[3:-2]
        return "${{" + "".join("\n" if c == "\n" else "_" for c in inner) + "}}"

    return _EXPRESSION.sub(_mask, text) if "${{" in text else text


def _reference(original: str, start: int, end: int, dialect: Dialect) -> str:
    segment = original[start:end]
    for continuation in ("\\\n", "`\n", "^\n") if dialect is not Dialect.POSIX else ("\\\n",):
        segment = segment.replace(continuation, " ")
    text = " ".join(segment.split())
    return text if len(text) <= MAX_REFERENCE else text[: MAX_REFERENCE - 1] + "…"


class _Builder:
    """Builds commands from raw ones, numbering pipelines across nested scripts."""

    def __init__(self) -> None:
        self.pipelines = 0

    def build(self, original: str, dialect: Dialect, depth: int) -> list[Command]:
        masked = mask_expressions(original)
        return self._from_raw(original, masked, Lexer(masked, dialect).run(), dialect, depth)

    def _from_raw(
        self,
        original: str,
        masked: str,
        raws: list[RawCommand],
        dialect: Dialect,
        depth: int,
    ) -> list[Command]:
        out: list[Command] = []
        pipeline = stage = 0
        for raw in raws:
            if raw.after in ("|", "|&") and pipeline:
                stage += 1
            else:
                self.pipelines += 1
                pipeline, stage = self.pipelines, 0
            words = tuple(
                unquote(original[word.start : word.end], dialect)
                if "${{" in word.value
                else word.value
                for word in raw.words
            )
            unwrapped = unwrap(words, dialect)
            argv = words[unwrapped.index :]
            if unwrapped.xargs == "":
                argv = (*argv, XARGS_INPUT)
            elif unwrapped.xargs:
                argv = tuple(w.replace(unwrapped.xargs, XARGS_INPUT) for w in argv)
            tool, args = tool_of(argv, dialect)
            command = Command(
                words=words,
                argv=argv,
                assignments=unwrapped.assignments,
                tool=tool,
                args=args,
                text=_reference(original, raw.start, raw.end, dialect),
                start=raw.start,
                end=raw.end,
                pipeline=pipeline,
                stage=stage,
                dialect=dialect,
                redirects=tuple(raw.redirects),
            )
            out.append(command)
            if depth >= MAX_DEPTH:
                continue
            code = shell_code(tool, args)
            first = len(words) - len(args)
            code_words = range(first + code[0], first + code[0] + code[1]) if code else range(0)
            if code is not None:
                script = " ".join(words[index] for index in code_words)
                for inner in self.build(script, code[2], depth + 1):
                    out.append(replace(inner, start=raw.start, end=raw.end, nested=True))
            for index, word in enumerate(raw.words):
                if index in code_words:
                    continue  # parsed above, substitutions included
                for body_start, body_end in word.substitutions:
                    body = original[body_start:body_end]
                    for inner in self.build(body, dialect, depth + 1):
                        out.append(replace(inner, start=raw.start, end=raw.end, nested=True))
            if code is None and tool in SHELLS:
                for body_start, body_end in raw.heredocs:
                    raws_in_body = Lexer(masked, Dialect.POSIX, body_start, body_end).run()
                    out.extend(
                        self._from_raw(original, masked, raws_in_body, Dialect.POSIX, depth + 1)
                    )
        return out


@lru_cache(maxsize=2048)
def parse_script(text: str, dialect: Dialect = Dialect.POSIX) -> tuple[Command, ...]:
    """Every simple command of ``text``, in order (nested ones after their outer command)."""
    return tuple(_Builder().build(text, dialect, 0))
