"""`unpinned-uses`: an action or reusable workflow referenced by anything but a full commit SHA."""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model import Confidence, Severity
from envsecops.pins.documents.base import Document
from envsecops.pins.documents.github import GitHubDocument, UsesRef
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import (
    RefKind,
    UsesClass,
    classify_uses,
    describe_ref,
    ref_kind,
    split_uses,
)
from envsecops.pins.rules.base import Check, Emitter, Location, Rule
from envsecops.syntax.yaml import MappingNode, SequenceNode

UNPINNED_USES = Rule(
    id="unpinned-uses",
    title="Action or reusable workflow not pinned to a full commit SHA",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    help="A tag or branch can be moved to other code by whoever controls the action's "
    "repository (or steals its credentials), and that code then runs with this job's secrets "
    "and token. Only a full 40-hex commit SHA names immutable code. Write "
    "`owner/repo@<40-hex sha> # <tag>`, or run `envsecops pin-check --fix`.",
)

FIX_HINT = "run `envsecops pin-check --fix` to resolve the tag to its commit through the GitHub API"
SHA_PLACEHOLDER = "<40-hex commit sha>"
MAX_SHOWN = 200
KIND_WORDS = {
    RefKind.UPPERCASE_SHA: "SHA not in lowercase",
    RefKind.SHORT_SHA: "short SHA",
    RefKind.TAG: "tag",
    RefKind.BRANCH: "branch",
    RefKind.BRANCH_OR_TAG: "branch or tag",
}


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` cut to ``limit`` characters for a message (the finding keeps it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def github_uses(document: Document) -> Iterator[UsesRef]:
    """Each distinct `uses:` node of a workflow or action, once (an alias repeats a node)."""
    if not isinstance(document, GitHubDocument):
        raise TypeError(f"{type(document).__name__} has no `uses:` view")
    seen: set[int] = set()
    for ref in document.uses:
        if id(ref.node) not in seen:
            seen.add(id(ref.node))
            yield ref


def what_it_is(ref: UsesRef) -> str:
    """`action`, or `reusable workflow` for `jobs.<id>.uses`, for messages."""
    return "reusable workflow" if ref.job_level else "action"


def node_type(ref: UsesRef) -> str:
    """`mapping` or `list`: what a non-string `uses:` or image node is, for messages."""
    if isinstance(ref.node, MappingNode):
        return "mapping"
    if isinstance(ref.node, SequenceNode):
        return "list"
    return "value"


class UnpinnedUses(Check):
    """Report every remote `uses:` in steps, reusable-workflow jobs and composite actions that
    is not a full lowercase 40-hex commit SHA; local `./` paths are fine, `docker://` is left to
    `unpinned-docker-uses`."""

    rules = (UNPINNED_USES,)
    kinds = frozenset({FileKind.WORKFLOW, FileKind.ACTION})

    def run(self, document: Document, emitter: Emitter) -> None:
        """Emit one finding for each unpinned `uses:` value."""
        for ref in github_uses(document):
            self._check(ref, emitter)

    def _check(self, ref: UsesRef, emitter: Emitter) -> None:
        at = Location.of(ref.node)
        where = f"`uses:` at {ref.context}"
        what = what_it_is(ref)
        if ref.value is None:
            emitter.emit(
                UNPINNED_USES,
                at,
                f"<{node_type(ref)}>",
                f"{where} is a {node_type(ref)}, not a string, so the {what} it runs cannot be "
                "verified (malformed `uses:`)",
                fix=f"write one string: `uses: owner/repo@{SHA_PLACEHOLDER} # <tag>`",
            )
            return
        value = ref.value.strip()
        klass = classify_uses(value)
        if klass in {
            UsesClass.SHA_PINNED,
            UsesClass.LOCAL,
            UsesClass.DOCKER_DIGEST,
            UsesClass.DOCKER_NODIGEST,
        }:
            return
        target = split_uses(value).target
        pinned = f"`{target}@{SHA_PLACEHOLDER} # <tag>`"
        if klass is UsesClass.EXPRESSION:
            emitter.emit(
                UNPINNED_USES,
                at,
                value,
                f"{where} contains an expression (`${{{{ }}}}`), so the {what} it runs cannot be "
                "verified statically (expression in the ref)",
                fix="replace the expression with a literal "
                f"`owner/repo@{SHA_PLACEHOLDER} # <tag>`; to choose between actions, use "
                "separate steps with `if:` conditions",
                confidence=Confidence.MEDIUM,
            )
        elif klass is UsesClass.NO_REF:
            emitter.emit(
                UNPINNED_USES,
                at,
                value,
                f"{where} names the {what} `{shorten(value)}` with no `@ref` (missing `@`): "
                "GitHub refuses it, and the ref to add must be a full commit SHA",
                fix=f"write {pinned} for the release you mean (or add `@<tag>` and run "
                "`envsecops pin-check --fix`)",
            )
        elif klass is UsesClass.MALFORMED:
            emitter.emit(
                UNPINNED_USES,
                at,
                value,
                f"{where} is `{shorten(value)}`, which is not `owner/repo[/path]@ref` "
                f"(malformed `uses:`), so the {what} it runs cannot be verified",
                fix=f"write `owner/repo[/path]@{SHA_PLACEHOLDER} # <tag>` (one `@`, no spaces)",
            )
        else:
            self._mutable(ref, value, at, emitter)

    def _mutable(self, ref: UsesRef, value: str, at: Location, emitter: Emitter) -> None:
        parts = split_uses(value)
        git_ref = parts.ref or ""
        kind = ref_kind(git_ref)
        comment = "<tag>" if kind in {RefKind.SHORT_SHA, RefKind.UPPERCASE_SHA} else git_ref
        if kind is RefKind.BRANCH:
            comment = "<release tag>"
        fix = f"write `{parts.target}@{SHA_PLACEHOLDER} # {comment}`"
        if kind is RefKind.UPPERCASE_SHA:
            fix = f"write the SHA in lowercase: `{parts.target}@{git_ref.lower()} # <tag>`"
        elif kind is RefKind.BRANCH:
            fix += "; prefer the commit of a release tag over a branch head"
        elif kind is RefKind.SHORT_SHA:
            fix += (
                "; spell out the full 40-hex SHA of that commit (`envsecops pin-check --fix` "
                "does it when the short SHA names exactly one commit)"
            )
        else:
            fix += f"; {FIX_HINT}"
        confidence = Confidence.MEDIUM if kind is RefKind.UPPERCASE_SHA else Confidence.HIGH
        emitter.emit(
            UNPINNED_USES,
            at,
            value,
            f"`uses: {shorten(value)}` at {ref.context} pins the {what_it_is(ref)} to "
            f"{describe_ref(git_ref)} ({KIND_WORDS[kind]})",
            fix=fix,
            confidence=confidence,
        )
