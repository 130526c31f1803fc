"""Run one check on in-memory text and return its findings."""

from __future__ import annotations

from envsecops.model import Finding
from envsecops.pins.documents import DOCUMENT_BY_KIND
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter
from envsecops.pins.source import SourceFile


def run_check(check: Check, kind: FileKind, text: str, rel: str = "file") -> list[Finding]:
    """Parse ``text`` as ``kind`` and run ``check`` on it."""
    source = SourceFile.from_text(rel, kind, text)
    document = DOCUMENT_BY_KIND[kind](source)
    emitter = Emitter(rel)
    check.run(document, emitter)
    return emitter.findings
