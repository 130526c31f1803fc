"""The tool-cache cataloger: each tool/version/arch tree of the hosted tool cache, digested."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from urllib.parse import quote

from envsecops.bag.fspaths import RootResolver, escape_name, is_within
from envsecops.bag.hashing import Hasher, shared_or_own, special_kind
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.bag.merkle import tree_digest, tree_properties
from envsecops.model.bag import Component, ComponentKind, Status

SOURCE = "tool-cache"
DEFAULT_TOOL_CACHE = "/opt/hostedtoolcache"
MARKER = b".complete"


def _listing(host: bytes) -> list[os.DirEntry[bytes]]:
    with os.scandir(host) as entries:
        return sorted(entries, key=lambda entry: entry.name)


class ToolCache(Cataloger):
    """``$RUNNER_TOOL_CACHE`` (default ``/opt/hostedtoolcache``): one component per tree.

    The hosted layout is ``<tool>/<version>/<arch>/`` with a ``<arch>.complete`` marker beside
    each finished install; each such tree becomes a toolchain component (name = tool, version,
    ``arch``, ``complete``) whose digest is the tree's Merkle digest (`tree_digest`). Anything
    else found in the cache (a file, a link, a FIFO where a directory belongs) is recorded as a
    ``layout: unexpected`` component, never skipped. A missing cache yields nothing (nothing
    is installed); an unreadable one, or a relative ``RUNNER_TOOL_CACHE``, is a problem.
    """

    id = SOURCE

    def __init__(self, hasher: Hasher | None = None) -> None:
        self._hasher = hasher

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield one component per installed tree, and one per unexpected entry."""
        value = context.environ.get("RUNNER_TOOL_CACHE") or DEFAULT_TOOL_CACHE
        if not value.startswith("/"):
            yield _problem(value, Status.UNREADABLE, "RUNNER_TOOL_CACHE is a relative path")
            return
        resolver = RootResolver(context.root)
        found = resolver.resolve(value)
        if found.status is Status.VANISHED:
            return
        if found.status is not Status.OK:
            yield _problem(value, found.status, found.detail)
            return
        try:
            tools = _listing(resolver.host(found.path))
        except OSError as exc:
            yield _problem(value, Status.UNREADABLE, f"cannot list: {exc.strerror}")
            return
        with shared_or_own(self._hasher) as hasher:
            for tool in tools:
                yield from self._tool(hasher, resolver, found.path, tool)

    def _tool(
        self, hasher: Hasher, resolver: RootResolver, cache: bytes, tool: os.DirEntry[bytes]
    ) -> Iterator[Component]:
        runner_tool = cache + b"/" + tool.name
        if not tool.is_dir(follow_symlinks=False):
            yield _unexpected(hasher, resolver, runner_tool, tool, tool.name, cache)
            return
        try:
            versions = _listing(tool.path)
        except OSError as exc:
            detail = f"cannot list: {exc.strerror}"
            yield _problem(runner_tool, Status.UNREADABLE, detail, tool.name)
            return
        for version in versions:
            runner_version = runner_tool + b"/" + version.name
            if not version.is_dir(follow_symlinks=False):
                yield _unexpected(hasher, resolver, runner_version, version, tool.name, cache)
                continue
            try:
                arches = _listing(version.path)
            except OSError as exc:
                detail = f"cannot list: {exc.strerror}"
                yield _problem(runner_version, Status.UNREADABLE, detail, tool.name)
                continue
            dirs = {a.name for a in arches if a.is_dir(follow_symlinks=False)}
            for arch in arches:
                runner_arch = runner_version + b"/" + arch.name
                if arch.is_dir(follow_symlinks=False):
                    complete = any(
                        a.name == arch.name + MARKER and a.is_file(follow_symlinks=False)
                        for a in arches
                    )
                    yield _tree(hasher, resolver, runner_arch, tool.name, version.name, complete)
                elif not (arch.name.endswith(MARKER) and arch.name[: -len(MARKER)] in dirs):
                    yield _unexpected(hasher, resolver, runner_arch, arch, tool.name, cache)


def _tree(
    hasher: Hasher,
    resolver: RootResolver,
    runner_arch: bytes,
    tool: bytes,
    version: bytes,
    complete: bool,
) -> Component:
    tree = tree_digest(
        hasher, resolver.host(runner_arch), resolver=resolver, runner_top=runner_arch
    )
    arch = runner_arch.rsplit(b"/", 1)[1]
    name, ver, arch_text = escape_name(tool), escape_name(version), escape_name(arch)
    props = [("arch", arch_text), ("complete", "true" if complete else "false")]
    props.extend(tree_properties(tree))
    return Component(
        kind=ComponentKind.TOOLCHAIN,
        name=name,
        source=SOURCE,
        version=ver,
        path=escape_name(runner_arch),
        digest=tree.digest,
        purl=f"pkg:generic/{quote(name, safe='')}@{quote(ver, safe='')}?arch={quote(arch_text)}",
        status=tree.status,
        properties=tuple(sorted(props)),
    )


def _problem(path: bytes | str, status: Status, detail: str, tool: bytes = b"") -> Component:
    return Component(
        kind=ComponentKind.TOOLCHAIN,
        name=escape_name(tool) if tool else "tool-cache",
        source=SOURCE,
        path=escape_name(path),
        status=status,
        properties=(("detail", detail),),
    )


def _unexpected(
    hasher: Hasher,
    resolver: RootResolver,
    runner_path: bytes,
    entry: os.DirEntry[bytes],
    tool: bytes,
    cache: bytes,
) -> Component:
    """A file, link or special file where the layout wants a directory: recorded, digested."""
    props = [("layout", "unexpected")]
    status, digest = Status.OK, None
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            target = os.readlink(entry.path)  # noqa: PTH115 - raw bytes, never followed
            digest = "sha256:" + hashlib.sha256(target).hexdigest()
            props.append(("link-target", escape_name(target)))
            found = resolver.resolve(runner_path)
            if found.status is Status.LOOP:
                status = Status.LOOP
            elif not is_within(found.path, cache):
                status = Status.OUTSIDE
        elif special_kind(mode) is not None:
            status = Status.SPECIAL
            props.append(("detail", f"{special_kind(mode)}: never opened"))
        else:
            result = hasher.hash_file(entry.path)
            status, digest = result.status, result.digest
            if result.detail:
                props.append(("detail", result.detail))
    except FileNotFoundError:
        status = Status.VANISHED
    except OSError as exc:
        status = Status.UNREADABLE
        props.append(("detail", exc.strerror or str(exc)))
    return Component(
        kind=ComponentKind.TOOLCHAIN,
        name=escape_name(tool),
        source=SOURCE,
        path=escape_name(runner_path),
        digest=digest,
        status=status,
        properties=tuple(sorted(props)),
    )
