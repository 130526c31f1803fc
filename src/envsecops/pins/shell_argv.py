"""Look through wrappers and launchers to the program a command runs.

`sudo -E env A=1 python3 -m pip install x` runs `pip`; `xargs pip install` runs pip with
arguments read at run time; `bash -c CODE` and `eval CODE` hand a script to a shell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envsecops.pins.shell_dialect import Dialect

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "ash", "mksh", "busybox"})
POWERSHELLS = frozenset({"pwsh", "powershell"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "("})
_PIP = re.compile(r"pip[\d.]*")
_XARGS_VALUE = frozenset(
    {"-n", "-L", "-P", "-s", "-d", "-E", "-e", "-a", "--max-args", "--max-lines"}
    | {"--max-procs", "--max-chars", "--delimiter", "--eof", "--arg-file"}
)
XARGS_INPUT = "$(xargs)"  # stands for the arguments `xargs` reads from its input
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


@dataclass(frozen=True, slots=True)
class _Unwrapped:
    """Where the real program starts, the `VAR=x` seen, and how `xargs` feeds it."""

    index: int
    assignments: tuple[str, ...]
    xargs: str | None = None  # "" appends its input; otherwise the `-I` string it replaces


def _xargs(values: tuple[str, ...], k: int) -> tuple[int, str]:
    """Skip `xargs` and its options; return the program index and the `-I` string, if any."""
    replace_with = ""
    while k < len(values) and values[k].startswith("-") and len(values[k]) > 1:
        option = values[k]
        k += 1
        if option == "--":
            break
        if option in ("-I", "--replace") and k < len(values):
            replace_with = values[k]
            k += 1
        elif option.startswith(("-I", "--replace=")):
            replace_with = option.split("=", 1)[1] if "=" in option else option[2:]
        elif option == "-i" or option.startswith("-i"):
            replace_with = option[2:] or "{}"
        elif option in _XARGS_VALUE and k < len(values):
            k += 1
    return k, replace_with


def unwrap(values: tuple[str, ...], dialect: Dialect) -> _Unwrapped:
    """Look through wrappers to the real program."""
    assignments: list[str] = []
    xargs: str | None = None
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
                return _Unwrapped(len(values), tuple(assignments))  # a lookup, not a run
            k = _skip_options(values, k + 1, frozenset())
        elif name == "xargs" and dialect is Dialect.POSIX:
            k, xargs = _xargs(values, k + 1)
        else:
            break
    return _Unwrapped(k, tuple(assignments), xargs)


def python_module(argv: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
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


def tool_of(argv: tuple[str, ...], dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The normalised tool and its arguments."""
    if not argv:
        return "", ()
    name = program_name(argv[0].lstrip("@") if dialect is Dialect.CMD else argv[0], dialect)
    if _PIP.fullmatch(name):
        return "pip", argv[1:]
    if _PYTHON.fullmatch(name):
        module = python_module(argv)
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


def shell_code(tool: str, args: tuple[str, ...]) -> tuple[int, int, Dialect] | None:
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
