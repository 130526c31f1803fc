"""Shared wording for image findings, and where Dockerfiles live (files and compose inline)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envsecops.pins.documents.base import Document
from envsecops.pins.documents.compose import ComposeDocument
from envsecops.pins.documents.dockerfile import DockerfileDocument
from envsecops.pins.documents.dockerfile_model import DockerfileModel
from envsecops.pins.refs import ImageClass, classify_image, image_tag
from envsecops.pins.rules.base import Location
from envsecops.pins.rules.docker_uses import DIGEST_HOWTO, DIGEST_PLACEHOLDER, describe_image
from envsecops.pins.rules.unpinned_uses import shorten

PLATFORM_NOTE = (
    "an automatic platform ARG that BuildKit sets per build, so the image differs by platform"
)


def pinned_form(image: str) -> str:
    """``image`` as `name:tag@sha256:<digest>` (any malformed `@...` dropped)."""
    return f"{image.split('@', 1)[0]}@{DIGEST_PLACEHOLDER}"


def mutable_reason(image: str) -> str:
    """Why ``image`` (which has no valid digest) can change: tag, latest or no tag."""
    klass = classify_image(image)
    if klass not in {ImageClass.TAGGED, ImageClass.UNTAGGED_OR_LATEST}:
        klass = ImageClass.TAGGED if image_tag(image) else ImageClass.UNTAGGED_OR_LATEST
    return describe_image(image, klass)


def image_fix(image: str, write: str = "{pinned}", where: str = "") -> str:
    """The fix for a mutable image: ``write`` with `{pinned}` replaced by the digest form,
    where to write it, and how to get the digest."""
    target = write.replace("{pinned}", pinned_form(image))
    name = shorten(image.split("@", 1)[0], 200)
    return (
        f"pin it by digest, keeping the tag for readers: write `{target}`{where}; "
        f"{DIGEST_HOWTO.replace('IMAGE', name)} (the index digest covers every platform)"
    )


@dataclass(frozen=True, slots=True)
class DockerfileSite:
    """A Dockerfile to check: a file, or a compose service's `build.dockerfile_inline`."""

    model: DockerfileModel
    label: str
    line_of: Callable[[int], int]

    def at(self, document: Document, line: int, column: int, written: str) -> Location:
        """The location of ``written`` at (line, column) of this Dockerfile in ``document``."""
        real = self.line_of(line)
        if real != line:
            found = document.source.line(real).find(written)
            column = found + 1 if found >= 0 else 1
        return Location(real, column, real, column + len(written))


def dockerfile_sites(document: Document) -> list[DockerfileSite]:
    """The Dockerfiles in ``document``: itself, or the inline ones of a compose file."""
    if isinstance(document, DockerfileDocument):
        return [DockerfileSite(document.model, "", lambda line: line)]
    if isinstance(document, ComposeDocument):
        return [
            DockerfileSite(
                inline.model,
                f" (in `dockerfile_inline` of service `{inline.service}`)",
                inline.line,
            )
            for inline in document.inline
        ]
    raise TypeError(f"{type(document).__name__} holds no Dockerfile")
