"""Compose files: service images, inline Dockerfiles, and the files they build or include."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envsecops.pins.documents.base import DocumentProblem, Metrics, YamlDocument, count_images
from envsecops.pins.documents.dockerfile_model import DockerfileModel, parse_dockerfile
from envsecops.pins.documents.related import Include, IncludingDocument, resolve_include
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    get,
    items,
    position,
    sequence,
)

NULL_TAG = "tag:yaml.org,2002:null"


@dataclass(frozen=True, slots=True)
class ServiceImage:
    """A service's `image:` value, with what decides whether compose pulls it."""

    service: str
    value: str
    node: ScalarNode
    builds: bool
    pull_policy: str | None

    @property
    def pulled(self) -> bool:
        """False only when the service is built and `pull_policy: build` forbids pulling."""
        return not (self.builds and self.pull_policy == "build")


@dataclass(frozen=True, slots=True)
class InlineDockerfile:
    """A `build.dockerfile_inline` and what it pulls; lines are offset from ``node``."""

    service: str
    node: ScalarNode
    model: DockerfileModel

    def line(self, inner: int) -> int:
        """The compose-file line of line ``inner`` (1-based) of the inline Dockerfile."""
        start, _ = position(self.node)
        return start + inner if self.node.style in {"|", ">"} else start


def _problem(node: Node, message: str) -> DocumentProblem:
    line, column = position(node)
    return DocumentProblem("parse-error", message, line, column)


def _string(node: Node | None, what: str) -> str | None:
    """A scalar's text; None for null or absent; a problem for a mapping or a list."""
    if node is None or not _present(node):
        return None
    if not isinstance(node, ScalarNode):
        raise _problem(node, f"`{what}` must be a string")
    return str(node.value)


def _present(node: Node) -> bool:
    """Whether ``node`` is anything but an explicit null."""
    return not (isinstance(node, ScalarNode) and node.tag == NULL_TAG)


class ComposeDocument(YamlDocument, IncludingDocument):
    """`compose*.yml` / `docker-compose*.yml` (the legacy top-level-services form included)."""

    kind = FileKind.COMPOSE

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        self.images: list[ServiceImage] = []
        self.inline: list[InlineDockerfile] = []
        self.includes: list[Include] = []
        root = self.root
        if root is None:
            return
        if not isinstance(root, MappingNode):
            raise _problem(root, "a compose file must be a mapping at the top level")
        services = get(root, "services")
        here = source.path.parent
        if services is None and get(root, "version") is None:
            for name, _key, value in items(root):
                if isinstance(value, MappingNode) and (
                    get(value, "image") is not None or get(value, "build") is not None
                ):
                    self._service(name, value, here)  # compose file format 1
        elif services is not None and _present(services) and not isinstance(services, MappingNode):
            raise _problem(services, "`services:` must be a mapping of service names")
        for name, _key, service in items(services):
            self._service(name, service, here)
        self._top_level_includes(get(root, "include"), here)

    def _service(self, name: str, service: Node, here: Path) -> None:
        if not _present(service):
            return
        if not isinstance(service, MappingNode):
            raise _problem(service, f"service `{name}` must be a mapping")
        build = get(service, "build")
        image_node = get(service, "image")
        image = _string(image_node, f"services.{name}.image")
        if image is not None and isinstance(image_node, ScalarNode):
            if not image.strip():
                raise _problem(image_node, f"`services.{name}.image` is empty")
            policy = _string(get(service, "pull_policy"), f"services.{name}.pull_policy")
            self.images.append(ServiceImage(name, image, image_node, build is not None, policy))
        if build is not None:
            self._build(name, build, here)
        extends = get(service, "extends")
        if isinstance(extends, MappingNode):
            file_node = get(extends, "file")
            target = _string(file_node, f"services.{name}.extends.file")
            if target is not None and file_node is not None:
                self._include(file_node, target, here, "`extends.file`", FileKind.COMPOSE)

    def _build(self, name: str, build: Node, here: Path) -> None:
        if isinstance(build, ScalarNode):
            context = _string(build, f"services.{name}.build")
            if context is not None:
                self._dockerfile(build, context, None, here, "`build`")
            return
        if not isinstance(build, MappingNode):
            raise _problem(build, f"`services.{name}.build` must be a path or a mapping")
        inline_node = get(build, "dockerfile_inline")
        inline = _string(inline_node, f"services.{name}.build.dockerfile_inline")
        if inline is not None and isinstance(inline_node, ScalarNode):
            try:
                model = parse_dockerfile(inline)
            except DocumentProblem as exc:
                line, column = position(inline_node)
                raise DocumentProblem(
                    exc.kind, f"in `dockerfile_inline` of `{name}`: {exc.message}", line, column
                ) from exc
            self.inline.append(InlineDockerfile(name, inline_node, model))
            return
        context_node = get(build, "context")
        context = _string(context_node, f"services.{name}.build.context") or "."
        dockerfile_node = get(build, "dockerfile")
        dockerfile = _string(dockerfile_node, f"services.{name}.build.dockerfile")
        at = dockerfile_node or context_node or build
        self._dockerfile(at, context, dockerfile, here, "`build.dockerfile`")

    def _dockerfile(
        self, node: Node, context: str, dockerfile: str | None, here: Path, what: str
    ) -> None:
        """The Dockerfile a build uses: `dockerfile` inside `context` (default `Dockerfile`,
        or `Containerfile` when only that exists); a remote context cannot be checked."""
        if "://" in context or context.startswith("git@"):
            self._include(node, context, here, "remote build context", FileKind.DOCKERFILE)
            return
        base = context.rstrip("/") or "/"
        name = dockerfile
        if name is None:
            name = "Dockerfile"
            if not (here / base / name).exists() and (here / base / "Containerfile").is_file():
                name = "Containerfile"
        self._include(node, f"{base}/{name}", here, what, FileKind.DOCKERFILE)

    def _top_level_includes(self, node: Node | None, here: Path) -> None:
        for entry in sequence(node):
            if isinstance(entry, ScalarNode):
                self._include(entry, str(entry.value), here, "`include`", FileKind.COMPOSE)
                continue
            path_node = get(entry, "path")
            targets = sequence(path_node) if isinstance(path_node, SequenceNode) else [path_node]
            for target in targets:
                text = _string(target, "include.path")
                if text is not None and target is not None:
                    self._include(target, text, here, "`include`", FileKind.COMPOSE)
        if node is not None and not isinstance(node, SequenceNode):
            raise _problem(node, "`include:` must be a list")

    def _include(self, node: Node, text: str, here: Path, what: str, kind: FileKind) -> None:
        line, column = position(node)
        self.includes.append(
            resolve_include(self.source, here, text, what=what, kind=kind, line=line, column=column)
        )

    def metrics(self, counter: Metrics) -> None:
        """Count service images by pin class (`image_total`, `image_<class>`)."""
        super().metrics(counter)
        count_images(counter, self.kind, (image.value for image in self.images))
