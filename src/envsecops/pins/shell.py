"""Turn a `run:` script into simple commands: their argv, the tool they run, and where they are.

`parse_script` is pure (text in, commands with script offsets out);
:func:`envsecops.pins.shell_locate.script_commands` maps the offsets to file lines and
columns for each YAML scalar style.

What counts as a command: each simple command between `&&`, `||`, `;`, `|`, `&`,
newlines and subshell parentheses. `${{ … }}` expressions are masked before scanning (same
length, so offsets still point into the file), so `||` inside one splits nothing.
Wrappers are looked through (`sudo`, `doas`, `env`, `time`, `nice`, `nohup`, `timeout`,
`stdbuf`, `exec`, `command`, `corepack`, leading `VAR=x` assignments, `if`/`then`/`!`…), and
so are `python -m pip`, `pip3`, `uv pip`. Scripts handed to a shell are parsed too, and
reported at the outer command: `bash -c '…'`, `eval '…'`, `su -c '…'`, `pwsh -Command …`,
`cmd /c …`, and command substitutions `$( … )`, `` `…` ``, `<( … )`. The body of a heredoc
fed to a shell (`bash <<EOF`) is parsed and reported at its own lines; the body of any other
heredoc is data and is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from envsecops.pins.shell_dialect import Dialect, unquote
from envsecops.pins.shell_lex import Lexer, RawCommand

__all__ = ["SHELLS", "Command", "Dialect", "dialect_for", "mask_expressions", "parse_script"]

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "busybox"})
POWERSHELLS = frozenset({"pwsh", "powershell"})
NOT_SHELLS = re.compile(r"(python|pypy|py|node|nodejs|deno|bun|perl|ruby|php|rscript|julia)[\d.]*")
MAX_DEPTH = 4
MAX_REFERENCE = 300

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "("})
_PIP = re.compile(r"pip[\d.]*")
_PYTHON = re.compile(r"(python|pypy)[\d.]*|py")
# Wrapper command -> (its options that take a value, positional arguments before the command).
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "sudo": (
        frozenset(
            re.findall(
                r"\S+",
                "-u -g -C -D -h -p -r -t -U -T -R --user --group --close-from --chdir --host "
                "--prompt --role --type --other-user --command-timeout",
            )
        ),
        0,
    ),
    "doas": (frozenset({"-u", "-C"}), 0),
    "env": (frozenset({"-u", "--unset", "-C", "--chdir"}), 0),
    "time": (frozenset({"-f", "--format", "-o", "--output"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "nohup": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "corepack": (frozenset(), 0),
    "call": (frozenset(), 0),
    "&": (frozenset(), 0),
}


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command of a script.

    ``words`` are all word values (wrappers included, redirections removed, quotes removed,
    `${{ … }}` as written); ``argv`` starts
    at the program; ``tool`` is the program normalised (`pip3`, `python -m pip` and `uv pip`
    are all `pip`; paths, `.exe` and Windows case are dropped) and ``args`` follow it.
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


def program_name(word: str, dialect: Dialect) -> str:
    """A program's name: no directory, no `.exe`/`.cmd`/`.bat`; lowercase outside POSIX."""
    separators = "/" if dialect is Dialect.POSIX else "/\\"
    name = word
    for separator in separators:
        name = name.rsplit(separator, 1)[-1]
    lower = name.lower()
    for suffix in (".exe", ".cmd", ".bat"):
        if lower.endswith(suffix):
            name, lower = name[: -len(suffix)], lower[: -len(suffix)]
    return name if dialect is Dialect.POSIX else lower


def _skip_options(values: tuple[str, ...], k: int, takes_value: frozenset[str]) -> int:
    while k < len(values) and values[k].startswith("-") and len(values[k]) > 1:
        option = values[k]
        k += 1
        if option == "--":
            break
        if option in takes_value and k < len(values):
            k += 1
    return k


def _unwrap(values: tuple[str, ...], dialect: Dialect) -> tuple[int, tuple[str, ...]]:
    """Index of the real program after wrappers, and the `VAR=x` assignments seen."""
    assignments: list[str] = []
    k = 0
    while k < len(values):
        word = values[k]
        name = program_name(word.lstrip("@") if dialect is Dialect.CMD else word, dialect)
        if word in _KEYWORDS:
            k += 1
        elif dialect is Dialect.POSIX and _ASSIGNMENT.match(word):
            assignments.append(word)
            k += 1
        elif name in _WRAPPERS:
            options, positionals = _WRAPPERS[name]
            k = _skip_options(values, k + 1, options) + positionals
        elif name == "command" and dialect is Dialect.POSIX:
            if k + 1 < len(values) and values[k + 1] in ("-v", "-V"):
                return len(values), tuple(assignments)  # a lookup, not a run
            k = _skip_options(values, k + 1, frozenset())
        else:
            break
    return k, tuple(assignments)


def _python_module(argv: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """The module of `python [options] -m MODULE args` (also `-Im MODULE`), or None."""
    k = 1
    while k < len(argv) and argv[k].startswith("-") and argv[k] not in ("-", "--"):
        cluster = argv[k][1:]
        k += 1
        if cluster.startswith("-"):
            continue  # a long option such as --check-hash-based-pycs is not followed here
        for index, letter in enumerate(cluster):
            rest = cluster[index + 1 :]
            if letter == "c":
                return None
            if letter == "m":
                if rest:
                    return rest, argv[k:]
                return (argv[k], argv[k + 1 :]) if k < len(argv) else None
            if letter in "WXQ":
                k += 0 if rest else 1
                break
    return None


def _tool(argv: tuple[str, ...], dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The normalised tool and its arguments."""
    if not argv:
        return "", ()
    name = program_name(argv[0].lstrip("@") if dialect is Dialect.CMD else argv[0], dialect)
    if _PIP.fullmatch(name):
        return "pip", argv[1:]
    if _PYTHON.fullmatch(name):
        module = _python_module(argv)
        if module is not None:
            module_name, rest = module
            if _PIP.fullmatch(module_name):
                return "pip", rest
            if module_name == "uv" and rest[:1] == ("pip",):
                return "pip", rest[1:]
            return module_name, rest
        return "python", argv[1:]
    if name == "uv":
        k = _skip_options(argv, 1, frozenset({"--directory", "--project", "--config-file"}))
        if argv[k : k + 1] == ("pip",):
            return "pip", argv[k + 1 :]
    return name, argv[1:]


def _shell_code(tool: str, args: tuple[str, ...]) -> tuple[int, int, Dialect] | None:
    """Where the script a command hands to a shell is (`bash -c CODE`, `eval CODE`...).

    Returns (index of the first code word in ``args``, number of words, dialect) or None.
    """
    if tool in SHELLS or tool == "su":
        k = 0
        code_flag = False
        while k < len(args) and args[k].startswith(("-", "+")) and args[k] not in ("-", "--"):
            option = args[k]
            k += 1
            if option in ("-c", "--command") or (
                option[0] == "-" and option[1:].isalpha() and "c" in option[1:]
            ):
                code_flag = True
            elif option in ("-o", "+o", "-O", "+O") and k < len(args):
                k += 1
        if code_flag and k < len(args):
            return k, 1, Dialect.POSIX
        return None
    if tool == "eval" and args:
        return 0, len(args), Dialect.POSIX
    lowered = [a.lower() for a in args]
    if tool in POWERSHELLS:
        for k, arg in enumerate(lowered):
            if arg in ("-c", "-command") or (len(arg) > 3 and "-command".startswith(arg)):
                return k + 1, len(args) - k - 1, Dialect.PWSH
        return None
    if tool == "cmd":
        for k, arg in enumerate(lowered):
            if arg in ("/c", "/k"):
                return k + 1, len(args) - k - 1, Dialect.CMD
    return None


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
            k, assignments = _unwrap(words, dialect)
            argv = words[k:]
            tool, args = _tool(argv, dialect)
            command = Command(
                words=words,
                argv=argv,
                assignments=assignments,
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
            code = _shell_code(tool, args)
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
