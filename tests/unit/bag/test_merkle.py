"""Merkle tree digests and root-confined link resolution, on real temporary trees."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from envsecops.bag.fspaths import RootResolver
from envsecops.bag.hashing import Hasher
from envsecops.bag.merkle import TreeDigest, tree_digest, tree_properties
from envsecops.model.bag import Status
from tests.unit.bag.fs_helpers import open_tree, unprivileged, write


def _digest(top: Path, root: Path | None = None, workers: int = 1) -> TreeDigest:
    resolver = RootResolver(root) if root is not None else None
    runner_top = b"/" + os.fsencode(top.relative_to(root)) if root is not None else None
    with Hasher(workers=workers, batch=4) as hasher:
        return tree_digest(hasher, top, resolver=resolver, runner_top=runner_top)


def _sample(top: Path) -> Path:
    write(top / "bin/tool", b"#!/bin/sh\necho hi\n", mode=0o755)
    write(top / "lib/a.txt", b"alpha")
    write(top / "lib/sub/b.txt", b"beta")
    (top / "empty").mkdir(parents=True)
    (top / "bin/alias").symlink_to("tool")
    for index in range(60):  # enough files for the worker pool to be used
        write(top / "many" / f"{index:03d}", str(index))
    return top


def _line(kind: str, mode: int, value: str, name: str) -> bytes:
    return f"{kind} {mode:o} {value} {name}\n".encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_digest_follows_the_documented_listing_format(tmp_path: Path) -> None:
    top = tmp_path / "t"
    write(top / "x.txt", b"x")
    write(top / "d/y", b"y", mode=0o600)
    (top / "l").symlink_to("x.txt")
    sub = _line("f", 0o600, _sha(b"y"), "y")
    listing = (
        _line("d", (top / "d").stat().st_mode & 0o7777, _sha(sub), "d")
        + _line("l", 0o777, _sha(b"x.txt"), "l")
        + _line("f", 0o644, _sha(b"x"), "x.txt")
    )
    result = _digest(top)
    assert result.digest == "sha256:" + _sha(listing)
    assert (result.files, result.dirs, result.links, result.nbytes) == (2, 1, 1, 2)


def test_an_unchanged_tree_gives_the_same_digest_inline_and_in_parallel(tmp_path: Path) -> None:
    top = _sample(tmp_path / "t")
    first, second, parallel = _digest(top), _digest(top), _digest(top, workers=2)
    assert first == second == parallel
    assert first.status is Status.OK
    assert first.files == 63


@pytest.mark.parametrize(
    "change",
    [
        lambda t: (t / "lib/a.txt").write_bytes(b"alphA"),
        lambda t: (t / "bin/tool").chmod(0o700),
        lambda t: (t / "lib/a.txt").rename(t / "lib/c.txt"),
        lambda t: (t / "empty/new").mkdir(),
        lambda t: (t / "bin/alias").unlink() or (t / "bin/alias").symlink_to("other"),
    ],
    ids=["content", "mode", "rename", "new-dir", "link-target"],
)
def test_any_change_to_content_names_modes_or_links_changes_the_digest(
    tmp_path: Path, change: object
) -> None:
    top = _sample(tmp_path / "t")
    before = _digest(top).digest
    change(top)  # type: ignore[operator]
    assert _digest(top).digest != before


def test_times_alone_do_not_change_the_digest(tmp_path: Path) -> None:
    top = _sample(tmp_path / "t")
    before = _digest(top).digest
    os.utime(top / "lib/a.txt", (1, 1))
    assert _digest(top).digest == before


def test_a_symlink_loop_is_recorded_and_never_followed(tmp_path: Path) -> None:
    top = tmp_path / "tree"
    write(top / "f", b"f")
    (top / "a").symlink_to("b")
    (top / "b").symlink_to("a")
    (top / "self").symlink_to(".")  # a directory link to itself: not followed by the walk
    result = _digest(top, root=tmp_path)
    assert result.status is Status.LOOP
    assert {(p.path, p.status) for p in result.problems} == {
        ("a", Status.LOOP),
        ("b", Status.LOOP),
    }
    assert (result.files, result.links) == (1, 3)


@pytest.mark.parametrize("target", ["../outside.txt", "/outside.txt", "/etc/passwd"])
def test_a_link_out_of_the_tree_is_reported_outside(tmp_path: Path, target: str) -> None:
    write(tmp_path / "outside.txt", b"not covered")
    top = tmp_path / "tree"
    write(top / "f", b"f")
    (top / "escape").symlink_to(target)
    result = _digest(top, root=tmp_path)
    assert result.status is Status.OUTSIDE
    assert result.problems[0].path == "escape"
    assert "out of the tree" in result.problems[0].detail


def test_an_absolute_link_that_stays_inside_under_the_root_is_fine(tmp_path: Path) -> None:
    top = tmp_path / "opt/tool"
    write(top / "bin/real", b"r")
    (top / "bin/abs").symlink_to("/opt/tool/bin/real")  # the runner's absolute path
    assert _digest(top, root=tmp_path).status is Status.OK


def test_a_fifo_in_a_tree_is_special_and_does_not_block(tmp_path: Path) -> None:
    top = tmp_path / "t"
    write(top / "f", b"f")
    os.mkfifo(top / "pipe")
    box: list[TreeDigest] = []
    worker = threading.Thread(target=lambda: box.append(_digest(top)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the walk blocked on a FIFO"
    assert box[0].status is Status.SPECIAL
    assert box[0].problems[0].path == "pipe"


def test_non_utf8_names_are_escaped_and_stable(tmp_path: Path) -> None:
    top = tmp_path / "t"
    top.mkdir()
    raw = os.fsencode(top) + b"/caf\xe9\n.txt"
    with open(raw, "wb") as handle:  # noqa: PTH123 - a bytes path on purpose
        handle.write(b"x")
    os.mkfifo(os.fsencode(top) + b"/p\xff")
    first, second = _digest(top), _digest(top)
    assert first == second
    assert first.problems[0].path == "p%FF"
    assert first.files == 1


def test_unreadable_directory_and_file_are_problems_not_omissions() -> None:
    with open_tree() as base:
        top = base / "t"
        write(top / "ok", b"ok")
        write(top / "locked/inner", b"x")
        write(top / "secret", b"s", mode=0o000)
        (top / "locked").chmod(0o000)
        with unprivileged():
            result = _digest(top)
    assert result.status is Status.UNREADABLE
    assert {(p.path, p.status) for p in result.problems} == {
        ("locked", Status.UNREADABLE),
        ("secret", Status.UNREADABLE),
    }
    props = dict(tree_properties(result))
    assert props["problems"] == "2"
    assert "locked (unreadable: cannot list directory: Permission denied)" in props["problem-paths"]


def test_a_missing_or_non_directory_top_has_no_digest(tmp_path: Path) -> None:
    write(tmp_path / "file", b"x")
    assert _digest(tmp_path / "gone") == TreeDigest(
        None, Status.VANISHED, detail="no longer exists"
    )
    assert _digest(tmp_path / "file").status is Status.UNREADABLE


def test_resolution_is_confined_to_the_root_like_chroot(tmp_path: Path) -> None:
    write(tmp_path / "usr/bin/python3.12", b"py")
    (tmp_path / "usr/bin/python3").symlink_to("/usr/bin/python3.12")
    (tmp_path / "bin").symlink_to("usr/bin")
    (tmp_path / "up").symlink_to("../../../../usr")
    (tmp_path / "loop").symlink_to("loop")
    resolver = RootResolver(tmp_path)
    found = resolver.resolve("/bin/python3")
    assert (found.path, found.status) == (b"/usr/bin/python3.12", Status.OK)
    assert found.links == (b"/bin", b"/usr/bin/python3")
    assert resolver.resolve("/up/bin/python3.12").path == b"/usr/bin/python3.12"
    assert resolver.resolve("/loop").status is Status.LOOP
    assert resolver.resolve("/usr/bin/nope").status is Status.VANISHED
