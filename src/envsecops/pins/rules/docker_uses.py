"""`unpinned-docker-uses`: a `uses: docker://image` step without an `@sha256:` digest."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import ImageClass, UsesClass, classify_image, classify_uses, image_tag
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.unpinned_uses import github_uses, shorten

UNPINNED_DOCKER_USES = Rule(
    id="unpinned-docker-uses",
    title="`uses: docker://` image not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A `uses: docker://image:tag` step runs whatever the registry serves for that tag "
    "today; the tag can be re-pushed. Only `docker://image@sha256:<64 hex>` names immutable "
    "content. Keep the tag as a comment: `docker://alpine@sha256:<digest> # 3.20`.",
)

DOCKER_PREFIX = "docker://"
DIGEST_PLACEHOLDER = "sha256:<64-hex digest>"
DIGEST_HOWTO = (
    "get the digest with `docker buildx imagetools inspect IMAGE` or `crane digest IMAGE`"
)


def image_name(image: str) -> str:
    """The repository part of an image reference: no tag, no digest."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def describe_image(image: str, klass: ImageClass) -> str:
    """Say why an image reference without a digest is mutable; the words name the problem."""
    tag = shorten(image_tag(image) or "", 100)
    if "@" in image and klass in {ImageClass.TAGGED, ImageClass.UNTAGGED_OR_LATEST}:
        digest = shorten(image.split("@", 1)[1], 100)
        return f"`@{digest}`, which is not `sha256:` and 64 lowercase hex digits (malformed digest)"
    if klass is ImageClass.TAGGED:
        return f"the tag `{tag}`, which can be re-pushed to different content (tagged, no digest)"
    if klass is ImageClass.UNTAGGED_OR_LATEST:
        if tag == "latest":
            return "the tag `latest`, which changes with every release (latest, no digest)"
        return "no tag, which means `latest` and changes with every release (untagged, no digest)"
    if klass is ImageClass.EXPRESSION:
        return "an expression (`${{ }}`), which cannot be verified statically (expression)"
    return (
        "a `$VARIABLE`, which GitHub does not expand here and which cannot be verified (variable)"
    )


class UnpinnedDockerUses(Check):
    """Report `uses: docker://…` steps whose image has no `@sha256:` digest."""

    rules = (UNPINNED_DOCKER_USES,)
    kinds = frozenset({FileKind.WORKFLOW, FileKind.ACTION})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding for each `docker://` reference without a digest."""
        for ref in github_uses(document):
            if ref.value is None:
                continue  # reported by unpinned-uses as malformed
            value = ref.value.strip()
            if classify_uses(value) is not UsesClass.DOCKER_NODIGEST:
                continue
            image = value[len(DOCKER_PREFIX) :]
            klass = classify_image(image)
            unverifiable = klass in {ImageClass.EXPRESSION, ImageClass.VARIABLE}
            if unverifiable:
                fix = f"write a literal `{DOCKER_PREFIX}image@{DIGEST_PLACEHOLDER} # <tag>`"
            else:
                comment = image_tag(image) or "latest"
                fix = (
                    f"write `{DOCKER_PREFIX}{image_name(image)}@{DIGEST_PLACEHOLDER} # {comment}`; "
                    f"{DIGEST_HOWTO}"
                )
            emitter.emit(
                UNPINNED_DOCKER_USES,
                Location.of(ref.node),
                value,
                f"`uses: {shorten(value)}` at {ref.context} runs a container image pinned to "
                f"{describe_image(image, klass)}",
                fix=fix,
                confidence=Confidence.MEDIUM if unverifiable else Confidence.HIGH,
            )
