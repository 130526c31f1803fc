"""The configs cataloger: config files and helper scripts by digest, never by content."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from envsecops.bag.config_globs import (
    DEFAULT_CONFIGS,
    ConfigSpec,
    Handling,
    expand,
    glob_problem,
    runner_pattern,
)
from envsecops.bag.fspaths import RootResolver, escape_name
from envsecops.bag.hashing import Hasher, shared_or_own, special_kind
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.model.bag import Component, ComponentKind, Status

SOURCE = "configs"
SCREEN_LIMIT = 1 << 20  # larger files are not screened, so their digest is withheld
WITHHELD = "may hold credentials ({why}): neither content nor digest is recorded"
CREDENTIAL_PATTERNS = re.compile(
    rb"(?i)((_authtoken|_auth|_password|npmauthtoken|npmauthident|password|passwd|secret|token"
    rb"|aws_secret_access_key|aws_session_token)[\"']?\s*[=:]"
    rb"|<password>|extraheader|authorization\s*:|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    rb"|\"auths?\"\s*:|identitytoken|[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@)"
)
"""Assignments to credential-like keys, auth headers, private keys, ``user:password@`` URLs.

Comments are not skipped (a commented-out token is still a secret); a false positive only costs
the digest, a false negative would publish a brute-forceable digest of a secret.
"""


@dataclass(frozen=True, slots=True)
class _Target:
    """One file to record: how it is named in the bag, where it is, and how to treat it."""

    name: str
    runner_path: bytes
    handling: Handling
    glob: str | None


def _display(path: bytes, home: str | None, workspace: str | None = None) -> str:
    """The name in the bag: workspace-relative, ``~/``-relative, or absolute."""
    for base, shown in ((workspace, ""), (home, "~/")):
        if base:
            prefix = os.fsencode(base.rstrip("/")) + b"/"
            if path.startswith(prefix):
                return shown + escape_name(path[len(prefix) :])
    return escape_name(path)


class Configs(Cataloger):
    """The default config files (`DEFAULT_CONFIGS`) plus the policy's and the CLI's globs.

    Content is never recorded. A *screened* file (pip.conf, .npmrc, .gitconfig...) is read once
    to compute its digest and, from the same bytes, to look for credential patterns (an npm
    ``_authToken``, a ``user:password@`` URL, a git ``extraheader``...): a clean file is
    recorded by digest; one that matches is recorded as ``digest-only`` with its digest
    *withheld*, because a sha256 of a file holding a short secret can be brute-forced offline
    by anyone who reads the bag. A *secret* file (~/.docker/config.json, ~/.netrc,
    ~/.git-credentials...) is never opened: presence and mode only, also ``digest-only``.
    Default files that are absent are not recorded; a policy/CLI glob that matches no file is
    recorded as ``vanished``, so a missing helper script is visible to the policy.
    """

    id = SOURCE

    def __init__(
        self, hasher: Hasher | None = None, defaults: tuple[ConfigSpec, ...] = DEFAULT_CONFIGS
    ) -> None:
        self._hasher = hasher
        self._defaults = defaults

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield one component per config file found (and per glob that found none)."""
        resolver = RootResolver(context.root)
        home = str(context.home) if context.home else context.environ.get("HOME")
        home = home if home and home.startswith("/") else None
        workspace = str(context.workspace) if context.workspace else None
        targets: dict[bytes, _Target] = {}
        problems: list[Component] = []
        for spec in self._defaults:
            pattern = runner_pattern(spec.pattern, home, None)
            if pattern is not None:
                for match in expand(resolver, pattern):
                    if match.status is Status.OK:
                        name = _display(match.path, home)
                        targets.setdefault(
                            match.path, _Target(name, match.path, spec.handling, None)
                        )
        for glob in context.config_globs:
            problems.extend(self._glob(resolver, glob, home, workspace, targets))
        yield from problems
        with shared_or_own(self._hasher) as hasher:
            for target in targets.values():
                component = _record(hasher, resolver, target)
                if component is not None:
                    yield component

    @staticmethod
    def _glob(
        resolver: RootResolver,
        glob: str,
        home: str | None,
        workspace: str | None,
        targets: dict[bytes, _Target],
    ) -> list[Component]:
        why = glob_problem(glob)
        pattern = None if why else runner_pattern(glob, home, workspace)
        if pattern is None:
            why = why or "it is relative and there is no workspace, or `~/` and no home"
            return [_glob_component(glob, Status.UNREADABLE, f"glob not used: {why}")]
        found = 0
        problems = []
        for match in expand(resolver, pattern):
            if match.status is not Status.OK:
                problems.append(_glob_component(glob, match.status, match.detail, match.path))
                continue
            if _is_file_like(resolver, match.path):
                found += 1
                name = _display(match.path, home, workspace)
                targets.setdefault(match.path, _Target(name, match.path, Handling.SCREENED, glob))
        if not found and not problems:
            problems.append(_glob_component(glob, Status.VANISHED, "matched no file"))
        return problems


def _is_file_like(resolver: RootResolver, path: bytes) -> bool:
    """Anything but a directory (or a link to one) counts: files, links, FIFOs, devices."""
    found = resolver.resolve(path)
    if found.status is not Status.OK:
        return found.links != ()  # a dangling or looping link is still something to record
    try:
        return not stat.S_ISDIR(os.lstat(resolver.host(found.path)).st_mode)
    except OSError:
        return False


def _glob_component(glob: str, status: Status, detail: str, path: bytes | None = None) -> Component:
    return Component(
        kind=ComponentKind.CONFIG,
        name=glob,
        source=SOURCE,
        path=escape_name(path) if path is not None else None,
        status=status,
        properties=(("detail", detail), ("glob", glob)),
    )


def _record(hasher: Hasher, resolver: RootResolver, target: _Target) -> Component | None:
    """The component for one file; None for an absent default file."""
    props: list[tuple[str, str]] = []
    if target.glob is not None:
        props.append(("glob", target.glob))
    found = resolver.resolve(target.runner_path)
    if found.links:
        props.append(("resolved", escape_name(found.path)))
    if found.status is not Status.OK:
        if not found.links and found.status is Status.VANISHED and target.glob is None:
            return None
        return _config(target, found.status, None, [*props, ("detail", found.detail)])
    host = resolver.host(found.path)
    try:
        info = os.lstat(host)
    except FileNotFoundError:
        return (
            None
            if target.glob is None and not found.links
            else _config(target, Status.VANISHED, None, props)
        )
    except OSError as exc:
        return _config(target, Status.UNREADABLE, None, [*props, ("detail", exc.strerror or "")])
    props.append(("mode", f"{stat.S_IMODE(info.st_mode):o}"))
    kind = special_kind(info.st_mode)
    if kind is not None:
        return _config(target, Status.SPECIAL, None, [*props, ("detail", f"{kind}: never opened")])
    if stat.S_ISDIR(info.st_mode):
        return (
            None
            if target.glob is None
            else _config(target, Status.UNREADABLE, None, [*props, ("detail", "is a directory")])
        )
    if target.handling is Handling.SECRET:
        withheld = WITHHELD.format(why="a credentials file")
        return _config(target, Status.DIGEST_ONLY, None, [*props, ("withheld", withheld)])
    result, content = hasher.read_small(host, SCREEN_LIMIT)
    if result.status is not Status.OK:
        return _config(target, result.status, None, [*props, ("detail", result.detail)])
    why = _credential_hint(content)
    if why is not None:
        return _config(
            target, Status.DIGEST_ONLY, None, [*props, ("withheld", WITHHELD.format(why=why))]
        )
    return _config(target, Status.OK, result.digest, props)


def _credential_hint(content: bytes | None) -> str | None:
    """Why a file's digest must be withheld (never the secret itself), or None."""
    if content is None:
        return f"larger than {SCREEN_LIMIT} bytes, so not screened"
    match = CREDENTIAL_PATTERNS.search(content)
    if match is None:
        return None
    line = content.count(b"\n", 0, match.start()) + 1
    return f"a credential pattern on line {line}"


def _config(
    target: _Target, status: Status, digest: str | None, props: list[tuple[str, str]]
) -> Component:
    return Component(
        kind=ComponentKind.CONFIG,
        name=target.name,
        source=SOURCE,
        path=escape_name(target.runner_path),
        digest=digest,
        status=status,
        properties=tuple(sorted(props)),
    )
