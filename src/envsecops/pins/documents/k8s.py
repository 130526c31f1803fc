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

from envsecops.pins.documents.base import DocumentProblem, Metrics, YamlDocument, count_images
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, SequenceNode, get, position

CONTAINER_LISTS = {
    "containers": "container",
    "initContainers": "init container",
    "ephemeralContainers": "ephemeral container",
}
NULL_TAG = "tag:yaml.org,2002:null"
# Where each built-in workload keeps its pod spec: a container list found there must be a
# well-formed list (else the API server rejects the object). Elsewhere, such as in a
# CustomResourceDefinition's schema, a `containers` key may be anything and is skipped.
POD_SPEC = {
    "Pod": "spec",
    "PodTemplate": "template.spec",
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "ReplicaSet": "spec.template.spec",
    "ReplicationController": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}


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


def _resource(document: Node) -> tuple[str, str | None]:
    """`Kind/name` for messages, and the object's kind when it is a Kubernetes object."""
    kind = _text(get(document, "kind"))
    is_object = kind is not None and get(document, "apiVersion") is not None
    name = _text(get(get(document, "metadata"), "name"))
    label = f"{kind or 'document'}/{name}" if name else (kind or "document")
    return label, kind if is_object else None


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
                    " (this looks like a Helm or other Go template: render it, e.g. "
                    "`helm template … > rendered.yaml`, pin-check the output, and exclude the "
                    "templates with `pins.exclude`)"
                )
            raise
        self.images: list[ContainerImage] = []
        for number, document in enumerate(self.roots, start=1):
            label, kind = _resource(document)
            prefix = label if len(self.roots) == 1 else f"{label} (document {number})"
            self._walk(document, prefix, kind)

    def _walk(self, root: Node, resource: str, kind: str | None) -> None:
        """Find container lists anywhere below ``root``, iteratively (depth is already capped).

        A nested object with its own `apiVersion` and `kind` (a `List` item) names itself.
        """
        stack: list[tuple[Node, str, str, str | None]] = [(root, "", resource, kind)]
        seen: set[int] = set()
        while stack:
            node, path, owner, owner_kind = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, SequenceNode):
                stack.extend(
                    (child, f"{path}[{i}]", owner, owner_kind) for i, child in enumerate(node.value)
                )
                continue
            if not isinstance(node, MappingNode):
                continue
            if node is not root:
                label, nested_kind = _resource(node)
                if nested_kind is not None:
                    owner, owner_kind, path = f"{label} in {owner}", nested_kind, ""
            children: list[tuple[Node, str, str, str | None]] = []
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    continue
                child_path = f"{path}.{key.value}" if path else str(key.value)
                if key.value in CONTAINER_LISTS and id(value) not in seen:
                    seen.add(id(value))  # an aliased list is one set of containers
                    spec = POD_SPEC.get(owner_kind or "")
                    strict = spec is not None and child_path == f"{spec}.{key.value}"
                    role = CONTAINER_LISTS[key.value]
                    self._containers(value, owner, child_path, role, strict)
                elif key.value not in CONTAINER_LISTS:
                    children.append((value, child_path, owner, owner_kind))
            stack.extend(reversed(children))
        self.images.sort(key=lambda image: position(image.node))

    def _containers(self, node: Node, resource: str, path: str, role: str, strict: bool) -> None:
        """Read one container list; shape errors fail closed only where a pod spec must be."""
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
                if strict:
                    raise _problem(
                        image, f"`{where}.image` in {resource} must be a non-empty string"
                    )
                continue
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
        count_images(counter, self.kind, (image.value for image in self.images))
