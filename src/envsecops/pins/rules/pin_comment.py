"""`pin-comment`: a SHA-pinned `uses:` should name its version in a `# vX.Y.Z` comment."""

from __future__ import annotations

import re

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.github import UsesRef
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import UsesClass, classify_uses, split_uses
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.pins.rules.unpinned_uses import github_uses, shorten, what_it_is
from envsecops.pins.source import SourceFile
from envsecops.syntax.yaml import ScalarNode, comment_start, end_position, position

PIN_COMMENT = Rule(
    id="pin-comment",
    title="SHA-pinned `uses:` without a version comment",
    severity=Severity.INFO,
    confidence=Confidence.HIGH,
    help="A bare commit SHA tells a reviewer nothing about which release runs. Dependabot and "
    "Renovate keep a trailing `# v4.2.1` comment in step with the SHA when they bump it, and "
    "`envsecops pin-check --online` checks that the comment names the tag that points at the "
    "SHA. Write `owner/repo@<sha> # <tag>` on one line.",
)

# Prefixes pinning tools write before the version: `# tag=v1.2.3` (Renovate, older),
# `# pin @v1.2.3` (pin-github-action), `# @v1.2.3`.
COMMENT_PREFIX = re.compile(r"^(?:tag\s*[=:]\s*|pin\s+@?|@)", re.IGNORECASE)
# A tag with a version in it: `v4`, `4.2.1`, `v2.0.0-rc.1`, `release/v1.8`, `codeql-bundle-v2.18`.
VERSION_TOKEN = re.compile(r"(?:[A-Za-z0-9._+/-]*[/-])?v?\d[0-9A-Za-z.+_-]*")
MAX_VERSION_LENGTH = 128  # longer is no tag; also bounds the regex's backtracking
BLOCK_STYLES = frozenset({"|", ">"})


def _find_comment(rest: str) -> str | None:
    """The text after the first YAML comment in ``rest``, which follows a value; else None."""
    at, _open_quote = comment_start(rest)
    return None if at is None else rest[at + 1 :].strip()


def pin_comment_of(source: SourceFile, uses_ref: UsesRef) -> str | None:
    """The comment written on the line where the `uses:` value ends, without `#`; None if none.

    For a block scalar (`uses: >-`) the comment can only sit on its header line, after the
    indicator. Quoted text later on a flow-style line (`{uses: …, with: {x: '#'}}`) is skipped.
    """
    node = uses_ref.node
    if isinstance(node, ScalarNode) and node.style in BLOCK_STYLES:
        line, column = position(node)
        header = source.line(line)[column - 1 :]
        indicator = len(header) - len(header.lstrip("|>+-0123456789"))
        return _find_comment(header[indicator:])
    line, column = end_position(node)
    return _find_comment(source.line(line)[column - 1 :])


def comment_version(comment: str) -> str | None:
    """The version a pin comment names (`v4.2.1` in `# v4.2.1`, `# tag=v4.2.1`), or None."""
    words = COMMENT_PREFIX.sub("", comment.strip()).split()
    if not words:
        return None
    token = words[0].rstrip(",;)")
    if len(token) > MAX_VERSION_LENGTH or not VERSION_TOKEN.fullmatch(token):
        return None
    return token


class PinComment(Check):
    """Report SHA-pinned `uses:` lines whose trailing comment does not name a version."""

    rules = (PIN_COMMENT,)
    kinds = frozenset({FileKind.WORKFLOW, FileKind.ACTION})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit an informational finding for each SHA pin without a version comment."""
        for ref in github_uses(document):
            if ref.value is None:
                continue
            value = ref.value.strip()
            if classify_uses(value) is not UsesClass.SHA_PINNED:
                continue
            comment = pin_comment_of(document.source, ref)
            if comment is not None and comment_version(comment) is not None:
                continue
            parts = split_uses(value)
            found = (
                "no comment"
                if comment is None
                else f"the comment `# {shorten(comment, 100)}`, which names no version"
            )
            emitter.emit(
                PIN_COMMENT,
                Location.of(ref.node),
                value,
                f"`uses: {shorten(value)}` at {ref.context} pins the {what_it_is(ref)} to a "
                f"commit but has {found}: reviewers cannot tell which release runs, and "
                "Dependabot/Renovate keep a `# <tag>` comment in sync only when it is there",
                fix=f"append the tag this commit belongs to: `{value} # v<X.Y.Z>` (find it with "
                f"`git ls-remote --tags https://github.com/{_repository(parts.target)} "
                f"| grep {parts.ref}`)",
            )


def _repository(target: str) -> str:
    """`owner/repo` of `owner/repo/path/to/action`."""
    return "/".join([segment for segment in re.split(r"[/\\]", target) if segment][:2])
