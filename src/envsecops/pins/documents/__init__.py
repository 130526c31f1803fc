"""Parsed views of each file kind, and the registry that maps a kind to its parser."""

from __future__ import annotations

from envsecops.pins.documents.base import Document
from envsecops.pins.documents.compose import ComposeDocument
from envsecops.pins.documents.devcontainer import DevcontainerDocument
from envsecops.pins.documents.dockerfile import DockerfileDocument
from envsecops.pins.documents.github import ActionDocument, DependabotDocument, WorkflowDocument
from envsecops.pins.documents.k8s import K8sDocument
from envsecops.pins.documents.requirements import RequirementsDocument
from envsecops.pins.kinds import FileKind

DOCUMENT_BY_KIND: dict[FileKind, type[Document]] = {
    FileKind.WORKFLOW: WorkflowDocument,
    FileKind.ACTION: ActionDocument,
    FileKind.DEPENDABOT: DependabotDocument,
    FileKind.DOCKERFILE: DockerfileDocument,
    FileKind.COMPOSE: ComposeDocument,
    FileKind.K8S: K8sDocument,
    FileKind.DEVCONTAINER: DevcontainerDocument,
    FileKind.REQUIREMENTS: RequirementsDocument,
}

__all__ = ["DOCUMENT_BY_KIND", "Document"]
