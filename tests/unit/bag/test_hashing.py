"""The hashing engine on real files: digests, every problem status, races, memory, escaping."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecops.bag import hashing
from envsecops.bag.fspaths import escape_name
from envsecops.bag.hashing import CHUNK, FileHash, Hasher, PathLike
from envsecops.bag.interface import CatalogError
from envsecops.canonical import canonical_json
from envsecops.model.bag import Status
from tests.unit.bag.fs_helpers import open_tree, unprivileged, write

SIZES = (0, 1, 4095, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5)


def _expected(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _files(root: Path, count: int) -> list[tuple[Path, bytes]]:
    made = []
    for index in range(count):
        size = SIZES[index] if index < len(SIZES) else index * 37 % 9000
        data = os.urandom(size) + str(index).encode()
        made.append((write(root / f"d{index % 7}" / f"f{index}", data), data))
    return made


@pytest.mark.parametrize("size", SIZES)
def test_a_file_hashes_to_its_sha256(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    result = Hasher(workers=1).hash_file(str(write(tmp_path / "f", data)))
    assert result == FileHash(Status.OK, _expected(data), size, result.mode)
    assert result.mode & 0o777 == 0o644


@pytest.mark.parametrize(("workers", "executor"), [(1, "process"), (2, "process"), (2, "thread")])
def test_many_files_come_back_in_order_whatever_the_workers(
    tmp_path: Path, workers: int, executor: str
) -> None:
    made = _files(tmp_path, 300)
    with Hasher(workers=workers, executor=executor, batch=16) as hasher:  # type: ignore[arg-type]
        results = list(hasher.hash_many(str(path) for path, _data in made))
    assert [r.digest for r in results] == [_expected(data) for _path, data in made]
    assert {r.status for r in results} == {Status.OK}


def test_where_processes_cannot_start_threads_give_the_same_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container without /dev/shm cannot make process-shared semaphores."""

    def no_semaphores(*_args: object, **_kwargs: object) -> None:
        raise OSError(38, "Function not implemented")

    made = _files(tmp_path, 100)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_semaphores)
    with Hasher(workers=2, batch=16) as hasher:
        results = list(hasher.hash_many(str(path) for path, _data in made))
        assert isinstance(hasher._pool, concurrent.futures.ThreadPoolExecutor)
    assert [r.digest for r in results] == [_expected(data) for _path, data in made]


def test_progress_counts_every_file_and_byte(tmp_path: Path) -> None:
    made = _files(tmp_path, 100)
    seen = [0, 0]

    class Counting:
        def advance(self, files: int, nbytes: int) -> None:
            seen[0] += files
            seen[1] += nbytes

    with Hasher(workers=2, progress=Counting(), batch=8) as hasher:
        list(hasher.hash_many(str(path) for path, _data in made))
    assert seen == [100, sum(len(data) for _path, data in made)]


def _in_thread(hasher: Hasher, path: PathLike) -> FileHash:
    """Hash in a daemon thread; a hang fails the test instead of blocking the suite."""
    box: list[FileHash] = []
    worker = threading.Thread(target=lambda: box.append(hasher.hash_file(path)), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), f"hashing {path!r} blocked"
    return box[0]


def test_a_fifo_is_recorded_as_special_and_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = _in_thread(Hasher(workers=1), str(fifo))
    assert (result.status, result.digest) == (Status.SPECIAL, None)
    assert "FIFO" in result.detail


def test_a_socket_is_recorded_as_special() -> None:
    with open_tree() as base, socket.socket(socket.AF_UNIX) as server:
        server.bind(str(base / "s"))
        result = _in_thread(Hasher(workers=1), str(base / "s"))
    assert (result.status, result.detail) == (Status.SPECIAL, "a socket: never opened")


def test_a_character_device_is_recorded_and_not_opened() -> None:
    result = Hasher(workers=1).hash_file("/dev/null")
    assert (result.status, result.detail) == (Status.SPECIAL, "a character device: never opened")


def test_missing_directory_and_link_are_recorded(tmp_path: Path) -> None:
    write(tmp_path / "real", b"x")
    (tmp_path / "link").symlink_to("real")
    hasher = Hasher(workers=1)
    assert hasher.hash_file(str(tmp_path / "gone")).status is Status.VANISHED
    assert hasher.hash_file(str(tmp_path)).status is Status.UNREADABLE
    linked = hasher.hash_file(str(tmp_path / "link"))
    assert (linked.status, linked.detail) == (Status.CHANGED, "became a symbolic link")


def test_a_file_the_process_may_not_read_is_unreadable() -> None:
    """As root (CI), mode 000 is no barrier: the read happens with nobody's effective ids."""
    with open_tree() as base:
        secret = write(base / "secret", b"top secret", mode=0o000)
        with unprivileged():
            result = Hasher(workers=1).hash_file(str(secret))
    assert (result.status, result.digest) == (Status.UNREADABLE, None)
    assert "Permission denied" in result.detail


def _hook_on(event: str, action: object) -> hashing.StepHook:
    fired: list[PathLike] = []

    def hook(name: str, path: PathLike) -> None:
        if name == event and not fired:
            fired.append(path)
            action(Path(os.fsdecode(path)))  # type: ignore[operator]

    return hook


def _replace(path: Path) -> None:
    write(path.with_name("other"), b"other content")
    path.with_name("other").replace(path)


def _append(path: Path) -> None:
    with path.open("ab") as handle:
        handle.write(b"more")


def _rename_away(path: Path) -> None:
    path.rename(path.with_name("moved"))


CHANGED_DETAIL = "changed while it was read (size, mtime, ctime or link count moved)"


def _to_link(path: Path) -> None:
    path.unlink()
    path.symlink_to("/dev/null")


@pytest.mark.parametrize(
    ("event", "action", "status", "detail"),
    [
        ("stat", _replace, Status.CHANGED, "replaced between stat and open"),
        ("stat", Path.unlink, Status.VANISHED, "removed before it was opened"),
        ("stat", _to_link, Status.CHANGED, "replaced by a symbolic link before it was opened"),
        ("read", _replace, Status.CHANGED, "removed or replaced while it was read"),
        ("read", Path.unlink, Status.CHANGED, "removed or replaced while it was read"),
        ("read", _append, Status.CHANGED, CHANGED_DETAIL),
        ("read", _rename_away, Status.CHANGED, CHANGED_DETAIL),
    ],
)
def test_a_file_changed_during_hashing_is_never_reported_ok(
    tmp_path: Path, event: str, action: object, status: Status, detail: str
) -> None:
    target = write(tmp_path / "target", os.urandom(3 * CHUNK))
    result = Hasher(workers=1, hook=_hook_on(event, action)).hash_file(str(target))
    assert (result.status, result.detail, result.digest) == (status, detail, None)


def _to_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize(
    ("action", "status", "detail"),
    [
        (_replace, Status.OK, ""),
        (_to_fifo, Status.CHANGED, "no longer a regular file when opened"),
        (_to_link, Status.CHANGED, "replaced by a symbolic link before it was opened"),
        (Path.unlink, Status.VANISHED, "removed before it was opened"),
    ],
)
def test_a_listed_file_is_checked_when_opened_instead_of_stat_before(
    tmp_path: Path, action: object, status: Status, detail: str
) -> None:
    """Tree walks skip the first lstat; whatever the name is at open time decides."""
    target = write(tmp_path / "target", b"listed as a regular file")
    hasher = Hasher(workers=1, hook=_hook_on("stat", action))
    (result,) = _in_thread_many(hasher, [str(target)])
    assert (result.status, result.detail) == (status, detail)
    # replaced before the open: the replacement is what is hashed, and the name still holds it
    assert result.digest == (_expected(b"other content") if status is Status.OK else None)


def _in_thread_many(hasher: Hasher, paths: list[str]) -> list[FileHash]:
    box: list[list[FileHash]] = []
    worker = threading.Thread(
        target=lambda: box.append(list(hasher.hash_many(paths, listed=True))), daemon=True
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "hashing blocked"
    return box[0]


def test_read_small_returns_the_bytes_it_digested(tmp_path: Path) -> None:
    small, big = write(tmp_path / "s", b"abc"), write(tmp_path / "b", b"x" * 100)
    hasher = Hasher(workers=1)
    assert hasher.read_small(str(small), 10) == (hasher.hash_file(str(small)), b"abc")
    result, content = hasher.read_small(str(big), 10)
    assert (result.digest, content) == (_expected(b"x" * 100), None)


def _die(_event: str, _path: PathLike) -> None:
    if multiprocessing.parent_process() is not None:  # only ever a worker, never pytest itself
        os._exit(3)


@pytest.mark.parametrize("with_thread", [False, True], ids=["fork", "forkserver"])
def test_a_dead_worker_fails_the_run_with_an_explained_error(
    tmp_path: Path, with_thread: bool
) -> None:
    """With another thread running, the pool must use forkserver (fork is unsafe then)."""
    made = _files(tmp_path, 64)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    if with_thread:
        other.start()
    try:
        _run_until_a_worker_dies(made)
    finally:
        stop.set()


def _run_until_a_worker_dies(made: list[tuple[Path, bytes]]) -> None:
    with Hasher(workers=2, hook=_die, batch=8) as hasher, pytest.raises(CatalogError) as caught:
        list(hasher.hash_many(str(path) for path, _data in made))
    assert "hashing worker failed" in caught.value.diagnostics()


MEMORY_PROBE = """
import json, sys
from envsecops.bag.hashing import Hasher
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
before = peak()
result = Hasher(workers=1).hash_file(sys.argv[1])
print(json.dumps({"digest": result.digest, "status": result.status.value,
                  "size": result.size, "growth_kib": peak() - before}))
"""


@pytest.mark.slow
def test_a_2gb_sparse_file_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    size = 2 * 1024**3
    sparse = tmp_path / "sparse"
    with sparse.open("wb") as handle:
        handle.truncate(size)
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(sparse)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    probe = json.loads(done.stdout)
    zeros, sha = bytes(CHUNK), hashlib.sha256()
    for _ in range(size // CHUNK):
        sha.update(zeros)
    assert (probe["status"], probe["size"]) == ("ok", size)
    assert probe["digest"] == "sha256:" + sha.hexdigest()
    assert probe["growth_kib"] < 16 * 1024, f"peak RSS grew by {probe['growth_kib']} KiB"


def _unescape(text: str) -> bytes:
    out, index = bytearray(), 0
    while index < len(text):
        if text[index] == "%":
            out.append(int(text[index + 1 : index + 3], 16))
            index += 3
        else:
            out += text[index].encode()
            index += 1
    return bytes(out)


@given(st.binary(max_size=40))
def test_escaped_names_are_json_safe_and_one_to_one(raw: bytes) -> None:
    text = escape_name(raw)
    assert _unescape(text) == raw
    assert canonical_json({"path": text})
    assert not any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in text)


def test_escaping_examples() -> None:
    assert escape_name(b"caf\xe9.txt") == "caf%E9.txt"
    assert escape_name("café/100%.txt") == "café/100%25.txt"
    assert escape_name(b"line\nbreak") == "line%0Abreak"
    assert escape_name(b"plain-name_1.2") == "plain-name_1.2"
