"""The python-packages cataloger: site directories found from PATH without running Python."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from envsecops.bag.fspaths import RootResolver
from envsecops.bag.interface import CatalogContext
from envsecops.bag.python_packages import PythonPackages, normalise, site_dirs
from envsecops.canonical import canonical_json, digest_bytes
from envsecops.model.bag import Component, ComponentKind, Status

RECORD = (
    b"foo/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
    b"foo-1.0.dist-info/RECORD,,\n"
)
TRAP = "#!/bin/sh\ntouch {marker}\n"


def _write(root: Path, runner_path: str, content: str | bytes = "") -> Path:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _meta(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nlong text\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A runner with /usr/bin/python3.11, a Debian dist-packages, /usr/local and a virtualenv."""
    root = tmp_path / "root"
    marker = tmp_path / "executed"
    python = _write(root, "/usr/bin/python3.11", TRAP.format(marker=marker))
    python.chmod(0o755)
    (root / "usr/bin/python3").symlink_to("python3.11")
    site = "/usr/lib/python3.11/site-packages"
    _write(root, f"{site}/foo-1.0.dist-info/METADATA", _meta("Foo", "1.0"))
    _write(root, f"{site}/foo-1.0.dist-info/RECORD", RECORD)
    _write(root, f"{site}/foo-1.0.dist-info/INSTALLER", "pip\n")
    _write(
        root, "/usr/lib/python3/dist-packages/Legacy-2.0.egg-info/PKG-INFO", _meta("Legacy", "2.0")
    )
    _write(root, "/usr/lib/python3/dist-packages/single-0.1.egg-info", _meta("single", "0.1"))
    local = "/usr/local/lib/python3.11/dist-packages"
    _write(root, f"{local}/Baz_Qux-3.0.dist-info/METADATA", _meta("Baz_Qux", "3.0"))
    _write(root, "/opt/venv/pyvenv.cfg", "home = /usr/bin\n")
    (root / "opt/venv/bin").mkdir(parents=True)
    (root / "opt/venv/bin/python").symlink_to("/usr/bin/python3.11")  # absolute: inside the root
    venv_site = "/opt/venv/lib/python3.11/site-packages"
    _write(root, f"{venv_site}/venvpkg-0.1.dist-info/METADATA", _meta("venvpkg", "0.1"))
    _write(root, f"{venv_site}/venvpkg-0.1.dist-info/RECORD", "venvpkg/__init__.py,,\n")
    return root


PATH = "/opt/venv/bin:/usr/bin:relative/bin::/does/not/exist"


def _catalog(root: Path, path: str = PATH, home: str | None = None) -> dict[str, Component]:
    context = CatalogContext(environ={"PATH": path}, root=root, home=Path(home) if home else None)
    return {c.name: c for c in PythonPackages().catalog(context)}


def test_site_directories_of_every_interpreter(tree: Path) -> None:
    context = CatalogContext(environ={"PATH": PATH}, root=tree)
    assert site_dirs(context, RootResolver(tree)) == [
        b"/opt/venv/lib/python3.11/site-packages",
        b"/usr/lib/python3.11/site-packages",
        b"/usr/lib/python3/dist-packages",
        b"/usr/local/lib/python3.11/dist-packages",
    ]


def test_distributions_are_found_and_digested(tree: Path) -> None:
    found = _catalog(tree)
    assert set(found) == {"Foo", "Legacy", "single", "Baz_Qux", "venvpkg"}
    foo = found["Foo"]
    assert foo.kind is ComponentKind.PACKAGE
    assert foo.version == "1.0"
    assert foo.digest == digest_bytes(RECORD)
    assert foo.purl == "pkg:pypi/foo@1.0"
    assert foo.path == "/usr/lib/python3.11/site-packages/foo-1.0.dist-info"
    assert foo.prop("installer") == "pip"
    assert foo.prop("digest_of") == "RECORD"
    baz = found["Baz_Qux"]
    assert baz.purl == "pkg:pypi/baz-qux@3.0"
    assert (baz.prop("digest_of"), baz.prop("record")) == ("METADATA", "missing")
    assert found["Legacy"].prop("digest_of") == "PKG-INFO"
    assert found["single"].version == "0.1"


def test_no_interpreter_is_executed(tree: Path) -> None:
    _catalog(tree)
    assert not (tree.parent / "executed").exists()


def test_a_changed_record_changes_the_digest(tree: Path) -> None:
    before = _catalog(tree)["Foo"].digest
    _write(tree, "/usr/lib/python3.11/site-packages/foo-1.0.dist-info/RECORD", RECORD + b"x,,\n")
    assert _catalog(tree)["Foo"].digest != before


def test_without_an_interpreter_on_path_nothing_is_searched(tree: Path) -> None:
    assert _catalog(tree, path="/bin") == {}


def test_the_user_site_is_searched(tree: Path) -> None:
    user = "/home/runner/.local/lib/python3.11/site-packages"
    _write(tree, f"{user}/userpkg-9.dist-info/METADATA", _meta("userpkg", "9"))
    assert "userpkg" in _catalog(tree, home="/home/runner")


def test_a_linked_metadata_file_is_unreadable(tree: Path) -> None:
    dist = tree / "usr/lib/python3.11/site-packages/evil-1.dist-info"
    dist.mkdir()
    (dist / "METADATA").symlink_to("/etc/passwd")
    component = _catalog(tree)["evil-1"]
    assert component.status is Status.UNREADABLE
    assert component.version is None


def test_a_fifo_metadata_file_is_special(tree: Path) -> None:
    dist = tree / "usr/lib/python3.11/site-packages/pipe-1.dist-info"
    dist.mkdir()
    os.mkfifo(dist / "METADATA")
    assert _catalog(tree)["pipe-1"].status is Status.SPECIAL


def test_metadata_without_a_version_is_unreadable(tree: Path) -> None:
    _write(tree, "/usr/lib/python3.11/site-packages/nov-1.dist-info/METADATA", "Name: nov\n")
    component = _catalog(tree)["nov-1"]
    assert component.status is Status.UNREADABLE
    assert "Version" in (component.prop("detail") or "")


def test_non_utf8_names_are_escaped(tree: Path) -> None:
    site = tree / "usr/lib/python3.11/site-packages"
    dist = site / os.fsdecode(b"caf\xe9-1.dist-info")
    dist.mkdir()
    (dist / "METADATA").write_bytes(b"Name: caf\xe9\nVersion: 1\n")
    component = _catalog(tree)["caf\ufffd"]
    assert component.path == "/usr/lib/python3.11/site-packages/caf%E9-1.dist-info"
    canonical_json(component.to_json())


@pytest.mark.parametrize(
    ("name", "normal"), [("Foo.Bar_baz", "foo-bar-baz"), ("zope.interface", "zope-interface")]
)
def test_normalise(name: str, normal: str) -> None:
    assert normalise(name) == normal


def test_this_interpreters_own_packages_are_found() -> None:
    bin_dir = str(Path(sys.executable).parent)
    found = _catalog(Path("/"), path=bin_dir)
    assert "pytest" in {normalise(name) for name in found}
    assert all(c.status is Status.OK for c in found.values())
