"""pip requirements files: each requirement, whether pip will check it by hash, and the includes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath, PureWindowsPath

from envsecops.pins.documents.base import DocumentProblem, Metrics
from envsecops.pins.documents.related import Include, IncludingDocument, resolve_include
from envsecops.pins.documents.requirements_syntax import LogicalLine, logical_lines
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile

VCS_SCHEMES = re.compile(r"^(git|hg|svn|bzr)(\+[a-z]+)?:", re.IGNORECASE)
URL_SCHEMES = re.compile(r"^(https?|ftp|file):", re.IGNORECASE)
ARCHIVES = (".whl", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".zip")
COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class Source(StrEnum):
    """Where a requirement comes from, which decides how it can be pinned."""

    INDEX = "index"
    URL = "url"
    VCS = "vcs"
    LOCAL = "local"
    OUTSIDE = "outside"
    VARIABLE = "variable"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement line: as written, where, its origin, and what pins it."""

    text: str
    line: int
    column: int
    source: Source
    editable: bool
    hashes: tuple[str, ...]
    name: str | None = None
    specifier: str | None = None
    vcs_ref: str | None = None

    @property
    def hashed(self) -> bool:
        """Whether pip will check this requirement's archive against a `--hash`."""
        return bool(self.hashes)

    @property
    def exact(self) -> bool:
        """Whether an index requirement names exactly one version (`==x` without `*`, `===x`)."""
        spec = self.specifier or ""
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        return len(parts) == 1 and (
            (parts[0].startswith("==") and "*" not in parts[0]) or parts[0].startswith("===")
        )


def _vcs_ref(url: str) -> str | None:
    """The `@ref` of a VCS URL (`git+https://host/repo@ref#egg=x`), if any."""
    path = url.split("#", 1)[0]
    after_scheme = path.split("://", 1)[-1]
    slash = after_scheme.find("/")
    tail = after_scheme[slash:] if slash >= 0 else ""
    return tail.rsplit("@", 1)[1] if "@" in tail else None


def _path_like(text: str) -> bool:
    """pip's _looks_like_path on Linux (`/` only), or an archive file name."""
    return "/" in text or text.startswith(".") or text.lower().endswith(ARCHIVES)


def _is_local(text: str) -> bool:
    """Whether pip would read ``text`` as a local path rather than a PEP 508 requirement.

    As pip does: markers after `;` are not part of the path, and `name@url` whose part
    before the `@` does not look like a path is a requirement with a URL, not a file.
    """
    name = text.split(";", 1)[0].strip()
    head, at, _tail = name.partition("@")
    if at and not _path_like(head):
        return False
    return _path_like(name)


def _local(text: str) -> Source:
    """A local path stays in the checkout when relative and without `..` escaping it."""
    location = text.split("#", 1)[0]
    if location.lower().startswith("file:"):
        return Source.OUTSIDE
    posix, windows = PurePosixPath(location), PureWindowsPath(location)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        return Source.OUTSIDE
    return Source.LOCAL


def _classify_url(url: str) -> tuple[Source, str | None]:
    if VCS_SCHEMES.match(url):
        return Source.VCS, _vcs_ref(url)
    if url.lower().startswith("file:"):
        return Source.OUTSIDE, None
    return Source.URL, None


def classify(line: LogicalLine, text: str, editable: bool, physical: str = "") -> Requirement:
    """Decide what a requirement is, as pip's install_req_from_line would; ``physical`` is
    the requirement's first line as written, to find its column."""
    hashes = tuple(line.values("--hash"))
    column = max((physical or line.text).find(text.split(" ", 1)[0]) + 1, 1) if text else 1

    def make(
        source: Source,
        name: str | None = None,
        specifier: str | None = None,
        ref: str | None = None,
    ) -> Requirement:
        return Requirement(
            text, line.number, column, source, editable, hashes, name, specifier, ref
        )

    if "${" in text:
        return make(Source.VARIABLE)
    if VCS_SCHEMES.match(text) or URL_SCHEMES.match(text):
        source, ref = _classify_url(text)
        return make(source, ref=ref)
    if _is_local(text):
        return make(_local(text))
    if editable:
        raise DocumentProblem(
            "parse-error",
            f"pip rejects `-e {text}`: an editable must be a local path or a VCS URL",
            line.number,
            column,
        )
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Pep508

    try:
        parsed = Pep508(text)
    except InvalidRequirement as exc:
        raise DocumentProblem(
            "parse-error",
            f"pip rejects this line: not a valid requirement ({str(exc).splitlines()[0]})",
            line.number,
            column,
        ) from exc
    if parsed.url:
        source, ref = _classify_url(parsed.url)
        return make(source, name=parsed.name, ref=ref)
    return make(Source.INDEX, name=parsed.name, specifier=str(parsed.specifier))


class RequirementsDocument(IncludingDocument):
    """`requirements*.txt` or `requirements/*.txt`, and any file another one includes."""

    kind = FileKind.REQUIREMENTS

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        self.requirements: list[Requirement] = []
        self.includes: list[Include] = []
        self.require_hashes = False
        here = source.path.parent
        for line in logical_lines(source.text):
            self.require_hashes = self.require_hashes or line.has("--require-hashes")
            physical = source.line(line.number)
            if line.args:
                self.requirements.append(classify(line, line.args, False, physical))
            elif line.values("--editable"):
                editable = line.values("--editable")[0]
                self.requirements.append(classify(line, editable, True, physical))
            elif line.values("--requirement") or line.values("--constraint"):
                # pip follows only the first -r of a line, or else its first -c.
                what = "`-r` include" if line.values("--requirement") else "`-c` constraints"
                target = (line.values("--requirement") or line.values("--constraint"))[0]
                column = physical.find(target) + 1 if target in physical else 1
                self.includes.append(
                    resolve_include(
                        source,
                        here,
                        target,
                        what=what,
                        kind=FileKind.REQUIREMENTS,
                        line=line.number,
                        column=max(column, 1),
                    )
                )

    def metrics(self, counter: Metrics) -> None:
        """Count requirement lines with and without `--hash`, and fully hashed files."""
        super().metrics(counter)
        kind = self.kind.value
        total = len(self.requirements)
        hashed = sum(1 for requirement in self.requirements if requirement.hashed)
        counter[(kind, "requirement_lines")] += total
        counter[(kind, "requirement_lines_with_hash")] += hashed
        counter[(kind, "requirement_lines_without_hash")] += total - hashed
        if total == 0:
            counter[(kind, "files_no_requirements")] += 1
        elif hashed == total:
            counter[(kind, "files_fully_hashed")] += 1
