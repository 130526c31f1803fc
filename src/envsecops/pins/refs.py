"""Classify references (`uses:` values, container images) by how immutably they are pinned."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,39}")
VERSION_TAG = re.compile(r"v?\d+(\.\d+)*([.-][0-9A-Za-z.-]+)?")
IMAGE_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\Z")
BRANCH_NAMES = frozenset({"main", "master", "trunk", "develop", "dev", "next", "stable"})
WHITESPACE = re.compile(r"\s")
PATH_SEPARATORS = re.compile(r"[/\\]")
EXPRESSION = "${{"
# `$` is excluded inside braces so a search stays linear on hostile input (`${${${…`).
VARIABLE = re.compile(r"\$(\{[^}$]*\}|[A-Za-z_][A-Za-z0-9_]*)")
# Longer refs are described without regexes: VERSION_TAG backtracks quadratically.
MAX_DESCRIBED_REF = 255
MAX_SHOWN_REF = 100


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
    """Classify a `uses:` value (a step's, a reusable workflow job's, or a composite step's).

    The shape rules follow the Actions runner: `./` or `.\\` is local, and so is GitHub's
    self-repository form `$/…` (the same repository at the same commit); `docker://` (case
    sensitive) is an image, anything else must be `owner/repo[/path]@ref` with exactly one
    `@` and at least two non-empty path segments (split on `/` or `\\`). Only a lowercase
    40-hex ref counts as a commit SHA: git prints object names in lowercase, and any other
    spelling may name a branch or tag instead.
    """
    value = value.strip()
    if value.startswith(("./", ".\\", "$/")):
        return UsesClass.LOCAL
    if value.startswith("docker://"):
        return UsesClass.DOCKER_DIGEST if IMAGE_DIGEST.search(value) else UsesClass.DOCKER_NODIGEST
    if EXPRESSION in value:
        return UsesClass.EXPRESSION
    if not value:
        return UsesClass.MALFORMED
    parts = split_uses(value)
    if parts.ref is None:
        return UsesClass.NO_REF
    segments = [segment for segment in PATH_SEPARATORS.split(parts.target) if segment]
    if not parts.ref or "@" in parts.target or len(segments) < 2 or WHITESPACE.search(value):
        return UsesClass.MALFORMED
    if COMMIT_SHA.fullmatch(parts.ref):
        return UsesClass.SHA_PINNED
    return UsesClass.UNPINNED_REF


class RefKind(StrEnum):
    """What a mutable `uses:` ref looks like, for messages and confidence."""

    UPPERCASE_SHA = "uppercase-sha"
    SHORT_SHA = "short-sha"
    TAG = "tag"
    BRANCH = "branch"
    BRANCH_OR_TAG = "branch-or-tag"


def ref_kind(ref: str) -> RefKind:
    """Say what kind of mutable ref ``ref`` looks like (it is not a lowercase 40-hex SHA)."""
    if len(ref) > MAX_DESCRIBED_REF:
        return RefKind.BRANCH_OR_TAG
    if FULL_SHA.fullmatch(ref):
        return RefKind.UPPERCASE_SHA
    if ref.startswith("refs/heads/") or ref in BRANCH_NAMES:
        return RefKind.BRANCH
    if ref.startswith("refs/tags/") or VERSION_TAG.fullmatch(ref):
        return RefKind.TAG
    if SHORT_SHA.fullmatch(ref):
        return RefKind.SHORT_SHA
    return RefKind.BRANCH_OR_TAG


def describe_ref(ref: str) -> str:
    """Say what kind of mutable ref this looks like: short SHA, tag, branch, or either."""
    kind = ref_kind(ref)
    ref = ref if len(ref) <= MAX_SHOWN_REF else ref[: MAX_SHOWN_REF - 1] + "…"
    if kind is RefKind.UPPERCASE_SHA:
        return (
            f"`{ref}`, 40 hex digits that are not all lowercase: git names commits in lowercase, "
            "so this may resolve as a branch or tag name instead of a commit"
        )
    if kind is RefKind.SHORT_SHA:
        return (
            f"the short SHA `{ref}`, which a branch or tag of the same name, or a colliding "
            "commit pushed later, can make resolve to different code"
        )
    if kind is RefKind.TAG:
        return f"the tag `{ref}`, which can be moved to another commit"
    if kind is RefKind.BRANCH:
        return f"the branch `{ref}`, which moves with every push"
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
    if not tag or tag == "latest":
        return ImageClass.UNTAGGED_OR_LATEST
    return ImageClass.TAGGED
