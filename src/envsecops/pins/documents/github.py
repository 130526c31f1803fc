"""Workflows, action metadata and Dependabot config: their `uses:`, images and `run:` scripts."""

from __future__ import annotations

from dataclasses import dataclass

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


class _GitHubDocument(YamlDocument):
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


class WorkflowDocument(_GitHubDocument):
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
            if container is not None:
                image_node = (
                    container if isinstance(container, ScalarNode) else get(container, "image")
                )
                if image_node is not None:
                    self.images.append(
                        ImageRef(scalar(image_node), image_node, f"{prefix}.container", "container")
                    )
            for name, _k, service in items(get(job, "services")):
                image_node = service if isinstance(service, ScalarNode) else get(service, "image")
                if image_node is not None:
                    self.images.append(
                        ImageRef(
                            scalar(image_node),
                            image_node,
                            f"{prefix}.services.{name}",
                            "service",
                        )
                    )


class ActionDocument(_GitHubDocument):
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
        if self.using == "composite":
            self.uses, self.scripts = _steps(get(runs, "steps"), "runs", None)
        elif self.using == "docker":
            image_node = get(runs, "image")
            value = scalar(image_node)
            if image_node is not None and value is not None and value.startswith("docker://"):
                self.images.append(ImageRef(value, image_node, "runs.image", "action"))

    def metrics(self, counter: Metrics) -> None:
        """Also count `runs.using`."""
        super().metrics(counter)
        if self.using:
            counter[(self.kind.value, f"runs_using_{self.using}")] += 1


class DependabotDocument(YamlDocument):
    """`.github/dependabot.yml`: counted for the inventory, checked for parseability."""

    kind = FileKind.DEPENDABOT
