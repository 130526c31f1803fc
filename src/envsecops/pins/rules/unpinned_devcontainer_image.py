"""`unpinned-devcontainer-image`: a devcontainer.json `image` without an `@sha256:` digest."""

from __future__ import annotations

import json

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.devcontainer import DevcontainerDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import IMAGE_DIGEST
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.docker_uses import DIGEST_PLACEHOLDER
from envsecops.pins.rules.image_pinning import image_fix, mutable_reason
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_DEVCONTAINER_IMAGE = Rule(
    id="unpinned-devcontainer-image",
    title="Dev container image not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="Codespaces and every developer's editor pull the devcontainer `image` and run it with "
    "the repository, its credentials and the developer's session mounted. A tag can be "
    're-pushed; pin it by digest: `"image": "mcr.microsoft.com/devcontainers/base:noble'
    '@sha256:<digest>"`. A Dockerfile it builds is checked by `unpinned-dockerfile-from`.',
)


class UnpinnedDevcontainerImage(Check):
    """Report the `image` of a devcontainer.json when it has no digest.

    `${localEnv:NAME:default}` takes its default; a variable without one is unverifiable.
    """

    rules = (UNPINNED_DEVCONTAINER_IMAGE,)
    kinds = frozenset({FileKind.DEVCONTAINER})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit a finding when the image has no digest."""
        if not isinstance(document, DevcontainerDocument):
            raise TypeError(f"{type(document).__name__} is not a devcontainer.json")
        image = document.image
        if image is None:
            return
        value = image.value.strip()
        width = len(json.dumps(image.value))
        at = Location(image.line, image.column, image.line, image.column + width)
        if image.resolved is None:
            emitter.emit(
                UNPINNED_DEVCONTAINER_IMAGE,
                at,
                value,
                f"the devcontainer image `{shorten(value)}` comes from a variable with no "
                "default, so it cannot be verified (variable)",
                fix=f"write the image literally as `image:tag@{DIGEST_PLACEHOLDER}`",
                confidence=Confidence.MEDIUM,
            )
            return
        resolved = image.resolved.strip()
        if IMAGE_DIGEST.search(resolved):
            return
        via = f" (with its variable defaults: `{shorten(resolved)}`)" if resolved != value else ""
        emitter.emit(
            UNPINNED_DEVCONTAINER_IMAGE,
            at,
            resolved,
            f"the devcontainer image `{shorten(value)}`{via} is pinned to "
            f"{mutable_reason(resolved)}",
            fix=image_fix(resolved, '"image": "{pinned}"'),
        )
