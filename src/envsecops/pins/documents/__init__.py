"""Parsed views of each file kind, and the registry that maps a kind to its parser."""

from __future__ import annotations

from envsecops.pins.documents.base import Document
from envsecops.pins.documents.github import ActionDocument, DependabotDocument, WorkflowDocument
from envsecops.pins.kinds import FileKind

DOCUMENT_BY_KIND: dict[FileKind, type[Document]] = {
    FileKind.WORKFLOW: WorkflowDocument,
    FileKind.ACTION: ActionDocument,
    FileKind.DEPENDABOT: DependabotDocument,
}

__all__ = ["DOCUMENT_BY_KIND", "Document"]
