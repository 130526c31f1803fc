"""`unpinned-compose-image`: a compose service's `image:` without an `@sha256:` digest."""

from __future__ import annotations

import re

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.compose import ComposeDocument, ServiceImage
from envsecops.pins.documents.variables import expand
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import IMAGE_DIGEST
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.docker_uses import DIGEST_PLACEHOLDER
from envsecops.pins.rules.image_pinning import image_fix, mutable_reason
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_COMPOSE_IMAGE = Rule(
    id="unpinned-compose-image",
    title="Compose service image not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="`image: postgres:16` runs whatever the registry serves for that tag when compose "
    "pulls. Pin it by digest: `image: postgres:16@sha256:<digest>`. With interpolation, pin "
    "the default (`${PG_IMAGE:-postgres:16@sha256:<digest>}`); a `${VAR}` without a default "
    "cannot be verified. A service that is built and has `pull_policy: build` is not pulled.",
)


def _name(default: str) -> str:
    """`NAME` of a `${NAME:-default}` expression."""
    return re.split(r"[:?+-]", default.removeprefix("${"), maxsplit=1)[0]


class UnpinnedComposeImage(Check):
    """Report service images without digest, after applying `${VAR:-default}` defaults.

    Compose reads variables from the environment and `.env`; pin-check reads neither, so
    it judges the default the file itself gives (and says so), and reports a variable
    without a default as unverifiable.
    """

    rules = (UNPINNED_COMPOSE_IMAGE,)
    kinds = frozenset({FileKind.COMPOSE})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per pulled service image without a digest."""
        if not isinstance(document, ComposeDocument):
            raise TypeError(f"{type(document).__name__} is not a compose file")
        seen: set[int] = set()
        for image in document.images:
            if image.pulled and id(image.node) not in seen:
                seen.add(id(image.node))
                self._check(image, emitter)

    @staticmethod
    def _check(image: ServiceImage, emitter: Emitter) -> None:
        value = image.value.strip()
        where = f"service `{image.service}`"
        expansion = expand(value, {}, dollar_escape=True)
        at = Location.of(image.node)
        if expansion.value is None:
            names = ", ".join(f"`{shorten(n)}`" for n in dict.fromkeys(expansion.unresolved))
            emitter.emit(
                UNPINNED_COMPOSE_IMAGE,
                at,
                value,
                f"the image of {where} is `{shorten(value)}`, which takes {names} from the "
                "environment with no default in the file, so it cannot be verified (variable)",
                fix="give the variable a digest-pinned default: "
                f"`${{VAR:-image:tag@{DIGEST_PLACEHOLDER}}}`, or write the image literally",
                confidence=Confidence.MEDIUM,
            )
            return
        resolved = expansion.value.strip()
        if IMAGE_DIGEST.search(resolved):
            return
        if expansion.defaults:
            names = ", ".join(f"`{_name(d)}`" for d in expansion.defaults)
            message = (
                f"the image of {where} is `{shorten(value)}`, which defaults to "
                f"`{shorten(resolved)}` when {names} is unset (the default in the file was used; "
                f"pin-check reads neither the environment nor `.env`), pinned to "
                f"{mutable_reason(resolved)}"
            )
            fix = image_fix(resolved, where=" as the default inside `${VAR:-...}`")
        else:
            message = f"the image of {where} is pinned to {mutable_reason(resolved)}"
            fix = image_fix(resolved, "image: {pinned}")
        emitter.emit(UNPINNED_COMPOSE_IMAGE, at, resolved, message, fix=fix)
