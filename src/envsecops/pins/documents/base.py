"""The document interface: parse a source once, expose views, count metrics, name related files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import Node, YamlProblem, compose_documents

Metrics = Counter[tuple[str, str]]


class DocumentProblem(Exception):
    """The document cannot be checked; kind is the rule id (parse-error, duplicate-key, ...)."""

    def __init__(self, kind: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column


class Document:
    """A parsed file; subclasses parse in ``__init__`` and raise DocumentProblem on defects."""

    kind: ClassVar[FileKind]

    def __init__(self, source: SourceFile) -> None:
        self.source = source

    def metrics(self, counter: Metrics) -> None:
        """Add this file's inventory counts (`files` and kind-specific ones) to ``counter``."""
        counter[(self.kind.value, "files")] += 1

    def related(self) -> list[tuple[Path, FileKind]]:
        """Other files this one pulls in (a devcontainer's Dockerfile, `-r` includes)."""
        return []


class YamlDocument(Document):
    """A document backed by one or more YAML documents."""

    multi_document: ClassVar[bool] = False

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        try:
            self.roots: list[Node] = compose_documents(source.text)
        except YamlProblem as exc:
            raise DocumentProblem(exc.kind, exc.message, exc.line, exc.column) from exc
        if not self.multi_document and len(self.roots) > 1:
            raise DocumentProblem(
                "parse-error", f"expected one YAML document, found {len(self.roots)}"
            )

    @property
    def root(self) -> Node | None:
        """The first document's root node."""
        return self.roots[0] if self.roots else None


def count_images(counter: Metrics, kind: FileKind, values: Iterable[str]) -> None:
    """Count image references as `image_total` and `image_<pin class>` for ``kind``."""
    from envsecops.pins.refs import classify_image

    for value in values:
        counter[(kind.value, "image_total")] += 1
        counter[(kind.value, f"image_{classify_image(value)}")] += 1
