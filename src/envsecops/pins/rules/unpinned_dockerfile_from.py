"""`unpinned-dockerfile-from`: a Dockerfile `FROM` whose base image has no `@sha256:` digest."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.dockerfile_model import DockerfileModel, FromClass, ImageUse
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Rule
from envsecops.pins.rules.image_pinning import (
    DockerfileSite,
    dockerfile_sites,
    image_fix,
    mutable_reason,
)
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_DOCKERFILE_FROM = Rule(
    id="unpinned-dockerfile-from",
    title="Dockerfile base image not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`FROM image:tag` builds on whatever the registry serves for that tag at build time; "
    "a re-pushed tag changes every image built from this file. Pin the base by digest, keeping "
    "the tag for readers: `FROM python:3.12-slim@sha256:<digest>`. When the image comes from an "
    "`ARG` default, pin the default. `scratch` and earlier stage names need no pin.",
)


def arg_origin(use: ImageUse, model: DockerfileModel) -> str:
    """`the ARG default BASE=... (line 3)` for each global ARG the reference was built from."""
    parts = []
    for assignment in use.used:
        name = assignment.split("=", 1)[0]
        line = model.meta_lines.get(name)
        where = f" (line {line})" if line else ""
        parts.append(f"`ARG {shorten(assignment)}`{where}")
    parts.extend(f"the inline default of `{shorten(default)}`" for default in use.defaults)
    return ", ".join(parts)


class UnpinnedDockerfileFrom(Check):
    """Report FROM lines (in Dockerfiles and compose `dockerfile_inline`) without a digest.

    The image is judged after resolving global `ARG` defaults, as a build without
    `--build-arg` would; `scratch` and references to earlier stages are skipped; the
    `--platform=` flag does not matter (an index digest pins every platform).
    """

    rules = (UNPINNED_DOCKERFILE_FROM,)
    kinds = frozenset({FileKind.DOCKERFILE, FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per FROM whose resolved image has no digest."""
        for site in dockerfile_sites(document):
            for use in site.model.froms:
                if use.klass in {FromClass.NO_DIGEST, FromClass.NO_DIGEST_VIA_ARG}:
                    self._emit(document, site, use, emitter)

    def _emit(
        self, document: Document, site: DockerfileSite, use: ImageUse, emitter: Emitter
    ) -> None:
        image = use.resolved or use.written
        reason = mutable_reason(image)
        stage = f" (stage `{use.stage}`)" if use.stage else ""
        if use.klass is FromClass.NO_DIGEST_VIA_ARG:
            origin = arg_origin(use, site.model)
            message = (
                f"`FROM {shorten(use.written)}`{stage}{site.label} resolves through {origin} to "
                f"`{shorten(image)}`, pinned to {reason}; the ARG default was used"
            )
            fix = self._arg_fix(use, site.model, image)
        else:
            message = f"`FROM {shorten(use.written)}`{stage}{site.label} pins the base to {reason}"
            fix = image_fix(image, "FROM {pinned}")
        emitter.emit(
            UNPINNED_DOCKERFILE_FROM,
            site.at(document, use.line, use.column, use.written),
            image,
            message,
            fix=fix,
        )

    @staticmethod
    def _arg_fix(use: ImageUse, model: DockerfileModel, image: str) -> str:
        """Pin the ARG default that holds the image (the last one substituted), or say how."""
        for assignment in reversed(use.used):
            name, _, value = assignment.partition("=")
            if value == image:
                line = model.meta_lines.get(name)
                return image_fix(
                    image, f"ARG {name}={{pinned}}", f" on line {line}" if line else ""
                )
        return image_fix(
            image, "{pinned}", " as the value the ARG defaults (or the inline default) produce"
        )
