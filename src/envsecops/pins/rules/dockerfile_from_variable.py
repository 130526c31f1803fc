"""`dockerfile-from-variable`: a `FROM` whose `$VAR` has no default, so its image is unknowable."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.dockerfile_model import (
    PLATFORM_ARGS,
    DockerfileModel,
    FromClass,
    ImageUse,
)
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Rule
from envsecops.pins.rules.docker_uses import DIGEST_PLACEHOLDER
from envsecops.pins.rules.image_pinning import PLATFORM_NOTE, DockerfileSite, dockerfile_sites
from envsecops.pins.rules.unpinned_uses import shorten

DOCKERFILE_FROM_VARIABLE = Rule(
    id="dockerfile-from-variable",
    title="Dockerfile base image depends on a variable with no default",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    help="`FROM ${BASE}` where `BASE` has no default before the first FROM takes its image "
    "from whoever runs the build (`--build-arg BASE=...`), so no reviewer can tell what the "
    "image is built on, and pin-check cannot verify it. Declare `ARG BASE=image:tag@sha256:"
    "<digest>` before the first FROM, or write the image literally.",
)


def explain(name: str, model: DockerfileModel) -> str:
    """Why one variable is unresolved: platform ARG, declared bare, or never declared."""
    if name in PLATFORM_ARGS:
        return f"`{name}` is {PLATFORM_NOTE}"
    if name in model.meta_args:
        line = model.meta_lines.get(name)
        return f"`ARG {name}` (line {line}) has no default" if line else f"`{name}` has no default"
    if name.startswith("$"):
        return f"`{shorten(name)}` cannot be evaluated statically"
    return f"`{name}` is not declared by an `ARG` before the first FROM (it expands to nothing)"


class DockerfileFromVariable(Check):
    """Report FROM lines whose image cannot be resolved from global ARG defaults."""

    rules = (DOCKERFILE_FROM_VARIABLE,)
    kinds = frozenset({FileKind.DOCKERFILE, FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per FROM with an unresolvable variable."""
        for site in dockerfile_sites(document):
            for use in site.model.froms:
                if use.klass is FromClass.VARIABLE_UNRESOLVED:
                    self._emit(document, site, use, emitter)

    @staticmethod
    def _emit(document: Document, site: DockerfileSite, use: ImageUse, emitter: Emitter) -> None:
        model = site.model
        reasons = "; ".join(explain(name, model) for name in use.unresolved) or "it is empty"
        names = [n for n in use.unresolved if n.isidentifier() and n not in PLATFORM_ARGS]
        fix = (
            f"declare `ARG {names[0] if names else 'BASE'}=image:tag@{DIGEST_PLACEHOLDER}` "
            "before the first FROM, or write the image literally with its digest"
        )
        if not names and use.unresolved:
            fix = (
                "name one multi-platform image by its index digest "
                f"(`image:tag@{DIGEST_PLACEHOLDER}`), which serves every platform, instead of "
                "choosing a tag per platform"
            )
        emitter.emit(
            DOCKERFILE_FROM_VARIABLE,
            site.at(document, use.line, use.column, use.written),
            use.written,
            f"`FROM {shorten(use.written)}`{site.label} cannot be resolved from ARG defaults "
            f"(unresolved variable): {reasons}",
            fix=fix,
        )
