"""The node-packages cataloger: globally installed Node modules of every node/npm on PATH.

Nothing is executed. The global prefix of each ``node``, ``nodejs`` or ``npm`` on ``PATH`` is
derived from where it lives, before and after its links are followed (``<prefix>/bin/node``;
``npm`` usually links to ``<prefix>/lib/node_modules/npm/bin/npm-cli.js``), plus the prefix an
``npm_config_prefix`` variable names (an earlier step may have set it). Each
``<prefix>/lib/node_modules/<name>`` and ``…/@scope/<name>`` yields one component: the directory
name (what ``require()`` resolves), the ``version`` of its ``package.json``, the digest of that
file and ``pkg:npm/…``. A module whose ``package.json`` declares another name keeps it as
``declared_name``; a linked module (``npm link``) records where it points as ``link``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace

from envsecops.bag.fspaths import RootResolver, escape_name
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.bag.os_packages import purl
from envsecops.bag.python_packages import children, is_dir, parent, path_dirs
from envsecops.bag.runner import FileProblem, printable, read_regular
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, ComponentKind, Status

EXECUTABLES = ("node", "nodejs", "npm")
PACKAGE_JSON_LIMIT = 1024 * 1024
MODULES = b"/lib/node_modules"


def _prefix_of(path: bytes) -> bytes:
    """``<prefix>`` of ``<prefix>/bin/x`` or of ``<prefix>/lib/node_modules/…``."""
    index = path.find(MODULES + b"/")
    if index >= 0:
        return path[:index] or b"/"
    return parent(parent(path))


def global_module_dirs(context: CatalogContext, resolver: RootResolver) -> list[bytes]:
    """Resolved runner paths of every global ``lib/node_modules`` directory, sorted."""
    prefixes: set[bytes] = set()
    for directory in path_dirs(context, resolver):
        for name in EXECUTABLES:
            if name not in children(resolver, directory):
                continue
            resolved = resolver.resolve(directory + b"/" + name.encode())
            if resolved.status is Status.OK:
                prefixes.add(parent(directory))
                prefixes.add(_prefix_of(resolved.path))
    for variable, value in context.environ.items():
        if variable.lower() == "npm_config_prefix" and value.startswith("/"):
            prefixes.add(os.fsencode(value.rstrip("/")) or b"/")
    found: set[bytes] = set()
    for prefix in prefixes:
        resolved = resolver.resolve(prefix.rstrip(b"/") + MODULES)
        if resolved.status is Status.OK and is_dir(resolver.host(resolved.path)):
            found.add(resolved.path)
    return sorted(found)


def _module_names(resolver: RootResolver, modules: bytes) -> Iterator[str]:
    for name in children(resolver, modules):
        if name.startswith("."):
            continue
        if name.startswith("@"):
            for inner in children(resolver, modules + b"/" + os.fsencode(name)):
                if not inner.startswith("."):
                    yield f"{name}/{inner}"
        else:
            yield name


class NodePackages(Cataloger):
    """Every global Node module of the node and npm installations on PATH."""

    id = "node-packages"

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield one component per global module."""
        resolver = RootResolver(context.root)
        for modules in global_module_dirs(context, resolver):
            for name in _module_names(resolver, modules):
                yield self._module(resolver, modules, name)

    def _module(self, resolver: RootResolver, modules: bytes, name: str) -> Component:
        runner_path = modules + b"/" + os.fsencode(name)
        props: dict[str, str] = {"prefix": escape_name(modules[: -len(MODULES)] or b"/")}
        resolved = resolver.resolve(runner_path)
        if resolved.links:
            props["link"] = escape_name(resolved.path)
        base = Component(
            ComponentKind.PACKAGE, escape_name(name), self.id, path=escape_name(runner_path)
        )
        if resolved.status is not Status.OK:
            props["detail"] = resolved.detail
            return replace(base, status=resolved.status, properties=_sorted(props))
        try:
            data = read_regular(resolver.host(resolved.path + b"/package.json"), PACKAGE_JSON_LIMIT)
        except FileProblem as problem:
            props["detail"] = f"package.json: {problem.detail}"
            return replace(base, status=problem.status, properties=_sorted(props))
        try:
            manifest = json.loads(data)
        except ValueError:
            manifest = None
        declared = manifest.get("name") if isinstance(manifest, dict) else None
        version = manifest.get("version") if isinstance(manifest, dict) else None
        if not isinstance(version, str) or not version:
            props["detail"] = "package.json is not JSON with a string `version`"
            return replace(
                base,
                digest=digest_bytes(data),
                status=Status.UNREADABLE,
                properties=_sorted(props),
            )
        if isinstance(declared, str) and declared != name:
            props["declared_name"] = printable(declared)
        version = printable(version)
        scope, _, bare = name.rpartition("/")
        return replace(
            base,
            version=version,
            digest=digest_bytes(data),
            purl=purl("npm", scope or None, bare, version) if escape_name(name) == name else None,
            properties=_sorted(props),
        )


def _sorted(props: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(props.items()))
