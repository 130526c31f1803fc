"""`unpinned-dockerfile-copy-from`: an image in `COPY --from=` or `RUN --mount` without digest."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.dockerfile_model import FromClass
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Rule
from envsecops.pins.rules.docker_uses import DIGEST_PLACEHOLDER
from envsecops.pins.rules.dockerfile_from_variable import explain
from envsecops.pins.rules.image_pinning import dockerfile_sites, image_fix, mutable_reason
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_DOCKERFILE_COPY_FROM = Rule(
    id="unpinned-dockerfile-copy-from",
    title="Image pulled by COPY --from or RUN --mount without a digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`COPY --from=nginx:latest ...` and `RUN --mount=type=bind,from=image:tag ...` pull an "
    "image that is not a build stage, so its files enter the build unpinned, exactly like a "
    "FROM. Pin it by digest (`COPY --from=nginx:1.27@sha256:<digest> ...`), or copy from a "
    "stage that is itself FROM a pinned image.",
)


class UnpinnedDockerfileCopyFrom(Check):
    """Report `COPY --from` and `RUN --mount ... from=` sources that are images without digest.

    Stage names (earlier in the file, case-insensitive) and stage indexes are not images and
    are skipped; variables resolve from global ARG defaults, and an unresolvable one is
    reported as unverifiable.
    """

    rules = (UNPINNED_DOCKERFILE_COPY_FROM,)
    kinds = frozenset({FileKind.DOCKERFILE, FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per image source without a digest."""
        for site in dockerfile_sites(document):
            for use in site.model.sources:
                if use.klass is FromClass.DIGEST:
                    continue
                at = site.at(document, use.line, use.column, use.written)
                what = f"`{use.where}={shorten(use.written)}`{site.label}"
                if use.klass is FromClass.VARIABLE_UNRESOLVED:
                    reasons = "; ".join(explain(n, site.model) for n in use.unresolved)
                    emitter.emit(
                        UNPINNED_DOCKERFILE_COPY_FROM,
                        at,
                        use.written,
                        f"{what} names an image through a variable that cannot be resolved "
                        f"(unresolved variable): {reasons or 'it is empty'}",
                        fix=f"write the image literally as `image:tag@{DIGEST_PLACEHOLDER}`",
                        confidence=Confidence.MEDIUM,
                    )
                    continue
                image = use.resolved or use.written
                via = " (through an ARG default)" if use.used or use.defaults else ""
                emitter.emit(
                    UNPINNED_DOCKERFILE_COPY_FROM,
                    at,
                    image,
                    f"{what} pulls the image `{shorten(image)}`{via}, which is not a build "
                    f"stage, pinned to {mutable_reason(image)}",
                    fix=image_fix(image, f"{use.where}={{pinned}}"),
                )
