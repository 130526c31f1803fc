"""`npm-install-not-ci`: `npm install` in a `run:` script where `npm ci` belongs.

Without package arguments `npm install` may rewrite the lockfile and install versions it
never recorded; `npm ci` installs exactly the lockfile and fails when it disagrees with
`package.json`. With package arguments (`npm install -g foo`) it downloads packages the
lockfile does not cover: a range or tag is a medium finding; an exact `pkg@1.2.3` (or a git
commit) is low, since the version is pinned but its dependencies still float and nothing
checks the tarball against a recorded integrity hash. Local folders and tarballs are fine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Emitter, Rule
from envsecops.pins.rules.scripts import (
    ScriptCheck,
    is_dynamic,
    option_set,
    parse_options,
    quote_list,
    subcommand,
)
from envsecops.pins.shell_locate import LocatedCommand

NPM_INSTALL_NOT_CI = Rule(
    id="npm-install-not-ci",
    title="npm install instead of npm ci",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    help="`npm install` resolves versions afresh and may update `package-lock.json`, so CI "
    "can run code nobody reviewed. `npm ci` installs exactly what the lockfile records, "
    "checks every tarball's integrity hash, and fails when the lockfile is out of date. "
    "Tools installed with `npm install -g pkg` are not covered by any lockfile at all.",
)

# `npm install` and every alias npm accepts for it, including its typo aliases.
INSTALL = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal"}
    | {"isntall", "add", "install-test", "it"}
)
_VALUE_OPTIONS = option_set(
    "--prefix -C --workspace -w --registry --cache --tag --loglevel --userconfig --omit "
    "--include --install-strategy --before --otp --globalconfig --script-shell"
)
_EXACT = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_COMMIT = re.compile(r"#[0-9a-f]{40}$")
_LOCAL = re.compile(r"(\.{1,2}|~)([/\\]|$)|[/\\]|file:|[A-Za-z]:[\\/]|.*\.(tgz|tar\.gz|tar)$")


def classify(spec: str) -> str:
    """`local`, `dynamic`, `exact` (a version or commit), or `floating`."""
    if is_dynamic(spec):
        return "dynamic"
    if _LOCAL.match(spec) and "://" not in spec:
        return "local"
    if _COMMIT.search(spec):
        return "exact"
    name_end = spec.find("@", 1)  # a scope's leading `@` is not a version separator
    if name_end < 0:
        return "floating"
    return "exact" if _EXACT.fullmatch(spec[name_end + 1 :]) else "floating"


class NpmInstallNotCi(ScriptCheck):
    """Report `npm install` / `npm i` / `npm add` in scripts."""

    rules = (NPM_INSTALL_NOT_CI,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per `npm install` command."""
        for located in commands:
            command = located.command
            if command.tool != "npm":
                continue
            verb, rest = subcommand(command.args, _VALUE_OPTIONS)
            if verb not in INSTALL:
                continue
            options = parse_options(rest, _VALUE_OPTIONS.__contains__)
            specs: dict[str, list[str]] = {"local": [], "dynamic": [], "exact": [], "floating": []}
            for spec in options.positionals:
                specs[classify(spec)].append(spec)
            floating, exact, dynamic = specs["floating"], specs["exact"], specs["dynamic"]
            where = "globally " if options.has("-g", "--global") else ""
            if not options.positionals:
                self.report(
                    emitter,
                    NPM_INSTALL_NOT_CI,
                    located,
                    f"`npm {verb}` without packages installs from `package.json` and may "
                    "update the lockfile instead of failing when they disagree",
                    "use `npm ci` (same flags), which installs exactly `package-lock.json` "
                    "and verifies each package's integrity hash",
                )
                continue
            if not (floating or exact or dynamic):
                continue
            parts = []
            if floating:
                parts.append(f"unpinned {quote_list(floating)}")
            if dynamic:
                parts.append(f"{quote_list(dynamic)}, known only when the step runs")
            if exact:
                parts.append(
                    f"{quote_list(exact)} (version pinned, but its dependencies float and no "
                    "integrity hash is checked)"
                )
            severity = Severity.MEDIUM if floating or dynamic else Severity.LOW
            confidence = Confidence.LOW if dynamic and not floating else Confidence.HIGH
            self.report(
                emitter,
                NPM_INSTALL_NOT_CI,
                located,
                f"`npm {verb}` {where}installs packages no lockfile covers: " + "; ".join(parts),
                "declare the tools in `package.json`, commit `package-lock.json` and run "
                "`npm ci`; for a one-off CLI, pin an exact version and run it from a "
                "lockfile-backed project (`npx --no-install`) rather than a global install",
                severity=severity,
                confidence=confidence,
            )
