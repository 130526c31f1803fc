"""Merkle digests of directory trees: one listing per directory, streamed in bounded memory."""

from __future__ import annotations

import hashlib
import os
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

from envsecops.bag.fspaths import RootResolver, escape_name, is_within
from envsecops.bag.hash_file import PathLike, Row, StepHook, hash_one, special_kind
from envsecops.bag.hashing import Hasher
from envsecops.model.bag import Status

MAX_PROBLEMS = 20  # problems listed by path; all are counted
_NAME = attrgetter("name")
FILE, LINK, SPECIAL, ENTER, LEAVE, PROBLEM = range(6)
# (kind, name, host path, mode, status, detail)
_Event = tuple[int, bytes, bytes, int, Status, str]
_Hashed = tuple[bytes, int] | Row  # a digested file's listing line and size, or why not


@dataclass(frozen=True, slots=True)
class TreeProblem:
    """One entry that could not be digested as content: its relative path, status and why."""

    path: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True)
class TreeDigest:
    """A tree's root digest, its counts, and its problems (status: the first one's, else OK)."""

    digest: str | None
    status: Status
    files: int = 0
    dirs: int = 0
    links: int = 0
    nbytes: int = 0
    problem_count: int = 0
    problems: tuple[TreeProblem, ...] = field(default=())
    detail: str = ""


def _listing(host: bytes) -> list[os.DirEntry[bytes]]:
    with os.scandir(host) as entries:
        return sorted(entries, key=_NAME)


def _walk(
    top: bytes, entries: list[os.DirEntry[bytes]], judge: RootResolver | None, runner_top: bytes
) -> Iterator[_Event]:
    """Depth-first, entries sorted by raw name; links are read, never followed."""
    stack = [iter(entries)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            yield (LEAVE, b"", b"", 0, Status.OK, "")
            continue
        name, path = entry.name, entry.path
        try:
            if entry.is_file(follow_symlinks=False):
                yield (FILE, name, path, 0, Status.OK, "")
            elif entry.is_symlink():
                info = entry.stat(follow_symlinks=False)
                status, detail = _judge_link(path, top, judge, runner_top)
                target = os.readlink(path)  # noqa: PTH115 - raw bytes, never followed
                yield (LINK, name, target, info.st_mode, status, detail)
            elif entry.is_dir(follow_symlinks=False):
                mode = entry.stat(follow_symlinks=False).st_mode
                try:
                    children = _listing(path)
                except OSError as exc:
                    detail = f"cannot list directory: {exc.strerror}"
                    yield (PROBLEM, name, path, mode, Status.UNREADABLE, detail)
                    continue
                yield (ENTER, name, path, mode, Status.OK, "")
                stack.append(iter(children))
            else:
                mode = entry.stat(follow_symlinks=False).st_mode
                kind = special_kind(mode) or "not a regular file"
                yield (SPECIAL, name, path, mode, Status.SPECIAL, f"{kind}: never opened")
        except FileNotFoundError:
            yield (PROBLEM, name, path, 0, Status.VANISHED, "removed during the walk")
        except OSError as exc:
            yield (PROBLEM, name, path, 0, Status.UNREADABLE, exc.strerror or str(exc))


def _judge_link(
    path: bytes, top: bytes, resolver: RootResolver | None, runner_top: bytes
) -> tuple[Status, str]:
    if resolver is None:
        return Status.OK, ""
    runner_path = runner_top.rstrip(b"/") + path[len(top) :]
    found = resolver.resolve(runner_path)
    if found.status is Status.LOOP:
        return Status.LOOP, found.detail
    escaped = [p for p in (*found.links, found.path) if not is_within(p, runner_top)]
    if escaped:
        where = escape_name(escaped[0])
        return Status.OUTSIDE, f"leads out of the tree (via {where}): its content is not covered"
    return Status.OK, ""


def _file_lines(paths: list[PathLike], hook: StepHook | None, listed: bool) -> list[_Hashed]:
    """Worker task: hash each file and, when it has a digest, format its listing line here."""
    out: list[_Hashed] = []
    for path in paths:
        row = hash_one(path, hook, listed=listed)
        if row[1] is None:
            out.append(row)
        else:
            name = os.fsencode(path).rsplit(b"/", 1)[-1]
            out.append((_line("f", row[3], row[1].removeprefix("sha256:"), name), row[2]))
    return out


def _line(kind: str, mode: int, value: str, name: bytes) -> bytes:
    return f"{kind} {stat.S_IMODE(mode):o} {value} {escape_name(name)}\n".encode()


def _size_of(hashed: _Hashed) -> int:
    return hashed[1] if len(hashed) == 2 else hashed[2]


class _Builder:
    """Hashes one listing per directory as the walk leaves it; keeps only the open directories."""

    def __init__(self) -> None:
        self.stack: list[tuple[bytes, int, hashlib._Hash]] = [(b"", 0, hashlib.sha256())]
        self.files = self.dirs = self.links = self.nbytes = self.problem_count = 0
        self.problems: list[TreeProblem] = []
        self.first: Status | None = None

    def line(self, kind: str, mode: int, value: str, name: bytes) -> None:
        self.stack[-1][2].update(_line(kind, mode, value, name))

    def problem(self, name: bytes, mode: int, status: Status, detail: str) -> None:
        self.line("!", mode, status.value, name)
        self.note(name, status, detail)

    def note(self, name: bytes, status: Status, detail: str) -> None:
        self.problem_count += 1
        self.first = self.first or status
        if len(self.problems) < MAX_PROBLEMS:
            rel = b"/".join([*(part for part, _m, _h in self.stack[1:]), name])
            self.problems.append(TreeProblem(escape_name(rel), status, detail))

    def file(self, name: bytes, hashed: _Hashed) -> None:
        if len(hashed) == 2:
            line, size = hashed
            self.files += 1
            self.nbytes += size
            self.stack[-1][2].update(line)
        else:
            status, _digest, _size, mode, detail = hashed
            self.problem(name, mode, Status(status), detail)

    def event(self, event: _Event) -> None:
        kind, name, payload, mode, status, detail = event
        if kind == ENTER:
            self.dirs += 1
            self.stack.append((name, mode, hashlib.sha256()))
        elif kind == LEAVE:
            if len(self.stack) > 1:
                dir_name, dir_mode, sha = self.stack.pop()
                self.line("d", dir_mode, sha.hexdigest(), dir_name)
        elif kind == LINK:
            self.links += 1
            self.line("l", mode, hashlib.sha256(payload).hexdigest(), name)
            if status is not Status.OK:
                self.note(name, status, detail)
        else:
            self.problem(name, mode, status, detail)

    def finish(self) -> TreeDigest:
        return TreeDigest(
            digest="sha256:" + self.stack[0][2].hexdigest(),
            status=self.first or Status.OK,
            files=self.files,
            dirs=self.dirs,
            links=self.links,
            nbytes=self.nbytes,
            problem_count=self.problem_count,
            problems=tuple(self.problems),
        )


def tree_digest(
    hasher: Hasher,
    top: Path | bytes,
    *,
    resolver: RootResolver | None = None,
    runner_top: bytes | None = None,
) -> TreeDigest:
    """The Merkle digest of the directory ``top`` (a host path), never following a link.

    Each directory's listing is one line per entry, sorted by raw name bytes:
    ``<type> <mode> <value> <name>\\n`` where type is ``f`` (value: sha256 hex of the content),
    ``d`` (sha256 hex of that directory's listing), ``l`` (sha256 hex of the link's target
    text), ``!`` (value: the status of an entry whose content could not be digested:
    vanished, unreadable, changed-while-hashing, special-file); mode is the permission bits
    in octal and name is escaped by `escape_name`. The tree digest is ``sha256:`` + the
    sha256 of the top listing (the top directory's own mode is not included). Owners and
    times are not included. A link is also a problem when, with ``resolver`` given, it loops
    or leads out of ``runner_top`` (the tree's runner path): its target is not covered.
    """
    host = top if isinstance(top, bytes) else os.fsencode(top)
    try:
        info = os.lstat(host)
    except FileNotFoundError:
        return TreeDigest(None, Status.VANISHED, detail="no longer exists")
    except OSError as exc:
        return TreeDigest(None, Status.UNREADABLE, detail=f"cannot stat: {exc.strerror}")
    if not stat.S_ISDIR(info.st_mode):
        return TreeDigest(None, Status.UNREADABLE, detail="is not a directory")
    try:
        entries = _listing(host)
    except OSError as exc:
        return TreeDigest(None, Status.UNREADABLE, detail=f"cannot list: {exc.strerror}")
    events = _walk(host, entries, resolver, runner_top if runner_top is not None else host)
    builder = _Builder()
    pending: deque[_Event] = deque()

    def file_paths() -> Iterator[bytes]:
        for event in events:
            pending.append(event)
            if event[0] == FILE:
                yield event[2]

    for result in hasher.map(_file_lines, file_paths(), listed=True, size=_size_of):
        while (event := pending.popleft())[0] != FILE:
            builder.event(event)
        builder.file(event[1], result)
    while pending:
        builder.event(pending.popleft())
    return builder.finish()


def tree_properties(tree: TreeDigest) -> list[tuple[str, str]]:
    """Component properties that summarise a tree: counts, and its problems when it has any."""
    props = [
        ("files", str(tree.files)),
        ("dirs", str(tree.dirs)),
        ("links", str(tree.links)),
        ("bytes", str(tree.nbytes)),
    ]
    if tree.detail:
        props.append(("detail", tree.detail))
    if tree.problem_count:
        props.append(("problems", str(tree.problem_count)))
        listed = "; ".join(f"{p.path} ({p.status.value}: {p.detail})" for p in tree.problems)
        more = tree.problem_count - len(tree.problems)
        props.append(("problem-paths", listed + (f"; and {more} more" if more else "")))
    return props
