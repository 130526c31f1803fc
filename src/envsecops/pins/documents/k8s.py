"""Kubernetes manifests: every container image in every document of a multi-document file.

Workload kinds nest their pod spec differently (Pod: `spec`; Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job, ReplicationController: `spec.template.spec`; CronJob:
`spec.jobTemplate.spec.template.spec`; PodTemplate: `template.spec`; List: `items`). Rather
than hard-code those paths, and miss a custom resource (an Argo Rollout, a Knative
Service) that embeds a pod spec elsewhere, we walk each document and read every
`containers`, `initContainers` and `ephemeralContainers` list wherever it appears.
"""

from __future__ import annotations

from dataclasses import dataclass

from envsecops.pins.documents.base import DocumentProblem, Metrics, YamlDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import classify_image
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, SequenceNode, get, position

CONTAINER_LISTS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
}
NULL_TAG = "tag:yaml.org,2002:null"


@dataclass(frozen=True, slots=True)
class ContainerImage:
    """A container's `image:`: which object, which list, which container."""

    value: str
    node: ScalarNode
    resource: str
    path: str
    role: str
    container: str | None


def _problem(node: Node, message: str) -> DocumentProblem:
    line, column = position(node)
    return DocumentProblem("parse-error", message, line, column)


def _text(node: Node | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag != NULL_TAG:
        return str(node.value)
    return None


def _resource(document: Node) -> tuple[str, bool]:
    """`Kind/name` for messages, and whether the document is a Kubernetes object at all."""
    kind = _text(get(document, "kind"))
    is_object = kind is not None and get(document, "apiVersion") is not None
    name = _text(get(get(document, "metadata"), "name"))
    label = f"{kind or 'document'}/{name}" if name else (kind or "document")
    return label, is_object


class K8sDocument(YamlDocument):
    """A YAML file holding Kubernetes objects (found by content: apiVersion, kind and image)."""

    kind = FileKind.K8S
    multi_document = True

    def __init__(self, source: SourceFile) -> None:
        try:
            super().__init__(source)
        except DocumentProblem as exc:
            if "{{" in source.text and exc.kind == "parse-error":
                exc.message += (
                    " (this looks like a Helm or other Go template: check the rendered manifests, "
                    "e.g. `helm template … | envsecops pin-check`, and exclude the templates)"
                )
            raise
        self.images: list[ContainerImage] = []
        for number, document in enumerate(self.roots, start=1):
            label, strict = _resource(document)
            prefix = label if len(self.roots) == 1 else f"{label} (document {number})"
            self._walk(document, prefix, "", strict)

    def _walk(self, root: Node, resource: str, start: str, strict: bool) -> None:
        """Find container lists anywhere below ``root``, iteratively (depth is already capped).

        A nested object with its own `apiVersion` and `kind` (a `List` item) names itself.
        """
        stack: list[tuple[Node, str, str, bool]] = [(root, start, resource, strict)]
        seen: set[int] = set()
        while stack:
            node, path, owner, owner_strict = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, SequenceNode):
                stack.extend(
                    (child, f"{path}[{i}]", owner, owner_strict)
                    for i, child in enumerate(node.value)
                )
                continue
            if not isinstance(node, MappingNode):
                continue
            if node is not root:
                label, is_object = _resource(node)
                if is_object:
                    owner, owner_strict, path = f"{label} in {owner}", True, ""
            children: list[tuple[Node, str, str, bool]] = []
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    continue
                child_path = f"{path}.{key.value}" if path else str(key.value)
                if key.value in CONTAINER_LISTS and id(value) not in seen:
                    seen.add(id(value))  # an aliased list is one set of containers
                    role = CONTAINER_LISTS[key.value]
                    self._containers(value, owner, child_path, role, owner_strict)
                elif key.value not in CONTAINER_LISTS:
                    children.append((value, child_path, owner, owner_strict))
            stack.extend(reversed(children))
        self.images.sort(key=lambda image: position(image.node))

    def _containers(self, node: Node, resource: str, path: str, role: str, strict: bool) -> None:
        if isinstance(node, ScalarNode) and node.tag == NULL_TAG:
            return
        if not isinstance(node, SequenceNode):
            if strict:
                raise _problem(node, f"`{path}` in {resource} must be a list of containers")
            return
        for index, container in enumerate(node.value):
            where = f"{path}[{index}]"
            if not isinstance(container, MappingNode):
                if strict:
                    raise _problem(container, f"`{where}` in {resource} must be a mapping")
                continue
            image = get(container, "image")
            if image is None or (isinstance(image, ScalarNode) and image.tag == NULL_TAG):
                continue
            if not isinstance(image, ScalarNode) or not str(image.value).strip():
                raise _problem(image, f"`{where}.image` in {resource} must be a non-empty string")
            self.images.append(
                ContainerImage(
                    str(image.value),
                    image,
                    resource,
                    where,
                    role,
                    _text(get(container, "name")),
                )
            )

    def metrics(self, counter: Metrics) -> None:
        """Count container images by pin class (`image_total`, `image_<class>`)."""
        super().metrics(counter)
        kind = self.kind.value
        for image in self.images:
            counter[(kind, "image_total")] += 1
            counter[(kind, f"image_{classify_image(image.value)}")] += 1
