"""`unpinned-pip-install`: `pip install NAME` in a `run:` script without `--require-hashes`.

Also `pipx install/run/inject`, `uvx` and `uv tool install/run`, which fetch a tool and its
dependencies from the index the same way and cannot check hashes at all.

What is not a finding: `-r FILE` (the requirements-file check reads the file), local paths
and files (`.`, `./x`, `-e .`, `dist/*.whl`, `file:` URLs), `--no-index` (nothing is
downloaded), and any install with `--require-hashes` or `PIP_REQUIRE_HASHES=1` on the
command. `pip install --upgrade pip` *is* a finding: it downloads whatever pip is newest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

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
from envsecops.pins.shell import Command
from envsecops.pins.shell_locate import LocatedCommand

UNPINNED_PIP_INSTALL = Rule(
    id="unpinned-pip-install",
    title="pip install without hash checking",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`pip install NAME` in a workflow downloads whatever the index serves at that moment: "
    "a new release, a yanked-and-replaced file or a typosquat runs with the job's token. "
    "An `==` version pins the name but not the bits. Install from a requirements file with "
    "`--hash` lines and `pip install --require-hashes -r requirements.txt`.",
)

FIX = (
    "put exact versions with `--hash` lines in a requirements file (`pip-compile "
    "--generate-hashes` or `uv pip compile --generate-hashes`), then run "
    "`pip install --require-hashes -r requirements.txt`"
)
# pip and `uv pip` install options that take a value; anything else is a flag. A flag read
# as taking a value would hide a package, so only options certain to take one are here.
_VALUE_OPTIONS = option_set(
    "-r --requirement -c --constraint -e --editable -t --target --platform --python-version "
    "--implementation --abi --root --prefix --src --upgrade-strategy --install-option "
    "--global-option -C --config-settings --no-binary --only-binary --progress-bar -i "
    "--index-url --extra-index-url -f --find-links --proxy --retries --timeout --exists-action "
    "--trusted-host --cert --client-cert --cache-dir --log --log-file --python --report "
    "--keyring-provider --use-feature --use-deprecated --root-user-action --group -p --index "
    "--default-index --index-strategy --resolution --prerelease --exclude-newer --link-mode "
    "--override --build-constraint --python-platform"
)
_ATTACHED = frozenset({"-r", "-c", "-e", "-t", "-i", "-f", "-C", "-p"})
_REQUIRE_HASHES_ENV = re.compile(r"PIP_REQUIRE_HASHES=(1|true|yes|on)", re.IGNORECASE)
_VCS = re.compile(r"(git|hg|svn|bzr)\+", re.IGNORECASE)
_COMMIT = re.compile(r"@[0-9a-f]{40}(?:[#&]|$)")
_HASH_FRAGMENT = re.compile(r"#(?:.*&)?(sha256|sha384|sha512)=[0-9a-f]+", re.IGNORECASE)
_WINDOWS_PATH = re.compile(r"[A-Za-z]:[\\/]")
_LOCAL_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".py")
_SELF = frozenset({"pip", "setuptools", "wheel"})
_AT_VERSION = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]*\])?)@([^@/:\s]+)")
_TOOL_VALUE_OPTIONS = option_set(
    "--spec --from --with -w --with-requirements --with-editable --python -p --index "
    "--default-index --index-url -i --extra-index-url --pip-args --suffix --backend "
    "--preinstall --constraints -c --overrides --python-preference"
)
TOOL_FIX = (
    "install the tool into a virtualenv from a hashed requirements file "
    "(`python -m venv .tools && .tools/bin/pip install --require-hashes -r tools.txt`); "
    "pipx and uvx cannot check hashes"
)


def _is_local(spec: str) -> bool:
    lower = spec.lower()
    if "://" in spec:
        return lower.startswith("file:")
    if lower.startswith("file:") or spec.startswith((".", "/", "~", "\\")):
        return True
    if _WINDOWS_PATH.match(spec) or lower.endswith(_LOCAL_SUFFIXES):
        return True
    return ("/" in spec or "\\" in spec) and "@" not in spec


def classify(spec: str) -> str:
    """`local`, `dynamic`, `pinned` (a version or commit, no hash), or `unpinned`."""
    if is_dynamic(spec):
        return "dynamic"
    if _is_local(spec):
        return "local"
    if "://" in spec or _VCS.match(spec):
        url = spec.split("@", 1)[1].strip() if " @" in spec or "@ " in spec else spec
        if _VCS.match(url) or _VCS.search(url):
            return "pinned" if _COMMIT.search(url) else "unpinned"
        return "pinned" if _HASH_FRAGMENT.search(url) else "unpinned"
    from packaging.requirements import InvalidRequirement, Requirement  # ~20 ms: only when used

    try:
        requirement = Requirement(spec)
    except InvalidRequirement:
        return "unpinned"
    if requirement.url:
        return classify(requirement.url)
    specifiers = list(requirement.specifier)
    if (
        len(specifiers) == 1
        and specifiers[0].operator in ("==", "===")
        and ("*" not in specifiers[0].version)
    ):
        return "pinned"
    return "unpinned"


@dataclass(frozen=True, slots=True)
class Install:
    """What one command installs from the index: its label, the specs, and whether constrained."""

    label: str
    specs: tuple[str, ...]
    constrained: bool = False
    tool: bool = False
    upgrade: bool = False


def _uvx_spec(spec: str) -> str:
    """`ruff@0.6.0` (uvx syntax) as `ruff==0.6.0`; `ruff@latest` as `ruff`."""
    match = _AT_VERSION.fullmatch(spec)
    if match is None:
        return spec
    return match.group(1) if match.group(3) == "latest" else f"{match.group(1)}=={match.group(3)}"


def _pip(command: Command) -> Install | None:
    name, rest = subcommand(command.args, _VALUE_OPTIONS)
    if name != "install":
        return None
    options = parse_options(rest, _VALUE_OPTIONS.__contains__, attached=_ATTACHED)
    if options.has("--require-hashes", "--no-index") or any(
        _REQUIRE_HASHES_ENV.fullmatch(a) for a in command.assignments
    ):
        return None
    specs = (*options.positionals, *options.values("-e", "--editable"))
    return Install(
        "pip install",
        specs,
        constrained=options.has("-c", "--constraint"),
        upgrade=options.has("-U", "--upgrade"),
    )


def _tool_install(command: Command) -> Install | None:
    """`pipx install/run/inject`, `uvx`, `uv tool install/run`: tools fetched from the index."""
    args = command.args
    if command.tool == "pipx" and args[:1] in (("install",), ("run",), ("inject",)):
        verb, args = args[0], args[1:]
        label = f"pipx {verb}"
    elif command.tool == "uvx":
        verb, label = "run", "uvx"
    elif command.tool == "uv" and args[:1] == ("tool",) and args[1:2] in (("install",), ("run",)):
        verb, args = args[1], args[2:]
        label = f"uv tool {verb}"
    else:
        return None
    options = parse_options(
        args, _TOOL_VALUE_OPTIONS.__contains__, stop_at_positional=verb == "run"
    )
    main = options.values("--spec", "--from") or list(options.positionals[:1])
    if verb != "run":
        main = options.values("--spec", "--from") or list(options.positionals)
        if verb == "inject":
            main = list(options.positionals[1:])
    extra = options.values("--with", "-w")
    specs = tuple(_uvx_spec(spec) for spec in (*main, *extra))
    return Install(label, specs, tool=True)


class UnpinnedPipInstall(ScriptCheck):
    """Report `pip install` (and `pipx`/`uvx` tool installs) of names without hash checking."""

    rules = (UNPINNED_PIP_INSTALL,)

    def check_commands(self, commands: Sequence[LocatedCommand], emitter: Emitter) -> None:
        """One finding per install command that downloads unverified packages."""
        for located in commands:
            command = located.command
            install = _pip(command) if command.tool == "pip" else _tool_install(command)
            if install is None:
                continue
            finding = _assess(install)
            if finding is not None:
                message, severity, confidence = finding
                self.report(
                    emitter,
                    UNPINNED_PIP_INSTALL,
                    located,
                    message,
                    TOOL_FIX if install.tool else FIX,
                    severity=severity,
                    confidence=confidence,
                )


def _assess(install: Install) -> tuple[str, Severity, Confidence] | None:
    """The message, severity and confidence for one install, or None when nothing is fetched."""
    groups: dict[str, list[str]] = {"unpinned": [], "pinned": [], "dynamic": [], "local": []}
    for spec in install.specs:
        groups[classify(spec)].append(spec)
    unpinned, pinned, dynamic = groups["unpinned"], groups["pinned"], groups["dynamic"]
    if not (unpinned or pinned or dynamic):
        return None
    constrained = install.constrained
    parts: list[str] = []
    if unpinned:
        parts.append(
            f"downloads {quote_list(unpinned)} without a pinned version or hash"
            + (" (a constraints file may pin the versions, not the bits)" if constrained else "")
        )
    if pinned:
        parts.append(
            f"pins {quote_list(pinned)} by version or commit but checks no hash, so the bits "
            "(and every dependency) can still change"
        )
    if dynamic:
        parts.append(
            f"installs {quote_list(dynamic)}, which is only known when the step runs, so "
            "pin-check cannot tell what is downloaded"
        )
    message = f"`{install.label}` " + "; ".join(parts)
    if install.upgrade and _SELF & {_name(spec) for spec in unpinned}:
        message += (
            "; upgrading pip/setuptools/wheel is an unpinned download too: keep the "
            "runner's version or pin it in the hashed requirements file"
        )
    if dynamic and (constrained or not unpinned):
        return message, Severity.HIGH, Confidence.LOW
    if unpinned:
        if constrained:
            return message, Severity.MEDIUM, Confidence.MEDIUM
        return message, Severity.HIGH, Confidence.HIGH
    return message, Severity.MEDIUM, Confidence.HIGH


def _name(spec: str) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(spec).name.lower()
    except InvalidRequirement:
        return spec.lower()
