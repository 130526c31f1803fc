"""The node-packages cataloger: global modules of node and npm on PATH, on a real temp tree."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from envsecops.bag.fspaths import RootResolver
from envsecops.bag.interface import CatalogContext
from envsecops.bag.node_packages import NodePackages, global_module_dirs
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, ComponentKind, Status


def _write(root: Path, runner_path: str, content: str) -> Path:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def _package(root: Path, prefix: str, name: str, manifest: object) -> str:
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    _write(root, f"{prefix}/lib/node_modules/{name}/package.json", text)
    return text


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """node in /usr/local/bin, npm linking into its own module, a scope, a link, bad manifests."""
    root = tmp_path
    _write(root, "/usr/local/bin/node", "ELF").chmod(0o755)
    _package(root, "/usr/local", "npm", {"name": "npm", "version": "10.8.2"})
    _write(root, "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "// npm")
    (root / "usr/local/bin/npm").symlink_to("../lib/node_modules/npm/bin/npm-cli.js")
    _package(root, "/usr/local", "@scope/tool", {"name": "@scope/tool", "version": "1.2.3"})
    _package(root, "/usr/local", "impostor", {"name": "lodash", "version": "4.17.21"})
    _package(root, "/usr/local", "broken", "{not json")
    _package(root, "/usr/local", "noversion", {"name": "noversion"})
    (root / "usr/local/lib/node_modules/.bin").mkdir()
    (root / "usr/local/lib/node_modules/empty").mkdir()
    _write(
        root, "/home/dev/linked/package.json", json.dumps({"name": "linked", "version": "0.0.1"})
    )
    (root / "usr/local/lib/node_modules/linked").symlink_to("/home/dev/linked")
    return root


def _catalog(root: Path, environ: dict[str, str]) -> dict[str, Component]:
    context = CatalogContext(environ=environ, root=root)
    return {c.name: c for c in NodePackages().catalog(context)}


def test_global_modules_are_found(tree: Path) -> None:
    found = _catalog(tree, {"PATH": "/usr/local/bin:/usr/bin"})
    assert set(found) == {
        "npm",
        "@scope/tool",
        "impostor",
        "broken",
        "noversion",
        "empty",
        "linked",
    }
    npm = found["npm"]
    assert npm.kind is ComponentKind.PACKAGE
    assert npm.version == "10.8.2"
    assert npm.purl == "pkg:npm/npm@10.8.2"
    assert npm.path == "/usr/local/lib/node_modules/npm"
    manifest = (tree / "usr/local/lib/node_modules/npm/package.json").read_bytes()
    assert npm.digest == digest_bytes(manifest)
    assert found["@scope/tool"].purl == "pkg:npm/%40scope/tool@1.2.3"


def test_suspicious_modules_are_marked(tree: Path) -> None:
    found = _catalog(tree, {"PATH": "/usr/local/bin"})
    assert found["impostor"].prop("declared_name") == "lodash"
    assert found["linked"].prop("link") == "/home/dev/linked"
    assert found["linked"].version == "0.0.1"
    for name in ("broken", "noversion"):
        assert found[name].status is Status.UNREADABLE
        assert found[name].digest is not None
    assert found["empty"].status is Status.VANISHED


def test_npm_alone_finds_its_prefix(tree: Path) -> None:
    (tree / "usr/local/bin/node").unlink()
    shutil.move(tree / "usr/local/bin", tree / "opt/npm-bin")
    (tree / "opt/npm-bin/npm").unlink()
    (tree / "opt/npm-bin/npm").symlink_to("/usr/local/lib/node_modules/npm/bin/npm-cli.js")
    dirs = global_module_dirs(CatalogContext(environ={"PATH": "/opt/npm-bin"}, root=tree),
                              RootResolver(tree))  # fmt: skip
    assert dirs == [b"/usr/local/lib/node_modules"]


def test_an_npm_prefix_set_by_an_earlier_step_is_searched(tree: Path) -> None:
    _package(tree, "/opt/global", "planted", {"name": "planted", "version": "6.6.6"})
    found = _catalog(tree, {"PATH": "/usr/local/bin", "npm_config_prefix": "/opt/global"})
    assert found["planted"].prop("prefix") == "/opt/global"


def test_without_node_on_path_nothing_is_found(tree: Path) -> None:
    assert _catalog(tree, {"PATH": "/usr/bin"}) == {}


def test_this_machines_global_modules() -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed on this machine")
    found = _catalog(Path("/"), {"PATH": str(Path(shutil.which("npm") or "").parent)})
    assert "npm" in found
    assert found["npm"].status is Status.OK
