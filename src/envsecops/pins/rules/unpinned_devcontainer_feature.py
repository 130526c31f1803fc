"""`unpinned-devcontainer-feature`: a devcontainer feature not pinned by `@sha256:` digest."""

from __future__ import annotations

import json

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.devcontainer import DevcontainerDocument, Feature, FeatureClass
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.docker_uses import DIGEST_HOWTO, DIGEST_PLACEHOLDER
from envsecops.pins.rules.unpinned_uses import shorten

UNPINNED_DEVCONTAINER_FEATURE = Rule(
    id="unpinned-devcontainer-feature",
    title="Dev container feature not pinned by digest",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A feature is an OCI artifact whose install script runs as root while the dev "
    "container is built. `ghcr.io/devcontainers/features/node:1` follows a moving tag; pin "
    "it: `ghcr.io/devcontainers/features/node@sha256:<digest>`. Tarball URLs and legacy short "
    "ids cannot be pinned: publish the feature to a registry or vendor it as a local "
    "`./feature` folder.",
)

REASONS = {
    FeatureClass.TAGGED: "the tag `{tag}`, which can be re-pushed (tagged, no digest)",
    FeatureClass.UNTAGGED: "no tag, which means `latest` (untagged, no digest)",
    FeatureClass.TARBALL: "a tarball URL, which the server can change and which cannot carry "
    "a digest (tarball, no digest)",
    FeatureClass.LEGACY: "a legacy short id resolved from a deprecated feature repository "
    "(legacy id, no digest)",
}


class UnpinnedDevcontainerFeature(Check):
    """Report features that are not `@sha256:` pinned; local `./` features are in the repo."""

    rules = (UNPINNED_DEVCONTAINER_FEATURE,)
    kinds = frozenset({FileKind.DEVCONTAINER})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding per feature without a digest."""
        if not isinstance(document, DevcontainerDocument):
            raise TypeError(f"{type(document).__name__} is not a devcontainer.json")
        for feature in document.features:
            if feature.klass not in {FeatureClass.DIGEST, FeatureClass.LOCAL}:
                self._emit(feature, emitter)

    @staticmethod
    def _emit(feature: Feature, emitter: Emitter) -> None:
        width = len(json.dumps(feature.id))
        at = Location(feature.line, feature.column, feature.line, feature.column + width)
        name, _, tag = feature.id.rpartition("/")[2].partition(":")
        reason = REASONS[feature.klass].replace("{tag}", shorten(tag))
        if feature.klass in {FeatureClass.TAGGED, FeatureClass.UNTAGGED}:
            repository = feature.id.split("@", 1)[0]
            repository = repository.rsplit(":", 1)[0] if tag else repository
            fix = (
                f'write `"{repository}@{DIGEST_PLACEHOLDER}"` as the feature id; '
                f"{DIGEST_HOWTO.replace('IMAGE', shorten(feature.id, 200))}"
            )
        else:
            fix = (
                f"publish `{shorten(name or feature.id)}` to an OCI registry and pin it by "
                "digest, or copy it into `.devcontainer/` and reference it as `./<folder>`"
            )
        emitter.emit(
            UNPINNED_DEVCONTAINER_FEATURE,
            at,
            feature.id,
            f"the feature `{shorten(feature.id)}` is pinned to {reason}",
            fix=fix,
        )
