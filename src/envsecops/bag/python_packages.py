"""The python-packages cataloger: the distributions every Python interpreter on PATH can import.

No interpreter is executed (an earlier step may have replaced it). For each ``python``,
``python3`` or ``python3.X`` on ``PATH`` the site directories are derived from its location,
before and after its symbolic links are followed (a virtualenv's ``bin/python`` links to the
base interpreter, whose prefix is another): ``lib/pythonX.Y/site-packages``,
``lib64/…/site-packages``, Debian's ``lib/python3/dist-packages`` and
``local/lib/pythonX.Y/dist-packages``, and the user site under ``$HOME/.local``.

Each ``*.dist-info`` yields one component: name and version from ``METADATA``, digest of
``RECORD`` (the list of installed files with their hashes; ``METADATA``'s digest when a
distribution has no RECORD, as Debian's packages often do), the installer that wrote it, and
``pkg:pypi/<normalised name>@<version>``. Legacy ``*.egg-info`` use ``PKG-INFO``. Links are
followed inside the root only; a metadata file that is a link, a FIFO or too large is recorded
as unreadable, never skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

from envsecops.bag.fspaths import RootResolver, escape_name
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.bag.os_packages import purl
from envsecops.bag.runner import FileProblem, read_regular
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, ComponentKind, Status

INTERPRETER = re.compile(r"^python(\d(\.\d+)?)?$")
VERSION_DIR = re.compile(r"^python\d(\.\d+)?$")
SITE_LAYOUTS = (
    ("lib", "site-packages"),
    ("lib", "dist-packages"),
    ("lib64", "site-packages"),
    ("local/lib", "dist-packages"),
    ("local/lib", "site-packages"),
)
RECORD_LIMIT = 16 * 1024 * 1024
METADATA_LIMIT = 4 * 1024 * 1024


def normalise(name: str) -> str:
    """PEP 503 normalised project name (the purl name for PyPI)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parent(path: bytes) -> bytes:
    """The parent of an absolute runner path (``/`` is its own parent)."""
    return path.rstrip(b"/").rpartition(b"/")[0] or b"/"


def is_dir(host: bytes) -> bool:
    """Whether a host path is a directory (following links, as the caller resolved them)."""
    try:
        return Path(os.fsdecode(host)).is_dir()
    except OSError:
        return False


def path_dirs(context: CatalogContext, resolver: RootResolver) -> list[bytes]:
    """The resolved runner paths of the absolute, existing directories on ``PATH``, in order."""
    found: list[bytes] = []
    for entry in context.environ.get("PATH", "").split(os.pathsep):
        if not entry.startswith("/"):
            continue  # relative and empty entries: the path-binaries cataloger reports them
        resolved = resolver.resolve(entry)
        ok = resolved.status is Status.OK and is_dir(resolver.host(resolved.path))
        if ok and resolved.path not in found:
            found.append(resolved.path)
    return found


def children(resolver: RootResolver, runner_dir: bytes) -> list[str]:
    """Sorted entry names of a runner directory (links followed inside the root), or []."""
    resolved = resolver.resolve(runner_dir)
    if resolved.status is not Status.OK:
        return []
    try:
        with os.scandir(resolver.host(resolved.path)) as entries:
            return sorted(os.fsdecode(entry.name) for entry in entries)
    except OSError:
        return []


def _join(base: bytes, *parts: str) -> bytes:
    return b"/".join([base.rstrip(b"/"), *(os.fsencode(p) for p in parts)])


def _prefixes(resolver: RootResolver, directory: bytes, names: list[str]) -> set[bytes]:
    prefixes: set[bytes] = set()
    for name in names:
        interpreter = _join(directory, name)
        resolved = resolver.resolve(interpreter)
        if resolved.status is not Status.OK:
            continue
        prefixes.add(parent(directory))
        prefixes.add(parent(parent(resolved.path)))
    return prefixes


def site_dirs(context: CatalogContext, resolver: RootResolver) -> list[bytes]:
    """Resolved runner paths of every site directory of every interpreter on PATH, sorted."""
    prefixes: set[bytes] = set()
    for directory in path_dirs(context, resolver):
        names = [n for n in children(resolver, directory) if INTERPRETER.match(n)]
        prefixes |= _prefixes(resolver, directory, names)
    if not prefixes:
        return []
    if context.home is not None:
        prefixes.add(_join(os.fsencode(str(context.home)), ".local"))
    sites: set[bytes] = set()
    for prefix in prefixes:
        for lib, leaf in SITE_LAYOUTS:
            base = _join(prefix, lib)
            for version in children(resolver, base):
                if VERSION_DIR.match(version):
                    resolved = resolver.resolve(_join(base, version, leaf))
                    if resolved.status is Status.OK:
                        sites.add(resolved.path)
    return sorted(sites)


def _headers(data: bytes) -> tuple[str | None, str | None]:
    """Name and Version of core metadata (UTF-8; undecodable bytes replaced, deterministically)."""
    headers = HeaderParser().parsestr(data.decode("utf-8", "replace"), headersonly=True)
    name, version = (str(headers.get(key) or "").strip() for key in ("Name", "Version"))
    return name or None, version or None


class PythonPackages(Cataloger):
    """Every installed distribution importable by the Python interpreters on PATH."""

    id = "python-packages"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield one component per distribution, site directory by site directory."""
        resolver = RootResolver(context.root)
        for site in site_dirs(context, resolver):
            for entry in children(resolver, site):
                if entry.endswith((".dist-info", ".egg-info")):
                    yield self._distribution(resolver, site, entry)

    def _distribution(self, resolver: RootResolver, site: bytes, entry: str) -> Component:
        runner_path = _join(site, entry)
        host = resolver.host(runner_path)
        path = escape_name(runner_path)
        props = {"site": escape_name(site)}
        if entry.endswith(".dist-info"):
            meta_name, digest_name = "METADATA", "RECORD"
        elif is_dir(host):
            meta_name, digest_name = "PKG-INFO", "PKG-INFO"
        else:
            meta_name = digest_name = ""  # a single-file egg-info is the metadata itself
        meta_host = _join(host, meta_name) if meta_name else host
        fallback = escape_name(entry.rsplit(".", 1)[0])
        try:
            metadata = read_regular(meta_host, METADATA_LIMIT)
        except FileProblem as problem:
            props["detail"] = f"{meta_name or entry}: {problem.detail}"
            return self._component(fallback, path, props, status=problem.status)
        name, version = _headers(metadata)
        if not name or not version:
            props["detail"] = f"{meta_name or entry} has no Name or Version"
            return self._component(fallback, path, props, status=Status.UNREADABLE)
        content = metadata
        props["digest_of"] = digest_name or entry
        if digest_name == "RECORD":
            try:
                content = read_regular(_join(host, "RECORD"), RECORD_LIMIT)
            except FileProblem as problem:
                if problem.status is not Status.VANISHED:
                    props["detail"] = f"RECORD: {problem.detail}"
                    return self._component(
                        name, path, props, version=version, status=problem.status
                    )
                props["digest_of"] = "METADATA"
                props["record"] = "missing"
        try:
            installer = (
                read_regular(_join(host, "INSTALLER"), 256).decode("utf-8", "replace").strip()
            )
        except FileProblem:
            installer = ""
        if installer:
            props["installer"] = installer
        return self._component(
            name,
            path,
            props,
            version=version,
            digest=digest_bytes(content),
            purl=purl("pypi", None, normalise(name), version),
        )

    def _component(
        self,
        name: str,
        path: str,
        props: dict[str, str],
        *,
        version: str | None = None,
        digest: str | None = None,
        purl: str | None = None,
        status: Status = Status.OK,
    ) -> Component:
        return Component(
            kind=ComponentKind.PACKAGE,
            name=name,
            source=self.id,
            version=version,
            path=path,
            digest=digest,
            purl=purl,
            status=status,
            properties=tuple(sorted(props.items())),
        )
