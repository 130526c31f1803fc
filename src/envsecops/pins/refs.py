"""Classify references (`uses:` values, container images) by how immutably they are pinned."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,39}")
VERSION_TAG = re.compile(r"v?\d+(\.\d+)*([.-][0-9A-Za-z.-]+)?")
IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
EXPRESSION = "${{"
VARIABLE = re.compile(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")


class UsesClass(StrEnum):
    """How a `uses:` value is pinned; values are the EXPECTED.csv metric suffixes."""

    SHA_PINNED = "sha_pinned"
    UNPINNED_REF = "unpinned_ref"
    NO_REF = "no_ref"
    LOCAL = "local"
    DOCKER_DIGEST = "docker_digest"
    DOCKER_NODIGEST = "docker_nodigest"
    EXPRESSION = "expression"
    MALFORMED = "malformed"


class ImageClass(StrEnum):
    """How a container image reference is pinned; values are EXPECTED.csv metric suffixes."""

    DIGEST = "digest"
    TAGGED = "no_digest_tagged"
    UNTAGGED_OR_LATEST = "no_digest_untagged_or_latest"
    EXPRESSION = "expression"
    VARIABLE = "variable"


@dataclass(frozen=True, slots=True)
class UsesParts:
    """`owner/repo[/path]@ref` split apart; ref is None when there is no `@`."""

    target: str
    ref: str | None


def split_uses(value: str) -> UsesParts:
    """Split a `uses:` value at its last `@`."""
    target, sep, ref = value.rpartition("@")
    if not sep:
        return UsesParts(value, None)
    return UsesParts(target, ref)


def classify_uses(value: str) -> UsesClass:
    """Classify a `uses:` value (a step's, a reusable workflow job's, or a composite step's)."""
    value = value.strip()
    if value.startswith(("./", ".\\")) or value == ".":
        return UsesClass.LOCAL
    if value.startswith("docker://"):
        return UsesClass.DOCKER_DIGEST if IMAGE_DIGEST.search(value) else UsesClass.DOCKER_NODIGEST
    if EXPRESSION in value:
        return UsesClass.EXPRESSION
    parts = split_uses(value)
    if parts.ref is None:
        return UsesClass.NO_REF
    if not parts.ref or not parts.target or "/" not in parts.target or " " in value:
        return UsesClass.MALFORMED
    if FULL_SHA.fullmatch(parts.ref):
        return UsesClass.SHA_PINNED
    return UsesClass.UNPINNED_REF


def describe_ref(ref: str) -> str:
    """Say what kind of mutable ref this looks like: short SHA, tag, or branch/tag."""
    if SHORT_SHA.fullmatch(ref):
        return f"the short SHA `{ref}` (ambiguous, and resolvable to a different commit later)"
    if VERSION_TAG.fullmatch(ref):
        return f"the tag `{ref}`, which can be moved to another commit"
    return f"the branch or tag `{ref}`, which can be moved to another commit"


def image_tag(image: str) -> str | None:
    """The tag of an image reference without digest, or None when it has none."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return None


def classify_image(image: str) -> ImageClass:
    """Classify a container image reference (docker://, compose, k8s, job container...)."""
    value = image.strip()
    if value.startswith("docker://"):
        value = value[len("docker://") :]
    if EXPRESSION in value:
        return ImageClass.EXPRESSION
    if VARIABLE.search(value):
        return ImageClass.VARIABLE
    if IMAGE_DIGEST.search(value):
        return ImageClass.DIGEST
    tag = image_tag(value)
    if tag is None or tag == "latest":
        return ImageClass.UNTAGGED_OR_LATEST
    return ImageClass.TAGGED
