"""`go-install-latest`: `go install`/`go run`/`go get` of a module at a moving version.

A full version (`@v1.2.3`) or a commit is fine: the Go checksum database pins its content.
`@latest`, `@upgrade`, `@patch`, branches (`@main`, `@master`, `@HEAD`), version prefixes
(`@v1`, `@v1.2`) and comparisons (`@<v2`) resolve to whatever is newest when the job runs.
`go get` without a version means `@upgrade`, and `go get -u` upgrades every dependency, so
both are reported too; `go install pkg` and `go run pkg` without `@` use the module's go.mod
and are fine.
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
)
from envsecops.pins.shell_locate import LocatedCommand

GO_INSTALL_LATEST = Rule(
    id="go-install-latest",
    title="go install of a moving version",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    help="`go install tool@latest` (or a branch such as `@main`) builds whatever was published "
    "last, so a compromised or careless release runs in CI on the next build. A full version "
    "`@vX.Y.Z` is immutable: Go checks it against the checksum database.",
)

FIX = (
    "name a full version, e.g. `go install golang.org/x/tools/cmd/goimports@v0.24.0`, or "
    "track the tool in go.mod (`go get -tool`, Go 1.24+) and run `go install` without `@`"
)
_VERBS = frozenset({"install", "get", "run"})
_VALUE_OPTIONS = option_set(
    "-C -p -o -tags -ldflags -gcflags -asmflags -buildmode -compiler -gccgoflags "
    "-installsuffix -mod -modfile -overlay -pgo -pkgdir -toolexec -exec -covermode -coverpkg"
)
_SEMVER = re.compile(r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_COMMIT = re.compile(r"[0-9a-f]{12,40}")
_PREFIX = re.compile(r"v\d+(\.\d+)?")
_QUERIES = frozenset({"latest", "upgrade", "patch"})


def describe(version: str) -> str | None:
    """Why ``version`` moves, or None when it is a full version, a commit or `none`."""
    if _SEMVER.fullmatch(version) or _COMMIT.fullmatch(version) or version == "none":
        return None
    if version in _QUERIES:
        return f"`@{version}` resolves to the newest release when the job runs"
    if _PREFIX.fullmatch(version):
        return f"`@{version}` is a version prefix and resolves to the newest matching release"
    if version[:1] in "<>":
        return f"`@{version}` is a comparison and resolves to the newest matching release"
    return f"`@{version}` names a branch or tag, which moves"


def _normalise(args: Sequence[str]) -> list[str]:
    return [a[1:] if a.startswith("--") and len(a) > 2 else a for a in args]


class GoInstallLatest(ScriptCheck):
    """Report `go install`/`run`/`get` of moving module versions."""

    rules = (GO_INSTALL_LATEST,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per go command that fetches a moving version."""
        for located in commands:
            command = located.command
            if command.tool != "go" or not command.args or command.args[0] not in _VERBS:
                continue
            verb = command.args[0]
            options = parse_options(
                _normalise(command.args[1:]),
                _VALUE_OPTIONS.__contains__,
                stop_at_positional=verb == "run",
            )
            packages = options.positionals[:1] if verb == "run" else options.positionals
            reasons: list[str] = []
            dynamic: list[str] = []
            for package in packages:
                name, at, version = package.rpartition("@")
                if is_dynamic(package):
                    dynamic.append(package)
                elif at:
                    reason = describe(version)
                    if reason is not None:
                        reasons.append(f"`{name}` at {reason}")
                elif verb == "get" and not package.startswith((".", "/")):
                    reasons.append(f"`{package}` without a version means `@upgrade`")
            if verb == "get" and options.has("-u", "-u=patch"):
                reasons.append("`-u` upgrades every dependency to its newest release")
            if not reasons and not dynamic:
                continue
            parts = list(reasons)
            if dynamic:
                parts.append(f"{quote_list(dynamic)} is only known when the step runs")
            self.report(
                emitter,
                GO_INSTALL_LATEST,
                located,
                f"`go {verb}` fetches a moving version: " + "; ".join(parts),
                FIX,
                confidence=Confidence.HIGH if reasons else Confidence.LOW,
            )
