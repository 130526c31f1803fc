"""Workflows, action metadata and Dependabot config: their `uses:`, images and `run:` scripts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envsecops.pins.documents.base import DocumentProblem, Metrics, YamlDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import classify_image, classify_uses
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, get, items, scalar, sequence


@dataclass(frozen=True, slots=True)
class UsesRef:
    """A `uses:` value; ``value`` is None when the node is not a string (malformed)."""

    value: str | None
    node: Node
    context: str
    job_level: bool


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A container image named by a job `container:`, a service, or a Docker action."""

    value: str | None
    node: Node
    context: str
    role: str  # "container", "service" or "action"


@dataclass(frozen=True, slots=True)
class Script:
    """A `run:` script with its shell, if one is named."""

    text: str
    node: ScalarNode
    context: str
    shell: str | None


def _require_mapping(root: Node | None, what: str) -> MappingNode:
    if not isinstance(root, MappingNode):
        raise DocumentProblem("parse-error", f"{what} must be a YAML mapping at the top level")
    return root


def _steps(
    steps_node: Node | None, prefix: str, default_shell: str | None
) -> tuple[list[UsesRef], list[Script]]:
    uses: list[UsesRef] = []
    scripts: list[Script] = []
    for index, step in enumerate(sequence(steps_node)):
        context = f"{prefix}.steps[{index}]"
        uses_node = get(step, "uses")
        if uses_node is not None:
            uses.append(UsesRef(scalar(uses_node), uses_node, context, job_level=False))
        run_node = get(step, "run")
        if isinstance(run_node, ScalarNode):
            shell = scalar(get(step, "shell")) or default_shell
            scripts.append(Script(run_node.value, run_node, context, shell))
    return uses, scripts


def _default_shell(node: Node | None) -> str | None:
    return scalar(get(get(get(node, "defaults"), "run"), "shell"))


def _image_ref(node: Node | None, context: str, role: str) -> ImageRef | None:
    """An image reference, or None when there is none (absent, or the empty string).

    GitHub runs no container for an empty image (the documented way to make a service
    conditional), so an empty string names nothing to pin.
    """
    if node is None:
        return None
    value = scalar(node)
    if value is not None and not value.strip():
        return None
    return ImageRef(value, node, context, role)


class GitHubDocument(YamlDocument):
    """Shared views of workflows and actions."""

    uses: list[UsesRef]
    images: list[ImageRef]
    scripts: list[Script]

    def metrics(self, counter: Metrics) -> None:
        """Count `uses:` by pin class and images by role and pin class."""
        super().metrics(counter)
        kind = self.kind.value
        for ref in self.uses:
            counter[(kind, "uses_total")] += 1
            klass = classify_uses(ref.value) if ref.value is not None else "malformed"
            counter[(kind, f"uses_{klass}")] += 1
        for image in self.images:
            role = {"container": "container_image", "service": "service_image"}.get(
                image.role, "runs_image"
            )
            counter[(kind, f"{role}_total")] += 1
            if image.value is not None:
                counter[(kind, f"{role}_{classify_image(image.value)}")] += 1


class WorkflowDocument(GitHubDocument):
    """A `.github/workflows/*.yml` file."""

    kind = FileKind.WORKFLOW

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        root = _require_mapping(self.root, "a workflow")
        self.uses = []
        self.images = []
        self.scripts = []
        workflow_shell = _default_shell(root)
        jobs = get(root, "jobs")
        if jobs is not None and not isinstance(jobs, MappingNode):
            raise DocumentProblem("parse-error", "`jobs:` must be a mapping of job ids to jobs")
        for job_id, _key, job in items(jobs):
            prefix = f"jobs.{job_id}"
            job_uses = get(job, "uses")
            if job_uses is not None:
                self.uses.append(UsesRef(scalar(job_uses), job_uses, prefix, job_level=True))
            shell = _default_shell(job) or workflow_shell
            step_uses, step_scripts = _steps(get(job, "steps"), prefix, shell)
            self.uses.extend(step_uses)
            self.scripts.extend(step_scripts)
            container = get(job, "container")
            image = _image_ref(
                container if isinstance(container, ScalarNode) else get(container, "image"),
                f"{prefix}.container",
                "container",
            )
            if image is not None:
                self.images.append(image)
            for name, _k, service in items(get(job, "services")):
                image = _image_ref(
                    service if isinstance(service, ScalarNode) else get(service, "image"),
                    f"{prefix}.services.{name}",
                    "service",
                )
                if image is not None:
                    self.images.append(image)


class ActionDocument(GitHubDocument):
    """An `action.yml`: composite steps, or a Docker action's image."""

    kind = FileKind.ACTION

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        root = _require_mapping(self.root, "action metadata")
        runs = get(root, "runs")
        self.using = (scalar(get(runs, "using")) or "").strip().lower()
        self.uses = []
        self.images = []
        self.scripts = []
        self.dockerfile: str | None = None
        if self.using == "composite":
            self.uses, self.scripts = _steps(get(runs, "steps"), "runs", None)
        elif self.using == "docker":
            image_node = get(runs, "image")
            value = scalar(image_node)
            if value is not None and not value.strip().startswith("docker://"):
                self.dockerfile = value.strip() or None
            else:
                image = _image_ref(image_node, "runs.image", "action")
                if image is not None:
                    self.images.append(image)

    def related(self) -> list[tuple[Path, FileKind]]:
        """A Docker action's Dockerfile, when it lies inside the action's own directory."""
        if not self.dockerfile:
            return []
        folder = self.source.path.parent.resolve()
        target = (folder / self.dockerfile).resolve()
        if not target.is_relative_to(folder) or target == folder:
            return []
        return [(target, FileKind.DOCKERFILE)]

    def metrics(self, counter: Metrics) -> None:
        """Also count `runs.using`."""
        super().metrics(counter)
        if self.using:
            counter[(self.kind.value, f"runs_using_{self.using}")] += 1


class DependabotDocument(YamlDocument):
    """`.github/dependabot.yml`: counted for the inventory, checked for parseability."""

    kind = FileKind.DEPENDABOT
