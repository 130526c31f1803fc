"""The path-binaries cataloger: every executable reachable through PATH, resolved and hashed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from envsecops.bag.fspaths import RootResolver, escape_name
from envsecops.bag.hashing import FileHash, Hasher, shared_or_own, special_kind
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.model.bag import Component, ComponentKind, Status

SOURCE = "path-binaries"
ENTRY_NAME = "path-entry"


@dataclass
class _Found:
    """One real file reached through PATH, and every PATH location that reaches it."""

    name: bytes
    location: bytes
    entry: bytes
    real: bytes
    status: Status = Status.OK
    detail: str = ""
    aliases: list[bytes] = field(default_factory=list)
    shadowed_by: bytes | None = None


def _entry_component(
    text: bytes, state: str, status: Status = Status.OK, detail: str = ""
) -> Component:
    props = [("path-entry-state", state)]
    if detail:
        props.append(("detail", detail))
    return Component(
        kind=ComponentKind.BINARY,
        name=ENTRY_NAME,
        source=SOURCE,
        path=escape_name(text),
        status=status,
        properties=tuple(sorted(props)),
    )


class PathBinaries(Cataloger):
    """Executables on ``PATH``, plus one ``path-entry`` component per PATH entry.

    Every entry is recorded with its state: ``ok``, ``relative`` (an empty entry is the current
    directory; what it reaches depends on each step's working directory, so it is recorded,
    never listed: the default policy should deny it), ``missing`` (anyone who can create it
    later can plant commands), ``not-a-directory``, and ``writable-by-others`` when its mode
    lets anyone add files. Each executable regular file is resolved (links followed under the
    root), de-duplicated by real path (``aliases`` lists the other PATH locations reaching it;
    an entry that is the same directory as an earlier one says ``same-directory-as``),
    and hashed; ``shadowed-by`` names the earlier PATH location that wins for its name. FIFOs,
    sockets and devices found in PATH directories are recorded, never opened. Nothing is run.
    """

    id = SOURCE

    def __init__(self, hasher: Hasher | None = None) -> None:
        self._hasher = hasher

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield the PATH entries and the executables they reach."""
        value = context.environ.get("PATH")
        if value is None:
            yield Component(
                kind=ComponentKind.BINARY,
                name=ENTRY_NAME,
                source=SOURCE,
                properties=(("path-entry-state", "unset"),),
            )
            return
        resolver = RootResolver(context.root)
        found: dict[bytes, _Found] = {}
        winners: dict[bytes, bytes] = {}
        entries: dict[bytes, Component] = {}
        positions: dict[bytes, list[int]] = {}
        seen_dirs: dict[bytes, bytes] = {}
        for position, text in enumerate(os.fsencode(value).split(b":")):
            positions.setdefault(text, []).append(position)
            if text in entries:
                continue
            entries[text], real_dir = _entry(resolver, text)
            if real_dir is None:
                continue
            if real_dir in seen_dirs:
                same = ("same-directory-as", escape_name(seen_dirs[real_dir]))
                props = tuple(sorted((*entries[text].properties, same)))
                entries[text] = replace(entries[text], properties=props)
                continue
            seen_dirs[real_dir] = text
            try:
                with os.scandir(resolver.host(real_dir)) as listing:
                    names = sorted(item.name for item in listing)
            except OSError as exc:
                detail = f"cannot list: {exc.strerror}"
                entries[text] = _entry_component(text, "unlistable", Status.UNREADABLE, detail)
                continue
            _scan(resolver, text, real_dir, names, found, winners)
        for text, component in entries.items():
            where = ",".join(str(p) for p in positions[text])
            props = tuple(sorted((*component.properties, ("positions", where))))
            yield replace(component, properties=props)
        with shared_or_own(self._hasher) as hasher:
            hashable = [f for f in found.values() if f.status is Status.OK]
            results = hasher.hash_many(resolver.host(f.real) for f in hashable)
            for item, result in zip(hashable, results, strict=True):
                yield _binary(item, result)
        for item in found.values():
            if item.status is not Status.OK:
                yield _binary(item, FileHash(item.status, None, 0, 0, item.detail))


def _entry(resolver: RootResolver, text: bytes) -> tuple[Component, bytes | None]:
    """The component for one PATH entry, and its real directory when it has one."""
    if not text.startswith(b"/"):
        what = "the current directory" if not text else "relative to the working directory"
        return _entry_component(text, "relative", detail=f"{what}: not listed"), None
    found = resolver.resolve(text)
    if found.status is Status.VANISHED:
        return _entry_component(text, "missing"), None
    if found.status is not Status.OK:
        return _entry_component(text, "unresolvable", found.status, found.detail), None
    try:
        info = os.lstat(resolver.host(found.path))  # resolved: no link left
    except OSError as exc:
        detail = exc.strerror or str(exc)
        return _entry_component(text, "unresolvable", Status.UNREADABLE, detail), None
    if not stat.S_ISDIR(info.st_mode):
        return _entry_component(text, "not-a-directory"), None
    state = "writable-by-others" if info.st_mode & stat.S_IWOTH else "ok"
    return _entry_component(text, state), found.path


def _scan(
    resolver: RootResolver,
    text: bytes,
    real_dir: bytes,
    names: list[bytes],
    found: dict[bytes, _Found],
    winners: dict[bytes, bytes],
) -> None:
    """Add what each name in one PATH directory reaches, first PATH location first."""
    for name in names:
        location = text.rstrip(b"/") + b"/" + name
        item = _resolve(resolver, name, location, real_dir, text)
        if item is None:
            continue
        winner = winners.setdefault(item.name, location)
        earlier = found.get(item.real)
        if earlier is not None:
            earlier.aliases.append(location)
            continue
        if winner != location:
            item.shadowed_by = winner
        found[item.real] = item


def _resolve(
    resolver: RootResolver, name: bytes, location: bytes, real_dir: bytes, entry: bytes
) -> _Found | None:
    """What one name in a PATH directory is: an executable file, a problem, or nothing."""
    candidate = real_dir.rstrip(b"/") + b"/" + name
    try:
        info = os.lstat(resolver.host(candidate))
    except OSError as exc:
        return _Found(name, location, entry, candidate, Status.VANISHED, exc.strerror or "")
    if stat.S_ISLNK(info.st_mode):
        target = resolver.resolve(candidate)
        if target.status is not Status.OK:
            detail = f"symbolic link: {target.detail}"
            return _Found(name, location, entry, candidate, target.status, detail)
        candidate = target.path
        try:
            info = os.lstat(resolver.host(candidate))
        except OSError as exc:
            return _Found(name, location, entry, candidate, Status.VANISHED, exc.strerror or "")
    mode = info.st_mode
    kind = special_kind(mode)
    if kind is not None:
        return _Found(name, location, entry, candidate, Status.SPECIAL, f"{kind}: never opened")
    if not stat.S_ISREG(mode) or not mode & 0o111:
        return None  # a directory or a non-executable file: not a command
    return _Found(name, location, entry, candidate)


def _binary(item: _Found, result: FileHash) -> Component:
    props = [("path-entry", escape_name(item.entry)), ("realpath", escape_name(item.real))]
    if item.aliases:
        props.append(("aliases", ",".join(escape_name(a) for a in sorted(item.aliases))))
    if item.shadowed_by is not None:
        props.append(("shadowed-by", escape_name(item.shadowed_by)))
    if result.mode & (stat.S_ISUID | stat.S_ISGID):
        props.append(("setuid", "true"))
    if result.detail:
        props.append(("detail", result.detail))
    return Component(
        kind=ComponentKind.BINARY,
        name=escape_name(item.name),
        source=SOURCE,
        path=escape_name(item.location),
        digest=result.digest,
        status=result.status,
        properties=tuple(sorted(props)),
    )
