"""`unpinned-k8s-image`: a Kubernetes (init, ephemeral) container image without a digest."""

from __future__ import annotations

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.k8s import ContainerImage, K8sDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import ImageClass, classify_image
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.docker_uses import DIGEST_PLACEHOLDER
from envsecops.pins.rules.image_pinning import image_fix, mutable_reason
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_K8S_IMAGE = Rule(
    id="unpinned-k8s-image",
    title="Kubernetes container image not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A pod's `image: nginx:1.27` is resolved by each node's kubelet when it pulls, so "
    "two replicas can run different code and a re-pushed tag reaches production without a "
    "change here. Pin every container, init container and ephemeral container by digest: "
    "`image: nginx:1.27@sha256:<digest>`.",
)


class UnpinnedK8sImage(Check):
    """Report container images in Kubernetes manifests without an `@sha256:` digest."""

    rules = (UNPINNED_K8S_IMAGE,)
    kinds = frozenset({FileKind.K8S})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per container image without a digest."""
        if not isinstance(document, K8sDocument):
            raise TypeError(f"{type(document).__name__} is not a Kubernetes manifest")
        for image in document.images:
            self._check(image, emitter)

    @staticmethod
    def _check(image: ContainerImage, emitter: Emitter) -> None:
        value = image.value.strip()
        klass = classify_image(value)
        if klass is ImageClass.DIGEST:
            return
        name = f" `{image.container}`" if image.container else ""
        where = f"{image.role}{name} at `{image.path}` of {image.resource}"
        if klass in {ImageClass.VARIABLE, ImageClass.EXPRESSION}:
            emitter.emit(
                UNPINNED_K8S_IMAGE,
                Location.of(image.node),
                value,
                f"the image of the {where} is `{shorten(value)}`, a placeholder that a "
                "templating step fills in, so it cannot be verified here (variable)",
                fix=f"pin-check the rendered manifest, and make the value `image:tag@"
                f"{DIGEST_PLACEHOLDER}` where it is set",
                confidence=Confidence.MEDIUM,
            )
            return
        emitter.emit(
            UNPINNED_K8S_IMAGE,
            Location.of(image.node),
            value,
            f"the image of the {where} is pinned to {mutable_reason(value)}",
            fix=image_fix(value, "image: {pinned}"),
        )
