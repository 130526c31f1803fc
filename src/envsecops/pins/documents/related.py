"""Files one document pulls in (`-r` includes, a devcontainer's Dockerfile), resolved safely.

An include is followed only when it resolves, symbolic links included, to a regular file
inside the repository that holds the including file: a hostile `-r /proc/self/environ` or a
symlink to a runner secret must not be read, let alone quoted in a report. Anything that
cannot be followed (missing, outside, a URL) stays on the document as an ``Include`` with a
status, and the `missing-include` rule reports it: an unchecked include is never silent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from envsecops.pins.documents.base import Document
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile

URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class IncludeStatus(StrEnum):
    """Whether an include could be followed, and if not, why."""

    FOUND = "found"
    MISSING = "missing"
    OUTSIDE = "outside"
    REMOTE = "remote"


@dataclass(frozen=True, slots=True)
class Include:
    """A file named by a document: what was written, where, what it is, and what we found."""

    text: str
    what: str
    kind: FileKind
    status: IncludeStatus
    path: Path | None
    line: int
    column: int


def repository_root(source: SourceFile) -> Path:
    """The directory includes must stay in: the nearest ancestor holding `.git`, else the
    directory pin-check reports paths against, else the file's own directory."""
    here = source.path.resolve()
    for parent in here.parents:
        if (parent / ".git").exists():
            return parent
    rel = PurePosixPath(source.rel)
    if not rel.is_absolute() and ".." not in rel.parts and len(rel.parts) <= len(here.parts):
        root = here
        for _ in rel.parts:
            root = root.parent
        return root
    return here.parent


def resolve_include(
    source: SourceFile,
    base_dir: Path,
    text: str,
    *,
    what: str,
    kind: FileKind,
    line: int,
    column: int,
) -> Include:
    """Resolve ``text`` (relative to ``base_dir``) and classify it; nothing is read here."""
    if URL.match(text):
        return Include(text, what, kind, IncludeStatus.REMOTE, None, line, column)
    try:
        candidate = (base_dir / text).resolve()
    except (OSError, ValueError):  # a NUL in the name: no file can have it
        return Include(text, what, kind, IncludeStatus.MISSING, None, line, column)
    root = repository_root(source)
    if not candidate.is_relative_to(root):
        return Include(text, what, kind, IncludeStatus.OUTSIDE, None, line, column)
    try:
        found = candidate.is_file()
    except (OSError, ValueError):  # a name too long for the filesystem: no such file
        found = False
    if not found:
        return Include(text, what, kind, IncludeStatus.MISSING, candidate, line, column)
    return Include(text, what, kind, IncludeStatus.FOUND, candidate, line, column)


class IncludingDocument(Document):
    """A document that names other files; ``related()`` returns the ones safe to scan."""

    includes: list[Include]

    def related(self) -> list[tuple[Path, FileKind]]:
        """The includes that resolved to files inside the repository."""
        return [
            (include.path, include.kind)
            for include in self.includes
            if include.status is IncludeStatus.FOUND and include.path is not None
        ]
