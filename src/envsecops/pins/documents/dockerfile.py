"""Dockerfiles and Containerfiles: the parsed view the FROM, COPY --from and ADD checks read."""

from __future__ import annotations

from envsecops.pins.documents.base import Document, Metrics
from envsecops.pins.documents.dockerfile_model import DockerfileModel, parse_dockerfile
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile


class DockerfileDocument(Document):
    """A `Dockerfile`, `Containerfile`, `*.Dockerfile` or `Dockerfile.*`, read as BuildKit does.

    A file with no instructions, or only comments, has nothing to pull and yields no images;
    a malformed FROM, an invalid escape directive or unbalanced quotes in an ARG default are
    parse errors with the line of the offending instruction.
    """

    kind = FileKind.DOCKERFILE

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        self.model: DockerfileModel = parse_dockerfile(source.text)

    def metrics(self, counter: Metrics) -> None:
        """Count FROM lines by how their image is pinned (`from_total`, `from_<class>`)."""
        super().metrics(counter)
        kind = self.kind.value
        for use in self.model.froms:
            counter[(kind, "from_total")] += 1
            counter[(kind, f"from_{use.klass}")] += 1
