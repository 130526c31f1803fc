"""`curl-pipe-shell`: a download executed straight from the network in a `run:` script.

Found: `curl … | sh` (also `wget -O-`, `iwr`/`irm`, through `tee`, into `sudo bash`,
`bash -s`, `python3`, `perl`, `ruby`, `node`, `php`, `pwsh`, `iex`, `source /dev/stdin`),
`bash <(curl …)`, `source <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -qO- …)"` and
PowerShell's `iex (iwr …)` / `iex ((New-Object Net.WebClient).DownloadString(…))`. A pipe
into an interpreter that is given its own program (`curl … | python3 -c 'import json…'`,
`curl … | jq`) reads the download as data and is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Emitter, Location, Rule
from envsecops.pins.rules.scripts import ScriptCheck, option_set
from envsecops.pins.shell import SHELLS, Command, Dialect
from envsecops.pins.shell_locate import LocatedCommand

CURL_PIPE_SHELL = Rule(
    id="curl-pipe-shell",
    title="Download piped into a shell or interpreter",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`curl URL | sh` runs whatever the server returns at that moment, with the job's "
    "token and secrets in reach: a compromised host, CDN, DNS entry or redirect is code "
    "execution in CI. Download to a file, verify it against a checksum committed to the "
    "repository, then run it; or install a pinned release or a SHA-pinned action.",
)

DOWNLOADERS = frozenset(
    {"curl", "wget", "wget2", "iwr", "irm", "invoke-webrequest", "invoke-restmethod"}
)
FIX = (
    "download to a file, verify it against a SHA-256 committed in the repository "
    "(`curl -fsSLo install.sh URL && echo '<sha256>  install.sh' | sha256sum -c - && "
    "sh install.sh`), or install a pinned release or a SHA-pinned action instead"
)
_PYTHON = re.compile(r"(python|pypy)[\d.]*")
_POWERSHELLS = frozenset({"pwsh", "powershell"})
_INTERPRETERS = frozenset({"perl", "ruby", "node", "nodejs", "php", "fish"}) | _POWERSHELLS
_EVALUATORS = frozenset({"iex", "invoke-expression", "eval", "source", "."})
# Per interpreter, the short-option letters that hand it a program instead of stdin.
_CODE_LETTERS = {"python": "cm", "perl": "eE", "ruby": "e", "node": "ep", "nodejs": "ep"}
_CODE_LETTERS |= {"php": "rBRE", "fish": "c"}
_CODE_LONG = frozenset({"--command", "--eval", "--print"})
_PWSH_CODE = frozenset({"-c", "-command", "-encodedcommand", "-ec", "-e", "-f", "-file"})
_PWSH_VALUE = option_set(
    "-executionpolicy -ex -ep -workingdirectory -wd -outputformat -of -o -inputformat -if "
    "-windowstyle -w -configurationname -settingsfile -custompipename -version"
)
_VALUE_SHORT = frozenset({"-o", "+o", "-O", "+O", "-W", "-X"})
_SUBSTITUTED = re.compile(r"(\$\(|`|<\()\s*(?:sudo\s+(?:-\S+\s+)*)?(?:curl|wget2?)\b", re.I)
_SCRIPTBLOCK = re.compile(r"\[scriptblock\]::create", re.IGNORECASE)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s)'\"`]+")
_POWERSHELL_FETCH = re.compile(
    r"\b(iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring|downloadfile|curl|wget)\b",
    re.IGNORECASE,
)


def interpreter_kind(tool: str) -> str | None:
    """The interpreter family a tool belongs to (`bash`, `python`, `iex`...), or None."""
    name = tool.lower()
    if name in SHELLS or name in _INTERPRETERS or name in _EVALUATORS:
        return name
    return "python" if _PYTHON.fullmatch(name) else None


def _pwsh_program(args: Sequence[str]) -> tuple[str, str | None]:
    k = 0
    while k < len(args):
        arg = args[k].lower()
        k += 1
        if arg in ("-f", "-file"):
            return "file", args[k] if k < len(args) else ""
        if arg in _PWSH_CODE:
            return "code", " ".join(args[k:])
        if arg in _PWSH_VALUE:
            k += 1
        elif not arg.startswith("-"):
            return "file", args[k - 1]
    return "stdin", None


def program_source(kind: str, args: Sequence[str]) -> tuple[str, str | None]:
    """Where an interpreter reads its program: (`stdin`, None), (`code`, TEXT), (`file`, PATH)."""
    if kind in _POWERSHELLS:
        return _pwsh_program(args)
    letters = _CODE_LETTERS.get(kind, "c")
    code_next = from_stdin = False
    k = 0
    while k < len(args):
        arg = args[k]
        k += 1
        if arg in ("-", "/dev/stdin"):
            return "stdin", None
        if arg.lower() in _CODE_LONG:
            return "code", args[k] if k < len(args) else ""
        if arg == "--" or not arg.startswith(("-", "+")) or len(arg) == 1:
            if arg == "--" and k < len(args):
                arg, k = args[k], k + 1
            elif arg == "--":
                break
            if code_next:
                return "code", arg
            return ("stdin", None) if from_stdin else ("file", arg)
        cluster = arg[1:]
        if arg.startswith("--"):
            continue
        hit = next((i for i, c in enumerate(cluster) if c in letters), None)
        if hit is not None:
            if kind in SHELLS or kind == "fish":
                code_next = True
                continue
            rest = cluster[hit + 1 :]
            return "code", rest or (args[k] if k < len(args) else "")
        if "s" in cluster and (kind in SHELLS or kind == "fish"):
            from_stdin = True
        if arg in _VALUE_SHORT:
            k += 1
    return ("code", "") if code_next else ("stdin", None)


def _runs_stdin(command: Command) -> bool:
    """Whether the command executes what it reads on stdin."""
    kind = interpreter_kind(command.tool)
    if kind is None or kind == "eval":
        return False
    if kind in ("iex", "invoke-expression"):
        return not command.args
    if kind in ("source", "."):
        return command.args[:1] in (("/dev/stdin",), ("-",))
    return program_source(kind, command.args)[0] == "stdin"


def _runs_substitution(command: Command) -> bool:
    """Whether the command executes a download given as `$(curl …)`, `<(curl …)` or `(iwr …)`."""
    kind = interpreter_kind(command.tool)
    if kind is None:
        return command.dialect is Dialect.PWSH and bool(
            _SCRIPTBLOCK.search(command.text) and _POWERSHELL_FETCH.search(command.text)
        )
    joined = " ".join(command.args)
    if kind in ("iex", "invoke-expression"):
        return bool(_POWERSHELL_FETCH.search(joined))
    if kind in _EVALUATORS:
        return bool(_SUBSTITUTED.search(joined))
    where, text = program_source(kind, command.args)
    if not text:
        return False
    if where == "code":
        match = _SUBSTITUTED.search(text)
        return match is not None and match.group(1) != "<("
    match = _SUBSTITUTED.match(text)
    return match is not None and match.group(1) == "<("


def _url(command: Command) -> str | None:
    match = _URL.search(" ".join(command.args))
    return match.group(0) if match else None


class CurlPipeShell(ScriptCheck):
    """Report downloads executed without verification."""

    rules = (CURL_PIPE_SHELL,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per pipeline or command that runs a download."""
        pipelines: dict[int, list[LocatedCommand]] = {}
        for located in commands:
            pipelines.setdefault(located.command.pipeline, []).append(located)
            if _runs_substitution(located.command):
                self._emit(emitter, located, located, located.command.text)
        for stages in pipelines.values():
            start = next(
                (i for i, s in enumerate(stages) if s.command.tool.lower() in DOWNLOADERS), None
            )
            if start is None:
                continue
            end = next(
                (i for i in range(start + 1, len(stages)) if _runs_stdin(stages[i].command)),
                None,
            )
            if end is not None:
                text = " | ".join(s.command.text for s in stages[start : end + 1])
                self._emit(emitter, stages[start], stages[end], text)

    def _emit(
        self, emitter: Emitter, fetch: LocatedCommand, runner: LocatedCommand, text: str
    ) -> None:
        url = _url(fetch.command)
        origin = f"`{url}`" if url else "the network"
        at = fetch.at
        if runner is not fetch and runner.at.end_line is not None:
            at = Location(at.line, at.column, runner.at.end_line, runner.at.end_column)
        shown = text if len(text) <= 120 else text[:119] + "…"
        emitter.emit(
            CURL_PIPE_SHELL,
            at,
            text,
            f"`{shown}` runs code downloaded from {origin} with nothing verifying it: whoever "
            "controls that URL, its host or a redirect runs code in this job",
            fix=FIX,
        )
