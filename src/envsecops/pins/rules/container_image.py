"""`unpinned-container-image`: job containers, service containers and Docker action images
without an `@sha256:` digest."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.github import GitHubDocument, ImageRef
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import ImageClass, classify_image, image_tag
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.docker_uses import (
    DIGEST_HOWTO,
    DIGEST_PLACEHOLDER,
    DOCKER_PREFIX,
    describe_image,
    image_name,
)
from envsecops.pins.rules.unpinned_uses import shorten
from envsecops.syntax.yaml import MappingNode

UNPINNED_CONTAINER_IMAGE = Rule(
    id="unpinned-container-image",
    title="Container image not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A job `container:`, a `services:` container or a Docker action's `runs.image` named by "
    "tag runs whatever the registry serves for that tag today, with the job's secrets and "
    "token in reach. Pin it by digest and keep the tag as a comment: "
    "`image: postgres@sha256:<digest> # 16.4`.",
)

ROLE_WORDS = {
    "container": "the job container",
    "service": "the service container",
    "action": "the Docker action's image",
}


class UnpinnedContainerImage(Check):
    """Report job `container:`, `services.*` and Docker-action images without a digest."""

    rules = (UNPINNED_CONTAINER_IMAGE,)
    kinds = frozenset({FileKind.WORKFLOW, FileKind.ACTION})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding for each image reference without an `@sha256:` digest."""
        if not isinstance(document, GitHubDocument):
            raise TypeError(f"{type(document).__name__} has no image view")
        seen: set[int] = set()
        for image in document.images:
            if id(image.node) in seen:
                continue
            seen.add(id(image.node))
            self._check(image, emitter)

    def _check(self, image: ImageRef, emitter: Emitter) -> None:
        at = Location.of(image.node)
        role = ROLE_WORDS[image.role]
        if image.value is None:
            shape = "mapping" if isinstance(image.node, MappingNode) else "list"
            emitter.emit(
                UNPINNED_CONTAINER_IMAGE,
                at,
                f"<{shape}>",
                f"the image of {role} at {image.context} is a {shape}, not a string, so what "
                "runs cannot be verified (malformed image)",
                fix=f"write one string: `image@{DIGEST_PLACEHOLDER} # <tag>`",
            )
            return
        value = image.value.strip()
        bare = value.removeprefix(DOCKER_PREFIX) if image.role == "action" else value
        klass = classify_image(bare)
        if klass is ImageClass.DIGEST:
            return
        prefix = DOCKER_PREFIX if image.role == "action" else ""
        unverifiable = klass in {ImageClass.EXPRESSION, ImageClass.VARIABLE}
        if unverifiable:
            fix = (
                f"write a literal `{prefix}image@{DIGEST_PLACEHOLDER} # <tag>`; with a matrix, "
                "pin every value where the matrix lists it"
            )
        else:
            fix = (
                f"write `{prefix}{image_name(bare)}@{DIGEST_PLACEHOLDER} "
                f"# {image_tag(bare) or 'latest'}`; {DIGEST_HOWTO}"
            )
        emitter.emit(
            UNPINNED_CONTAINER_IMAGE,
            at,
            value,
            f"{role} at {image.context} is `{shorten(value)}`, pinned to "
            f"{describe_image(bare, klass)}",
            fix=fix,
            confidence=Confidence.MEDIUM if unverifiable else Confidence.HIGH,
        )
