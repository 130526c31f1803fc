"""`yarn-install-unfrozen`: `yarn`/`pnpm`/`bun install` in a `run:` script, lockfile not frozen.

The same rule covers the three package managers because the defect and the fix are the same:
an install that may rewrite the lockfile instead of failing when it is out of date. Yarn 2+
and pnpm make installs immutable by default when they detect CI, Yarn 1 and bun do not; the
flag costs nothing and makes the guarantee visible, so its absence is reported with medium
confidence (high when it is explicitly turned off). `yarn add`, `pnpm add`, `bun add` and
`yarn global add` install packages outside the lockfile: reported like `npm install PKG`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Emitter, Rule
from envsecops.pins.rules.npm_install_not_ci import classify
from envsecops.pins.rules.scripts import (
    ScriptCheck,
    option_set,
    parse_options,
    quote_list,
    subcommand,
)
from envsecops.pins.shell_locate import LocatedCommand

YARN_INSTALL_UNFROZEN = Rule(
    id="yarn-install-unfrozen",
    title="yarn/pnpm/bun install without a frozen lockfile",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    help="An install that may update the lockfile can pull versions nobody reviewed. "
    "`yarn install --frozen-lockfile` (Yarn 1), `yarn install --immutable` (Yarn 2+), "
    "`pnpm install --frozen-lockfile` and `bun install --frozen-lockfile` fail instead.",
)

TOOLS = frozenset({"yarn", "pnpm", "bun"})
_INSTALL = frozenset({"install", "i"})
_NOT_INSTALL = frozenset({"--version", "-v", "-V", "--help", "-h"})
_FROZEN = frozenset({"--frozen-lockfile", "--immutable"})
_UNFROZEN = frozenset({"--no-frozen-lockfile", "--no-immutable"})
_IMMUTABLE_ENV = re.compile(r"YARN_ENABLE_IMMUTABLE_INSTALLS=(1|true)", re.IGNORECASE)
_VALUE_OPTIONS = option_set("--cwd --dir -C --filter -F --registry --modules-folder --mode")
_FIX = {
    "yarn": "run `yarn install --frozen-lockfile` (Yarn 1) or `yarn install --immutable` (Yarn 2+)",
    "pnpm": "run `pnpm install --frozen-lockfile`",
    "bun": "run `bun install --frozen-lockfile`",
}


def _frozen(flags: Sequence[tuple[str, str | None]]) -> bool | None:
    """True when frozen, False when explicitly unfrozen, None when not said."""
    state: bool | None = None
    for name, value in flags:
        if name in _FROZEN:
            state = value is None or value.lower() not in ("false", "0", "no")
        elif name in _UNFROZEN:
            state = False
    return state


class YarnInstallUnfrozen(ScriptCheck):
    """Report lockfile-updating installs by yarn, pnpm and bun."""

    rules = (YARN_INSTALL_UNFROZEN,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per unfrozen install or `add`."""
        for located in commands:
            command = located.command
            if command.tool not in TOOLS:
                continue
            tool = command.tool
            verb, rest = subcommand(command.args, _VALUE_OPTIONS)
            if tool == "yarn" and verb == "global":
                verb, rest = subcommand(rest, _VALUE_OPTIONS)
            if verb == "add":
                self._add(located, emitter, tool, rest)
                continue
            if verb is None and tool == "yarn":
                if _NOT_INSTALL & set(command.args):
                    continue  # `yarn --version`, `yarn --help`
                rest = command.args  # bare `yarn` is `yarn install`
            elif verb not in _INSTALL:
                continue
            options = parse_options(rest, _VALUE_OPTIONS.__contains__)
            state = _frozen(options.flags)
            env_frozen = any(_IMMUTABLE_ENV.fullmatch(a) for a in command.assignments)
            if state or (state is None and env_frozen):
                continue
            label = f"{tool} {verb}" if verb else tool
            said = (
                "turns the frozen lockfile off" if state is False else "has no frozen-lockfile flag"
            )
            self.report(
                emitter,
                YARN_INSTALL_UNFROZEN,
                located,
                f"`{label}` {said}, so it may update the lockfile instead of failing when it "
                "is out of date"
                + ("" if state is False else " (Yarn 2+ and pnpm default to frozen on CI)"),
                _FIX[tool],
                confidence=Confidence.HIGH if state is False else Confidence.MEDIUM,
            )

    def _add(
        self, located: LocatedCommand, emitter: Emitter, tool: str, rest: Sequence[str]
    ) -> None:
        options = parse_options(rest, _VALUE_OPTIONS.__contains__)
        groups: dict[str, list[str]] = {"local": [], "dynamic": [], "exact": [], "floating": []}
        for spec in options.positionals:
            groups[classify(spec)].append(spec)
        unpinned = groups["floating"] + groups["dynamic"]
        if not unpinned and not groups["exact"]:
            return
        named = quote_list(unpinned or groups["exact"])
        what = "unpinned" if unpinned else "version-pinned (dependencies still float)"
        self.report(
            emitter,
            YARN_INSTALL_UNFROZEN,
            located,
            f"`{tool} add` installs {what} {named} outside the reviewed lockfile",
            f"add the dependency in a reviewed change (`package.json` and lockfile), then "
            f"{_FIX[tool].removeprefix('run ')}",
            severity=Severity.MEDIUM if unpinned else Severity.LOW,
            confidence=Confidence.HIGH,
        )
