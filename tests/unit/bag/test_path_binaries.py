"""The path-binaries cataloger on real temporary root trees."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from envsecops.bag.interface import CatalogContext
from envsecops.bag.path_binaries import PathBinaries
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Component, RunnerFacts, Status
from tests.unit.bag.fs_helpers import write


def _root(tmp_path: Path) -> Path:
    """/usr/bin with a real binary, an alias and a link to a versioned one; /bin -> usr/bin."""
    root = tmp_path / "root"
    write(root / "usr/bin/ls", b"\x7fELF ls", mode=0o755)
    write(root / "usr/bin/python3.12", b"\x7fELF python", mode=0o755)
    (root / "usr/bin/python3").symlink_to("python3.12")
    write(root / "usr/bin/README", b"not executable")
    (root / "usr/bin/subdir").mkdir()
    write(root / "usr/local/bin/python3", b"#!/bin/sh\nexec evil\n", mode=0o755)
    write(root / "usr/local/bin/sudo-ish", b"\x7fELF", mode=0o4755)
    (root / "bin").symlink_to("usr/bin")
    return root


def _run(root: Path, path: str | None) -> list[Component]:
    environ = {} if path is None else {"PATH": path}
    return list(PathBinaries().catalog(CatalogContext(environ=environ, root=root)))


def _by_path(found: list[Component]) -> dict[str, Component]:
    return {c.path or "": c for c in found if c.name != "path-entry"}


def _entries(found: list[Component]) -> dict[str, Component]:
    return {c.path or "": c for c in found if c.name == "path-entry"}


def test_executables_are_resolved_hashed_and_deduplicated(tmp_path: Path) -> None:
    found = _run(_root(tmp_path), "/usr/local/bin:/usr/bin:/bin")
    binaries = _by_path(found)
    assert sorted(binaries) == [
        "/usr/bin/ls",
        "/usr/bin/python3",
        "/usr/local/bin/python3",
        "/usr/local/bin/sudo-ish",
    ]
    python = binaries["/usr/bin/python3"]
    assert python.digest == "sha256:" + hashlib.sha256(b"\x7fELF python").hexdigest()
    assert python.prop("realpath") == "/usr/bin/python3.12"
    assert python.prop("aliases") == "/usr/bin/python3.12"
    assert python.prop("shadowed-by") == "/usr/local/bin/python3"
    assert python.prop("path-entry") == "/usr/bin"
    assert binaries["/usr/bin/ls"].prop("aliases") is None
    assert _entries(found)["/bin"].prop("same-directory-as") == "/usr/bin"
    assert binaries["/usr/local/bin/sudo-ish"].prop("setuid") == "true"
    assert {c.status for c in found} == {Status.OK}


def test_path_entries_that_are_relative_missing_or_files_are_recorded(tmp_path: Path) -> None:
    root = _root(tmp_path)
    write(root / "etc/file", b"x")
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    found = _run(root, "bin::./node_modules/.bin:/nonexistent:/etc/file:/tmp:/usr/bin")
    entries = _entries(found)
    states = {path: c.prop("path-entry-state") for path, c in entries.items()}
    assert states == {
        "bin": "relative",
        "": "relative",
        "./node_modules/.bin": "relative",
        "/nonexistent": "missing",
        "/etc/file": "not-a-directory",
        "/tmp": "writable-by-others",  # noqa: S108 - a runner path under the test root
        "/usr/bin": "ok",
    }
    assert entries[""].prop("detail") == "the current directory: not listed"
    assert entries["/usr/bin"].prop("positions") == "6"
    assert "/usr/bin/ls" in _by_path(found)


def test_unset_path_is_recorded(tmp_path: Path) -> None:
    (only,) = _run(_root(tmp_path), None)
    assert only.prop("path-entry-state") == "unset"


def test_a_fifo_on_path_is_recorded_and_does_not_block(tmp_path: Path) -> None:
    root = _root(tmp_path)
    os.mkfifo(root / "usr/local/bin/pipe")
    box: list[list[Component]] = []
    worker = threading.Thread(target=lambda: box.append(_run(root, "/usr/local/bin")), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "cataloguing PATH blocked on a FIFO"
    pipe = _by_path(box[0])["/usr/local/bin/pipe"]
    assert (pipe.status, pipe.digest, pipe.prop("detail")) == (
        Status.SPECIAL,
        None,
        "a FIFO: never opened",
    )


def test_dangling_and_looping_links_on_path_are_recorded(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "usr/local/bin/dangling").symlink_to("/opt/missing/tool")
    (root / "usr/local/bin/loop").symlink_to("loop")
    binaries = _by_path(_run(root, "/usr/local/bin"))
    assert binaries["/usr/local/bin/dangling"].status is Status.VANISHED
    assert binaries["/usr/local/bin/loop"].status is Status.LOOP


def test_a_link_out_of_the_root_is_resolved_inside_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    write(tmp_path / "host-secret", b"outside the root", mode=0o755)
    (root / "usr/local/bin/escape").symlink_to("../../../../../host-secret")
    binaries = _by_path(_run(root, "/usr/local/bin"))
    assert binaries["/usr/local/bin/escape"].status is Status.VANISHED  # /host-secret under root


def test_non_utf8_binary_names_are_escaped_in_the_bag(tmp_path: Path) -> None:
    root = _root(tmp_path)
    raw = os.fsencode(root / "usr/local/bin") + b"/t\xe9st"
    with open(raw, "wb") as handle:  # noqa: PTH123 - a bytes path on purpose
        handle.write(b"x")
    os.chmod(raw, 0o755)  # noqa: PTH101, S103 - an executable, by a bytes path
    binaries = _by_path(_run(root, "/usr/local/bin"))
    assert binaries["/usr/local/bin/t%E9st"].name == "t%E9st"
    bag = Bag.build(RunnerFacts(), binaries.values())
    assert b"t%E9st" in canonical_json(bag.to_json())


def test_two_runs_agree_and_touching_one_binary_changes_only_it(tmp_path: Path) -> None:
    root = _root(tmp_path)
    path = "/usr/local/bin:/usr/bin"
    first = Bag.build(RunnerFacts(), _run(root, path))
    second = Bag.build(RunnerFacts(), _run(root, path))
    assert first.env_hash == second.env_hash
    (root / "usr/bin/ls").write_bytes(b"\x7fELF ls, patched")
    third = Bag.build(RunnerFacts(), _run(root, path))
    assert third.env_hash != first.env_hash
    changed = [a.path for a, b in zip(first.components, third.components, strict=True) if a != b]
    assert changed == ["/usr/bin/ls"]
