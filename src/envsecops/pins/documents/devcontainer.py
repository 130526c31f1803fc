"""devcontainer.json (JSON with comments): the image, the OCI features, and the files it builds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from envsecops.pins.documents.base import DocumentProblem, Metrics
from envsecops.pins.documents.jsonc import JsoncText
from envsecops.pins.documents.related import Include, IncludingDocument, resolve_include
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import IMAGE_DIGEST, classify_image
from envsecops.pins.source import SourceFile

# `${localEnv:NAME}` or `${localEnv:NAME:default}` (also containerEnv, and `env:` legacy).
DEVCONTAINER_VARIABLE = re.compile(
    r"\$\{(?:localEnv|containerEnv|env):[A-Za-z_][^}:]*(?::([^}]*))?\}"
)


class FeatureClass(StrEnum):
    """How a feature reference is pinned."""

    DIGEST = "digest"
    LOCAL = "local"
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    TARBALL = "tarball"
    LEGACY = "legacy"


@dataclass(frozen=True, slots=True)
class Feature:
    """One entry of `features`: its id as written and where."""

    id: str
    klass: FeatureClass
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class DevcontainerImage:
    """The `image` value, and its value with `${localEnv:NAME:default}` defaults applied."""

    value: str
    resolved: str | None
    line: int
    column: int


def classify_feature(feature_id: str) -> FeatureClass:
    """Classify a feature id per the dev container spec's reference forms."""
    value = feature_id.strip()
    if value.startswith(("./", "../")):
        return FeatureClass.LOCAL
    if value.startswith(("https://", "http://")):
        return FeatureClass.TARBALL
    if "/" not in value:
        return FeatureClass.LEGACY
    if IMAGE_DIGEST.search(value):
        return FeatureClass.DIGEST
    last = value.rsplit("/", 1)[-1]
    return FeatureClass.TAGGED if ":" in last else FeatureClass.UNTAGGED


def resolve_variables(value: str) -> str | None:
    """Apply `${localEnv:NAME:default}` defaults; None if a variable has no default."""
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        if match.group(1) is None:
            missing = True
            return ""
        return match.group(1)

    resolved = DEVCONTAINER_VARIABLE.sub(replace, value)
    return None if missing or "${" in resolved else resolved


def _string(data: dict[str, Any], key: str, what: str, text: JsoncText) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        line, column = text.locate(json.dumps(key))
        raise DocumentProblem("parse-error", f"`{what}` must be a string", line, column)
    return value


class DevcontainerDocument(IncludingDocument):
    """`.devcontainer/**/devcontainer.json` or `.devcontainer.json`."""

    kind = FileKind.DEVCONTAINER

    def __init__(self, source: SourceFile) -> None:
        super().__init__(source)
        self.json = text = JsoncText(source.text)
        data = text.data
        if not isinstance(data, dict):
            raise DocumentProblem("parse-error", "devcontainer.json must hold a JSON object")
        self.image: DevcontainerImage | None = None
        image = _string(data, "image", "image", text)
        if image is not None:
            line, column = text.locate_string(image, "image")
            self.image = DevcontainerImage(image, resolve_variables(image), line, column)
        self.features: list[Feature] = self._features(data.get("features"))
        self.includes: list[Include] = []
        here = source.path.parent
        build = data.get("build")
        if build is not None and not isinstance(build, dict):
            line, column = text.locate('"build"')
            raise DocumentProblem("parse-error", "`build` must be an object", line, column)
        dockerfile = _string(build or {}, "dockerfile", "build.dockerfile", text)
        if dockerfile is None:
            dockerfile = _string(data, "dockerFile", "dockerFile", text)
        if dockerfile is not None:
            self._include(here, dockerfile, "`build.dockerfile`", FileKind.DOCKERFILE)
        compose = data.get("dockerComposeFile")
        files = compose if isinstance(compose, list) else [compose] if compose is not None else []
        for entry in files:
            if not isinstance(entry, str):
                line, column = text.locate('"dockerComposeFile"')
                raise DocumentProblem(
                    "parse-error",
                    "`dockerComposeFile` must be a path or a list of paths",
                    line,
                    column,
                )
            self._include(here, entry, "`dockerComposeFile`", FileKind.COMPOSE)

    def _features(self, features: object) -> list[Feature]:
        if features is None:
            return []
        start = self.json.masked.find('"features"')
        if not isinstance(features, dict):
            line, column = self.json.position(max(start, 0))
            raise DocumentProblem(
                "parse-error", "`features` must be an object of feature ids", line, column
            )
        found = []
        for feature_id in features:
            line, column = self.json.locate(json.dumps(feature_id), start=max(start, 0))
            found.append(Feature(feature_id, classify_feature(feature_id), line, column))
        return found

    def _include(self, here: Path, text: str, what: str, kind: FileKind) -> None:
        line, column = self.json.locate_string(text)
        self.includes.append(
            resolve_include(self.source, here, text, what=what, kind=kind, line=line, column=column)
        )

    def metrics(self, counter: Metrics) -> None:
        """Count the image by pin class and the features with and without a digest."""
        super().metrics(counter)
        kind = self.kind.value
        if self.image is not None:
            counter[(kind, "image_total")] += 1
            counter[(kind, f"image_{classify_image(self.image.value)}")] += 1
        for feature in self.features:
            counter[(kind, "feature_total")] += 1
            if feature.klass not in {FeatureClass.DIGEST, FeatureClass.LOCAL}:
                counter[(kind, "feature_no_digest")] += 1
