"""`missing-include`: a file another file pulls in that pin-check could not read and check."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.related import IncludeStatus, IncludingDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.unpinned_uses import shorten

MISSING_INCLUDE = Rule(
    id="missing-include",
    title="Included file missing, outside the repository, or remote",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A `-r`/`-c` include, a devcontainer's Dockerfile or compose file, or a compose "
    "`include`/`build` names a file that pin-check could not check: it does not exist, it "
    "resolves (possibly through a symlink) outside the repository, or it is a URL. Whatever "
    "it pins, or fails to pin, is unknown. Commit the file inside the repository and name it "
    "by a relative path.",
)

EXPLAIN = {
    IncludeStatus.MISSING: (
        "does not exist, so the tool that reads this file will fail or use something else",
        "commit the file, or fix the path (it is relative to this file's folder)",
    ),
    IncludeStatus.OUTSIDE: (
        "resolves outside the repository (an absolute path, `..`, or a symbolic link), so "
        "pin-check does not read it and its content depends on the machine",
        "move the file into the repository and name it by a relative path",
    ),
    IncludeStatus.REMOTE: (
        "is fetched from a URL at build or install time, so its content can change and "
        "pin-check does not download it",
        "vendor the file into the repository, or pin the remote source to an immutable "
        "commit or digest",
    ),
}


class MissingInclude(Check):
    """Report includes that could not be followed; found ones are scanned by the engine."""

    rules = (MISSING_INCLUDE,)
    kinds = frozenset({FileKind.REQUIREMENTS, FileKind.DEVCONTAINER, FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per include that is missing, outside the repository, or remote."""
        if not isinstance(document, IncludingDocument):
            raise TypeError(f"{type(document).__name__} names no other files")
        for include in document.includes:
            if include.status is IncludeStatus.FOUND:
                continue
            problem, fix = EXPLAIN[include.status]
            emitter.emit(
                MISSING_INCLUDE,
                Location(include.line, include.column),
                include.text,
                f"the {include.what} `{shorten(include.text)}` {problem} "
                f"({include.status}; nothing in it was checked)",
                fix=fix,
            )
