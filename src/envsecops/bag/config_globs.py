"""Where config files are looked for: the default list, and policy/CLI globs under a root."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from envsecops.bag.fspaths import RootResolver
from envsecops.model.bag import Status


class Handling(StrEnum):
    """How a config file's content is treated; it is never recorded, only digested or withheld."""

    SCREENED = "screened"  # digested, unless a credential pattern is found in it: then withheld
    SECRET = "secret"  # noqa: S105 - a category, not a password: never read, presence only


@dataclass(frozen=True, slots=True)
class ConfigSpec:
    """One place to look: a runner path or glob (``~/`` is the home), and its handling."""

    pattern: str
    handling: Handling = Handling.SCREENED


_SECRET = Handling.SECRET
DEFAULT_CONFIGS: tuple[ConfigSpec, ...] = (
    *(
        ConfigSpec(p)
        for p in (
            "/etc/pip.conf",
            "/etc/xdg/pip/pip.conf",
            "~/.config/pip/pip.conf",
            "~/.pip/pip.conf",
            "/etc/npmrc",
            "/usr/local/etc/npmrc",
            "~/.npmrc",
            "~/.yarnrc",
            "~/.yarnrc.yml",
            "/etc/gitconfig",
            "~/.gitconfig",
            "~/.config/git/config",
            "/etc/apt/sources.list",
            "/etc/apt/sources.list.d/*",
            "/etc/apt/apt.conf.d/*",
            "/etc/apt/trusted.gpg",
            "/etc/apt/trusted.gpg.d/*",
            "/etc/apt/keyrings/*",
            "/etc/docker/daemon.json",
            "/etc/hosts",
            "/etc/resolv.conf",
            "/etc/ssh/ssh_config",
            "/etc/ssh/ssh_known_hosts",
            "~/.ssh/config",
            "~/.ssh/known_hosts",
            "~/.aws/config",
            "~/.cargo/config.toml",
            "~/.m2/settings.xml",
            "~/.gradle/gradle.properties",
        )
    ),
    *(
        ConfigSpec(p, _SECRET)
        for p in (
            "/etc/apt/auth.conf",
            "/etc/apt/auth.conf.d/*",
            "~/.docker/config.json",
            "~/.netrc",
            "~/.git-credentials",
            "~/.config/git/credentials",
            "~/.pypirc",
            "~/.config/gh/hosts.yml",
            "~/.aws/credentials",
            "~/.kube/config",
            "~/.cargo/credentials",
            "~/.cargo/credentials.toml",
            "~/.gem/credentials",
            "~/.ssh/id_*",
        )
    ),
)


def glob_problem(pattern: str) -> str | None:
    """Why a policy/CLI glob cannot be used, or None (the CLI can check before running)."""
    if not pattern.strip():
        return "an empty glob matches nothing"
    if "\x00" in pattern:
        return "a glob must not contain a NUL character"
    parts = pattern.removeprefix("~/").split("/")
    if ".." in parts:
        return "a glob must not contain `..` (name the path below the workspace, home or /)"
    return None


def runner_pattern(pattern: str, home: str | None, workspace: str | None) -> str | None:
    """The absolute runner-path form of a glob: ``~/`` is the home, relative is the workspace."""
    if pattern.startswith("~/"):
        return None if home is None else home.rstrip("/") + "/" + pattern[2:]
    if pattern.startswith("/"):
        return pattern
    return None if workspace is None else workspace.rstrip("/") + "/" + pattern


@dataclass(frozen=True, slots=True)
class Match:
    """A runner path a glob reached (``status`` OK), or why a literal part could not be read."""

    path: bytes
    status: Status = Status.OK
    detail: str = ""


def _magic(part: bytes) -> bool:
    return any(char in part for char in (b"*", b"?", b"["))


def expand(resolver: RootResolver, pattern: str) -> Iterator[Match]:
    """Runner paths matching an absolute glob, sorted, under the root.

    ``*``, ``?`` and ``[...]`` match within one name (a leading dot included), ``**`` matches
    any number of directories. Directory links are followed for the literal part only; ``**``
    never descends through a link, so a link loop cannot trap the walk.
    """
    parts = [p for p in os.fsencode(pattern).split(b"/") if p]
    literal: list[bytes] = []
    while parts and not _magic(parts[0]):
        literal.append(parts.pop(0))
    base = b"/" + b"/".join(literal)
    if not parts:
        yield Match(base)
        return
    found = resolver.resolve(base)
    if found.status is not Status.OK:
        if found.status is not Status.VANISHED:
            yield Match(base, found.status, found.detail)
        return
    yield from sorted(_walk(resolver, base, found.path, parts), key=lambda m: m.path)


def _walk(resolver: RootResolver, shown: bytes, real: bytes, parts: list[bytes]) -> Iterator[Match]:
    """Match ``parts`` below ``real`` (reported under ``shown``, the path as the glob names it)."""
    head, rest = parts[0], parts[1:]
    try:
        with os.scandir(resolver.host(real)) as listing:
            entries = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in listing)
    except OSError as exc:
        yield Match(shown, Status.UNREADABLE, f"cannot list: {exc.strerror}")
        return
    if head == b"**":
        if rest:
            yield from _walk(resolver, shown, real, rest)
        for name, is_dir in entries:
            if is_dir:
                yield from _walk(resolver, shown + b"/" + name, real + b"/" + name, parts)
            elif not rest:
                yield Match(shown + b"/" + name)
        return
    for name, is_dir in entries:
        if not fnmatch.fnmatchcase(name, head):
            continue
        if not rest:
            yield Match(shown + b"/" + name)
        elif is_dir:
            yield from _walk(resolver, shown + b"/" + name, real + b"/" + name, rest)
