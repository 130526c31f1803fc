"""`unpinned-dockerfile-syntax`: a `# syntax=` frontend image without an `@sha256:` digest."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.dockerfile_model import FromClass
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Rule
from envsecops.pins.rules.image_pinning import dockerfile_sites, image_fix, mutable_reason
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_DOCKERFILE_SYNTAX = Rule(
    id="unpinned-dockerfile-syntax",
    title="Dockerfile frontend (`# syntax=`) not pinned by digest",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    help="`# syntax=docker/dockerfile:1` makes BuildKit download that image and hand it the "
    "whole build: the frontend decides what every instruction does. A moving tag means the "
    "build logic can change without a commit here. Pin it: "
    "`# syntax=docker/dockerfile:1.10@sha256:<digest>`.",
)


class UnpinnedDockerfileSyntax(Check):
    """Report a `# syntax=` (or `// syntax=`, or JSON `{"syntax": ...}`) frontend without digest.

    The directive is found as BuildKit's DetectSyntax finds it, including after a `#!` line.
    Medium severity: the image is usually Docker's own `docker/dockerfile`, but its tag moves.
    """

    rules = (UNPINNED_DOCKERFILE_SYNTAX,)
    kinds = frozenset({FileKind.DOCKERFILE, FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit a finding when the frontend image has no digest."""
        for site in dockerfile_sites(document):
            use = site.model.syntax
            if use is None or use.klass is FromClass.DIGEST:
                continue
            emitter.emit(
                UNPINNED_DOCKERFILE_SYNTAX,
                site.at(document, use.line, use.column, use.written),
                use.written,
                f"`# syntax={shorten(use.written)}`{site.label} runs the build through a frontend "
                f"image pinned to {mutable_reason(use.written)}",
                fix=image_fix(use.written, "# syntax={pinned}"),
            )
