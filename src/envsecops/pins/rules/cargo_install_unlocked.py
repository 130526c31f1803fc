"""`cargo-install-unlocked`: `cargo install` in a `run:` script without `--locked`.

Without `--locked` (or `--frozen`) cargo ignores the crate's `Cargo.lock` and resolves every
dependency afresh, even for `cargo install --path .`, so a new release of any dependency
runs in CI. The message also says when no version is named (`--version`, `crate@1.2.3`, or
`--rev`/`--tag` for a git source): then even the crate itself is the newest release.
"""

from __future__ import annotations

from collections.abc import Sequence

from envsecops.model import Confidence, Severity
from envsecops.pins.rules.base import Emitter, Rule
from envsecops.pins.rules.scripts import ScriptCheck, option_set, parse_options, quote_list
from envsecops.pins.shell_locate import LocatedCommand

CARGO_INSTALL_UNLOCKED = Rule(
    id="cargo-install-unlocked",
    title="cargo install without --locked",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    help="`cargo install` ignores `Cargo.lock` unless told `--locked`, so it builds the tool "
    "with the newest compatible version of every dependency, reviewed or not. Use "
    "`cargo install --locked --version X.Y.Z CRATE`.",
)

_VALUE_OPTIONS = option_set(
    "--version --vers --git --branch --tag --rev --path --root --index --registry --features "
    "-F --jobs -j --profile --target --target-dir --config -Z --color --bin --example "
    "--manifest-path --message-format"
)
_LOCKED = frozenset({"--locked", "--frozen"})


class CargoInstallUnlocked(ScriptCheck):
    """Report `cargo install` without `--locked`."""

    rules = (CARGO_INSTALL_UNLOCKED,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per unlocked `cargo install`."""
        for located in commands:
            command = located.command
            if command.tool != "cargo":
                continue
            args = list(command.args)
            while args and args[0].startswith("+"):
                args.pop(0)  # a toolchain selector, `cargo +nightly install`
            if not args or args[0] != "install":
                continue
            options = parse_options(args[1:], _VALUE_OPTIONS.__contains__)
            if options.has(*_LOCKED):
                continue
            crates = list(options.positionals)
            paths = options.values("--path")
            if paths:
                what = f"the crate at `{paths[0]}`"
            elif crates:
                what = quote_list(crates)
            else:
                what = "the crate"
            versioned = (
                options.has("--version", "--vers", "--rev", "--tag")
                or (crates and all("@" in crate for crate in crates))
                or options.has("--path")
            )
            message = (
                f"`cargo install` builds {what} without `--locked`, so every dependency "
                "resolves to its newest compatible release instead of the crate's Cargo.lock"
            )
            if not versioned:
                message += "; no version is named either, so the crate itself floats too"
            fix = "add `--locked`" + ("" if versioned else " and `--version X.Y.Z`")
            self.report(
                emitter,
                CARGO_INSTALL_UNLOCKED,
                located,
                message,
                f"{fix}: `cargo install --locked --version X.Y.Z CRATE`",
            )
