"""The tool-cache cataloger on a real hosted-toolcache layout under a temporary root."""

from __future__ import annotations

import os
from pathlib import Path

from envsecops.bag.hashing import Hasher
from envsecops.bag.interface import CatalogContext
from envsecops.bag.merkle import tree_digest
from envsecops.bag.tool_cache import ToolCache
from envsecops.model.bag import Component, ComponentKind, Status
from tests.unit.bag.fs_helpers import open_tree, unprivileged, write


def _install(cache: Path, tool: str, version: str, arch: str = "x64", done: bool = True) -> Path:
    tree = cache / tool / version / arch
    write(tree / "bin" / tool.lower(), f"{tool} {version}", mode=0o755)
    write(tree / "lib" / "data.txt", "payload")
    (tree / "bin" / "alias").symlink_to(tool.lower())
    if done:
        write(cache / tool / version / f"{arch}.complete", "")
    return tree


def _run(root: Path, environ: dict[str, str] | None = None) -> list[Component]:
    context = CatalogContext(environ=environ or {}, root=root)
    return list(ToolCache().catalog(context))


def test_each_tool_version_arch_is_one_toolchain_with_a_tree_digest(tmp_path: Path) -> None:
    cache = tmp_path / "opt/hostedtoolcache"
    python = _install(cache, "Python", "3.12.3")
    _install(cache, "Python", "3.11.9")
    _install(cache, "node", "20.11.1", done=False)
    found = {(c.name, c.version): c for c in _run(tmp_path)}
    assert sorted(found) == [("Python", "3.11.9"), ("Python", "3.12.3"), ("node", "20.11.1")]
    component = found[("Python", "3.12.3")]
    with Hasher(workers=1) as hasher:
        assert component.digest == tree_digest(hasher, python).digest
    assert component.kind is ComponentKind.TOOLCHAIN
    assert component.path == "/opt/hostedtoolcache/Python/3.12.3/x64"
    assert component.purl == "pkg:generic/Python@3.12.3?arch=x64"
    props = dict(component.properties)
    assert (props["arch"], props["complete"], props["files"], props["links"]) == (
        "x64",
        "true",
        "2",
        "1",
    )
    assert found[("node", "20.11.1")].prop("complete") == "false"


def test_runner_tool_cache_is_honoured_and_a_relative_value_is_a_problem(tmp_path: Path) -> None:
    _install(tmp_path / "srv/cache", "go", "1.22.1")
    (only,) = _run(tmp_path, {"RUNNER_TOOL_CACHE": "/srv/cache"})
    assert (only.name, only.path) == ("go", "/srv/cache/go/1.22.1/x64")
    (problem,) = _run(tmp_path, {"RUNNER_TOOL_CACHE": "srv/cache"})
    assert problem.status is Status.UNREADABLE
    assert problem.prop("detail") == "RUNNER_TOOL_CACHE is a relative path"


def test_an_absent_cache_yields_nothing(tmp_path: Path) -> None:
    assert _run(tmp_path) == []


def test_unexpected_entries_are_recorded_never_skipped(tmp_path: Path) -> None:
    cache = tmp_path / "opt/hostedtoolcache"
    _install(cache, "go", "1.22.1")
    write(cache / "stray.txt", "hello")
    write(cache / "go" / "1.22.1" / "arm64.complete", "")  # a marker without its tree
    (cache / "go" / "latest").symlink_to("/etc")
    os.mkfifo(cache / "go" / "1.22.1" / "pipe")
    found = {c.path or "": c for c in _run(tmp_path)}
    unexpected = {p: c for p, c in found.items() if c.prop("layout") == "unexpected"}
    assert sorted(unexpected) == [
        "/opt/hostedtoolcache/go/1.22.1/arm64.complete",
        "/opt/hostedtoolcache/go/1.22.1/pipe",
        "/opt/hostedtoolcache/go/latest",
        "/opt/hostedtoolcache/stray.txt",
    ]
    assert unexpected["/opt/hostedtoolcache/go/latest"].status is Status.OUTSIDE
    assert unexpected["/opt/hostedtoolcache/go/latest"].prop("link-target") == "/etc"
    assert unexpected["/opt/hostedtoolcache/go/1.22.1/pipe"].status is Status.SPECIAL
    assert unexpected["/opt/hostedtoolcache/stray.txt"].digest is not None


def test_problems_inside_a_tree_set_its_status(tmp_path: Path) -> None:
    cache = tmp_path / "opt/hostedtoolcache"
    tree = _install(cache, "Ruby", "3.3.0")
    (tree / "bin" / "escape").symlink_to("../../../../../../etc/passwd")
    (only,) = _run(tmp_path)
    assert only.status is Status.OUTSIDE
    assert only.prop("problems") == "1"
    assert "bin/escape (symlink-outside-tree" in (only.prop("problem-paths") or "")


def test_an_unreadable_version_directory_is_a_problem_component() -> None:
    with open_tree() as base:
        cache = base / "opt/hostedtoolcache"
        _install(cache, "Java", "21.0.2")
        (cache / "Java").chmod(0o000)
        with unprivileged():
            (only,) = _run(base)
    assert (only.name, only.status) == ("Java", Status.UNREADABLE)
    assert "Permission denied" in (only.prop("detail") or "")


def test_same_tree_same_digest_and_touching_a_file_changes_it(tmp_path: Path) -> None:
    cache = tmp_path / "opt/hostedtoolcache"
    tree = _install(cache, "node", "22.1.0")
    first, second = _run(tmp_path), _run(tmp_path)
    assert first == second
    (tree / "lib" / "data.txt").write_text("patched")
    (third,) = _run(tmp_path)
    assert third.digest != first[0].digest
