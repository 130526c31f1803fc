"""`pin-check --fix`: rewrite unpinned `uses:` to `owner/repo@<sha> # <tag>` in place.

Only the exact span of each value changes (plus a trailing version comment, when there is one):
quotes, indentation, other comments and line endings stay byte-identical. Every ref is resolved
before any file is written, so a failing API leaves the tree untouched; each file is re-parsed
after editing and written atomically (temporary file + ``os.replace``) only when it composes to
the same YAML tree but for the rewritten values (else it is retried without comments).
"""

from __future__ import annotations

import codecs
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from envsecops.pins.documents import DOCUMENT_BY_KIND
from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.github import GitHubDocument, UsesRef
from envsecops.pins.fix_spans import SpanEdit, Unfixable, apply_edits, same_tree, value_edit
from envsecops.pins.kinds import FileKind
from envsecops.pins.refs import COMMIT_SHA, UsesClass, classify_uses, split_uses
from envsecops.pins.resolve import RefKind, RefResolver, ResolveError, repo_of
from envsecops.pins.source import SourceError, SourceFile
from envsecops.syntax.yaml import Node, ScalarNode, YamlProblem, compose_documents, position

FIXABLE_KINDS = frozenset({FileKind.WORKFLOW, FileKind.ACTION})
NOT_FIXABLE = {
    UsesClass.NO_REF: "no `@ref` to resolve: add the ref you mean, then run --fix again",
    UsesClass.EXPRESSION: "the ref is an expression, which only the runner can evaluate",
    UsesClass.MALFORMED: "not `owner/repo[/path]@ref`, so there is nothing to resolve",
    UsesClass.DOCKER_NODIGEST: "a `docker://` image: pin it by digest (`@sha256:...`) by hand",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One rewritten `uses:`: what it was and what it became (value and comment)."""

    rel: str
    line: int
    column: int
    before: str
    after: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class NotFixed:
    """A `uses:` left as it was; ``blocking`` when it is an active, unpinned reference."""

    rel: str
    line: int
    column: int
    value: str
    reason: str
    blocking: bool = True


@dataclass
class FixResult:
    """What --fix did: the changes written, what was left, and the files rewritten."""

    changes: list[Change] = field(default_factory=list)
    not_fixed: list[NotFixed] = field(default_factory=list)
    written: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Planned:
    """One planned rewrite: with its comment, and bare (the value only) as a fallback."""

    edit: SpanEdit
    bare: SpanEdit
    change: Change
    node: ScalarNode
    value: str


@dataclass
class _FilePlan:
    path: Path
    rel: str
    kind: FileKind
    raw: bytes
    text: str
    roots: list[Node]
    edits: list[_Planned] = field(default_factory=list)


def _where(rel: str, ref: UsesRef) -> tuple[str, int, int]:
    line, column = position(ref.node)
    return rel, line, column


def _distinct(document: GitHubDocument) -> list[UsesRef]:
    seen: set[int] = set()
    refs: list[UsesRef] = []
    for ref in document.uses:
        if id(ref.node) not in seen:
            seen.add(id(ref.node))
            refs.append(ref)
    return refs


def _plan_ref(
    plan: _FilePlan, ref: UsesRef, resolver: RefResolver, skip: Mapping[tuple[str, int, int], str]
) -> NotFixed | None:
    rel, line, column = _where(plan.rel, ref)
    value = (ref.value or "").strip()
    klass = classify_uses(value) if ref.value is not None else UsesClass.MALFORMED
    if klass in {UsesClass.SHA_PINNED, UsesClass.LOCAL, UsesClass.DOCKER_DIGEST}:
        return None
    suppressed = skip.get((rel, line, column))
    if suppressed is not None:
        return NotFixed(rel, line, column, value, f"left as is: {suppressed}", blocking=False)
    if klass is not UsesClass.UNPINNED_REF or not isinstance(ref.node, ScalarNode):
        return NotFixed(rel, line, column, value or "<not a string>", NOT_FIXABLE[klass])
    parts = split_uses(value)
    old_ref = parts.ref or ""
    try:
        resolved = resolver.resolve(repo_of(parts.target), old_ref)
    except ResolveError as exc:
        return NotFixed(rel, line, column, value, exc.message)
    if not COMMIT_SHA.fullmatch(resolved.sha):
        return NotFixed(rel, line, column, value, f"the API returned {resolved.sha!r}, no SHA")
    comment = resolved.tag or (old_ref if resolved.kind is not RefKind.COMMIT else None)
    new_value = f"{parts.target}@{resolved.sha}"
    old_value = ref.node.value
    lead = old_value[: len(old_value) - len(old_value.lstrip())]
    trail = old_value[len(old_value.rstrip()) :]
    scalar_value = f"{lead}{new_value}{trail}"
    try:
        edit = value_edit(plan.text, ref.node, old_value, scalar_value, comment)
        bare = value_edit(plan.text, ref.node, old_value, scalar_value, None)
    except Unfixable as exc:
        return NotFixed(rel, line, column, value, str(exc))
    with_comment = comment is not None and edit != bare and edit.note is None
    after = new_value + (f" # {comment}" if with_comment else "")
    change = Change(rel, line, column, value, after, edit.note)
    plan.edits.append(_Planned(edit, bare, change, ref.node, scalar_value))
    return None


def _plan_file(
    path: Path,
    rel: str,
    kind: FileKind,
    resolver: RefResolver,
    skip: Mapping[tuple[str, int, int], str],
    result: FixResult,
) -> _FilePlan | None:
    source = SourceFile(path=path, rel=rel, kind=kind)
    try:
        document = DOCUMENT_BY_KIND[kind](source)
        raw = path.read_bytes()
    except (DocumentProblem, SourceError, OSError) as exc:
        line, column = getattr(exc, "line", 1), getattr(exc, "column", 1)
        reason = getattr(exc, "message", str(exc))
        result.not_fixed.append(NotFixed(rel, line, column, rel, f"file not fixed: {reason}"))
        return None
    if not isinstance(document, GitHubDocument):
        return None
    plan = _FilePlan(path, rel, kind, raw, source.text, document.roots)
    for ref in _distinct(document):
        problem = _plan_ref(plan, ref, resolver, skip)
        if problem is not None:
            result.not_fixed.append(problem)
    return plan if plan.edits else None


def _rewrite(plan: _FilePlan, edits: list[SpanEdit]) -> str:
    """The edited text, once it re-parses to the same tree but for the planned values."""
    new_text = apply_edits(plan.text, edits)
    try:
        roots = compose_documents(new_text)
    except YamlProblem as exc:
        raise Unfixable(f"the rewritten file would not parse ({exc.message})") from exc
    if not same_tree(plan.roots, roots, {id(p.node): p.value for p in plan.edits}):
        raise Unfixable("the rewritten file would not read back as planned")
    return new_text


def _write_atomically(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        temp.chmod(mode)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _apply(plan: _FilePlan, result: FixResult) -> None:
    changes = [p.change for p in plan.edits]
    try:
        try:
            new_text = _rewrite(plan, [p.edit for p in plan.edits])
        except Unfixable:
            new_text = _rewrite(plan, [p.bare for p in plan.edits])
            note = "no version comment: it would have changed how the line parses"
            changes = [replace(c, after=c.after.split(" # ")[0], note=note) for c in changes]
        if plan.path.read_bytes() != plan.raw:
            raise Unfixable("the file changed while --fix ran: run it again")
        bom = codecs.BOM_UTF8 if plan.raw.startswith(codecs.BOM_UTF8) else b""
        _write_atomically(plan.path, bom + new_text.encode("utf-8"))
    except (Unfixable, OSError) as exc:
        reason = str(exc) if isinstance(exc, Unfixable) else f"cannot write the file: {exc}"
        result.not_fixed.extend(
            NotFixed(c.rel, c.line, c.column, c.before, f"file not rewritten: {reason}")
            for c in changes
        )
        return
    result.changes.extend(changes)
    result.written.append(plan.rel)


def fix_files(
    files: Iterable[tuple[Path, str, FileKind]],
    resolver: RefResolver,
    skip: Mapping[tuple[str, int, int], str] | None = None,
) -> FixResult:
    """Resolve every unpinned `uses:` in ``files``, then rewrite the files that need it.

    ``skip`` maps (path, line, column) of suppressed findings to why they are accepted; those
    references are left alone. An InfraError from the resolver propagates before any write.
    """
    result = FixResult()
    plans = [
        plan
        for path, rel, kind in files
        if kind in FIXABLE_KINDS
        and (plan := _plan_file(path, rel, kind, resolver, skip or {}, result)) is not None
    ]
    for plan in plans:
        _apply(plan, result)
    result.changes.sort(key=lambda c: (c.rel, c.line, c.column))
    result.not_fixed.sort(key=lambda n: (n.rel, n.line, n.column))
    return result
