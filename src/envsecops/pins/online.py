"""`pin-check --online`: check that each SHA pin's `# vX` comment names the tag of that commit."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from envsecops.model import Confidence, Finding
from envsecops.pins.documents import DOCUMENT_BY_KIND
from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.github import GitHubDocument, UsesRef
from envsecops.pins.engine import PinReport
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import UsesClass, classify_uses, split_uses
from envsecops.pins.resolve import RefKind, RefResolver, ResolveError, repo_of
from envsecops.pins.rules.base import Emitter, Location
from envsecops.pins.rules.pin_comment import comment_version, pin_comment_of
from envsecops.pins.rules.pin_comment_mismatch import PIN_COMMENT_MISMATCH
from envsecops.pins.source import SourceError, SourceFile
from envsecops.pins.suppress import Suppressed, apply_inline, apply_policy
from envsecops.policy.pins import PinsPolicy

ONLINE_KINDS = frozenset({FileKind.WORKFLOW, FileKind.ACTION})


def _short(sha: str) -> str:
    return sha[:12]


def _pinned_tag(resolver: RefResolver, repo: str, sha: str) -> str | None:
    """The most specific tag of the pinned commit, for the message; None when none or unknown."""
    try:
        return resolver.resolve(repo, sha).tag
    except ResolveError:
        return None


def check_uses(source: SourceFile, ref: UsesRef, resolver: RefResolver, emitter: Emitter) -> None:
    """Emit `pin-comment-mismatch` when the comment's tag is not the pinned commit."""
    value = (ref.value or "").strip()
    if ref.value is None or classify_uses(value) is not UsesClass.SHA_PINNED:
        return
    comment = pin_comment_of(source, ref)
    version = comment_version(comment) if comment is not None else None
    if version is None:
        return
    parts = split_uses(value)
    pinned = (parts.ref or "").lower()
    repo = repo_of(parts.target)
    at = Location.of(ref.node)
    where = f"`uses: {value}` at {ref.context}"
    try:
        named = resolver.resolve(repo, version, describe=False)
    except ResolveError as exc:
        emitter.emit(
            PIN_COMMENT_MISMATCH,
            at,
            value,
            f"{where} says `# {version}`, which cannot be checked: {exc.message}",
            fix="name the tag the pinned commit belongs to in the comment, or pin another commit",
            confidence=Confidence.MEDIUM if exc.missing == "repository" else Confidence.HIGH,
        )
        return
    if named.sha == pinned:
        return
    actual = _pinned_tag(resolver, repo, pinned)
    what = "branch" if named.kind is RefKind.BRANCH else "tag"
    really = (
        f"the pinned commit is {actual}"
        if actual
        else f"no tag of {repo} points at the pinned commit (a fork's or a deleted tag's commit?)"
    )
    fix = f"pin the commit the comment names: `{parts.target}@{named.sha} # {version}`"
    if actual:
        fix += f", or correct the comment to `# {actual}`"
    emitter.emit(
        PIN_COMMENT_MISMATCH,
        at,
        value,
        f"{where} says `# {version}`, but the {what} {version} of {repo} is commit "
        f"{_short(named.sha)}, not {_short(pinned)}; {really}",
        fix=fix,
    )


def check_file(
    path: Path, rel: str, kind: FileKind, resolver: RefResolver
) -> tuple[list[Finding], list[Suppressed]]:
    """Online findings of one workflow or action: (active, suppressed inline).

    A file that does not parse is skipped here: the offline run already reported it.
    """
    source = SourceFile(path=path, rel=rel, kind=kind)
    try:
        document = DOCUMENT_BY_KIND[kind](source)
    except (DocumentProblem, SourceError):
        return [], []
    if not isinstance(document, GitHubDocument):
        return [], []
    emitter = Emitter(rel)
    seen: set[int] = set()
    for ref in document.uses:
        if id(ref.node) not in seen:
            seen.add(id(ref.node))
            check_uses(source, ref, resolver, emitter)
    return apply_inline(source, emitter.findings)


def add_online_findings(
    report: PinReport, base: Path, resolver: RefResolver, policy: PinsPolicy, today: date
) -> PinReport:
    """The report with `pin-comment-mismatch` findings added, suppressions applied."""
    found: list[Finding] = []
    suppressed = list(report.suppressed)
    for rel, kind in report.files:
        if kind in ONLINE_KINDS:
            active, inline = check_file(base / rel, rel, kind, resolver)
            found.extend(active)
            suppressed.extend(inline)
    active, by_policy = apply_policy(policy, found, today, base)
    suppressed.extend(by_policy)
    suppressed.sort(key=lambda s: s.finding.sort_key())
    return replace(
        report,
        findings=sorted([*report.findings, *active], key=Finding.sort_key),
        suppressed=suppressed,
    )
