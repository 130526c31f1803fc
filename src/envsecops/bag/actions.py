"""The actions cataloger: each action the runner downloaded for this job, hashed and pin-checked."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from envsecops.bag.fspaths import RootResolver, escape_name
from envsecops.bag.hashing import Hasher, shared_or_own
from envsecops.bag.interface import CatalogContext, Cataloger
from envsecops.bag.merkle import tree_digest, tree_properties
from envsecops.model.bag import Component, ComponentKind, Status

SOURCE = "actions"
MARKER = b".completed"
FULL_SHA = re.compile(r"[0-9a-f]{40}\Z")
MANIFESTS = ("action.yml", "*/action.yml", "action.yaml", "*/action.yaml")
MAX_LISTED = 20


@dataclass(frozen=True, slots=True)
class _Ref:
    """One downloaded action: where its ``_actions`` dir is, owner, repo, ref, and its tree."""

    actions_dir: bytes
    owner: bytes
    repo: bytes
    ref: bytes
    runner_path: bytes
    complete: bool


def actions_dirs(context: CatalogContext) -> list[tuple[str, bytes]]:
    """Candidate ``_actions`` directories (runner paths) and the variable that names each.

    ``$RUNNER_WORKSPACE/../_actions`` and ``$GITHUB_WORKSPACE/../../_actions`` are both tried
    (any earlier step can change either through ``$GITHUB_ENV``, so neither alone is trusted);
    each directory found is catalogued once.
    """
    candidates = []
    runner_ws = context.environ.get("RUNNER_WORKSPACE", "")
    if runner_ws.startswith("/"):
        candidates.append(("RUNNER_WORKSPACE", os.path.dirname(runner_ws.rstrip("/"))))  # noqa: PTH120
    for name, value in (
        ("GITHUB_WORKSPACE", context.environ.get("GITHUB_WORKSPACE", "")),
        ("workspace", str(context.workspace) if context.workspace else ""),
    ):
        if value.startswith("/"):
            candidates.append((name, os.path.dirname(os.path.dirname(value.rstrip("/")))))  # noqa: PTH120
    return [(name, os.fsencode(base.rstrip("/") + "/_actions")) for name, base in candidates]


class Actions(Cataloger):
    """Every ``_actions/<owner>/<repo>/<ref>/`` tree: a Merkle digest and a pin-check of it.

    The runner empties ``_actions`` when a job starts and writes ``<ref>.completed`` beside
    each finished download (a ref with ``/`` is nested directories). Each action becomes an
    ``action`` component (purl ``pkg:github/owner/repo@ref``) with ``ref-is-sha``, ``complete``
    and the pin-check of its ``action.yml`` files and the files they pull in: ``pin-findings``
    (inline ``envsecops: ignore`` comments in a downloaded action are *not* honoured: the
    action's author wrote them), ``pin-findings-by-rule``, ``unpinned-uses`` and
    ``pin-finding-list``. The policy decides what is acceptable; nothing is dropped here.
    """

    id = SOURCE

    def __init__(self, hasher: Hasher | None = None) -> None:
        self._hasher = hasher

    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield one component per downloaded action, and per unexpected entry."""
        resolver = RootResolver(context.root)
        seen: dict[bytes, str] = {}
        refs: list[_Ref] = []
        problems: list[Component] = []
        for variable, runner_dir in actions_dirs(context):
            found = resolver.resolve(runner_dir)
            if found.status is Status.VANISHED or found.path in seen:
                continue
            seen[found.path] = variable
            if found.status is not Status.OK:
                problems.append(_problem(runner_dir, found.status, found.detail))
                continue
            _scan(resolver, found.path, refs, problems)
        yield from problems
        with shared_or_own(self._hasher) as hasher:
            for ref in refs:
                yield _action(hasher, resolver, ref)


def _listing(host: bytes) -> list[os.DirEntry[bytes]]:
    with os.scandir(host) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def _scan(
    resolver: RootResolver, actions: bytes, refs: list[_Ref], problems: list[Component]
) -> None:
    try:
        owners = _listing(resolver.host(actions))
    except OSError as exc:
        problems.append(_problem(actions, Status.UNREADABLE, f"cannot list: {exc.strerror}"))
        return
    for owner in owners:
        if not owner.is_dir(follow_symlinks=False):
            problems.append(_problem(actions + b"/" + owner.name, Status.OK, "unexpected entry"))
            continue
        if owner.name.startswith(b"_temp_"):
            detail = "the runner's temporary download directory: not an action"
            problems.append(_problem(actions + b"/" + owner.name, Status.OK, detail))
            continue
        try:
            repos = _listing(owner.path)
        except OSError as exc:
            detail = f"cannot list: {exc.strerror}"
            problems.append(_problem(actions + b"/" + owner.name, Status.UNREADABLE, detail))
            continue
        for repo in repos:
            where = actions + b"/" + owner.name + b"/" + repo.name
            if not repo.is_dir(follow_symlinks=False):
                problems.append(_problem(where, Status.OK, "unexpected entry"))
                continue
            for ref, complete in _refs(repo.path, b"", problems, where):
                refs.append(_Ref(actions, owner.name, repo.name, ref, where + b"/" + ref, complete))


def _refs(
    host: bytes, prefix: bytes, problems: list[Component], where: bytes
) -> Iterator[tuple[bytes, bool]]:
    """Ref directories below a repo directory; a ref holding ``/`` is nested directories."""
    try:
        entries = _listing(host)
    except OSError as exc:
        problems.append(_problem(where, Status.UNREADABLE, f"cannot list: {exc.strerror}"))
        return
    names = {entry.name for entry in entries}
    for entry in entries:
        name = entry.name
        if name.endswith(MARKER) and name[: -len(MARKER)] in names:
            continue
        if entry.is_dir(follow_symlinks=False) or entry.is_symlink():
            complete = name + MARKER in names
            if not complete and entry.is_dir(follow_symlinks=False) and _holds_refs(entry.path):
                yield from _refs(entry.path, prefix + name + b"/", problems, where + b"/" + name)
            else:
                yield prefix + name, complete
        else:
            problems.append(_problem(where + b"/" + name, Status.OK, "unexpected entry"))


def _holds_refs(host: bytes) -> bool:
    try:
        names = {entry.name for entry in _listing(host)}
    except OSError:
        return False
    return any(n.endswith(MARKER) and n[: -len(MARKER)] in names for n in names)


def _problem(runner_path: bytes, status: Status, detail: str) -> Component:
    return Component(
        kind=ComponentKind.ACTION,
        name="_actions-entry",
        source=SOURCE,
        path=escape_name(runner_path),
        status=status,
        properties=(("detail", detail),),
    )


def _action(hasher: Hasher, resolver: RootResolver, ref: _Ref) -> Component:
    owner, repo, ref_text = escape_name(ref.owner), escape_name(ref.repo), escape_name(ref.ref)
    props = [
        ("complete", "true" if ref.complete else "false"),
        ("ref-is-sha", "true" if FULL_SHA.match(ref_text) else "false"),
    ]
    found = resolver.resolve(ref.runner_path)
    if found.links:
        props.append(("linked-to", escape_name(found.path)))
    if found.status is Status.OK:
        tree = tree_digest(
            hasher, resolver.host(found.path), resolver=resolver, runner_top=found.path
        )
        status, digest = tree.status, tree.digest
        props.extend(tree_properties(tree))
        if tree.digest is not None:
            pin_status, pin_props = _pin_check(resolver.host(found.path))
            props.extend(pin_props)
            status = status if status is not Status.OK else pin_status
    else:
        status, digest = found.status, None
        props.append(("detail", found.detail))
    purl_path = f"{quote(owner.lower(), safe='')}/{quote(repo.lower(), safe='')}"
    return Component(
        kind=ComponentKind.ACTION,
        name=f"{owner}/{repo}",
        source=SOURCE,
        version=ref_text,
        path=escape_name(ref.runner_path),
        digest=digest,
        purl=f"pkg:github/{purl_path}@{quote(ref_text, safe='')}",
        status=status,
        properties=tuple(sorted(props)),
    )


def _pin_check(host: bytes) -> tuple[Status, list[tuple[str, str]]]:
    """Pin-check the action's manifests (and what they pull in); every finding counts."""
    from envsecops.pins.engine import PinCheckOptions, run_pin_check
    from envsecops.policy.pins import PinsPolicy

    base = Path(os.fsdecode(host))
    options = PinCheckOptions(paths=(base,), base=base, include=MANIFESTS, jobs=1)
    try:
        report = run_pin_check(options, PinsPolicy(source=None))
    except (OSError, ValueError, RecursionError) as exc:
        detail = f"pin-check could not run: {type(exc).__name__}: {exc}"
        return Status.UNREADABLE, [("pin-check", detail)]
    findings = [*report.findings, *(s.finding for s in report.suppressed)]
    findings.sort(key=lambda f: f.sort_key())
    by_rule = Counter(f.rule_id for f in findings)
    props = [
        ("manifests", str(sum(1 for _rel, kind in report.files if kind.value == "action"))),
        ("pin-findings", str(len(findings))),
    ]
    if report.suppressed:
        props.append(("pin-ignored-inline", str(len(report.suppressed))))
    if by_rule:
        props.append(
            ("pin-findings-by-rule", ",".join(f"{r}={n}" for r, n in sorted(by_rule.items())))
        )
    unpinned = sorted({f.reference for f in findings if f.rule_id == "unpinned-uses"})
    if unpinned:
        props.append(("unpinned-uses", ",".join(unpinned)))
    if findings:
        listed = [f"{f.path}:{f.line} {f.rule_id} {f.reference}" for f in findings[:MAX_LISTED]]
        more = len(findings) - len(listed)
        props.append(
            ("pin-finding-list", "; ".join(listed) + (f"; and {more} more" if more else ""))
        )
    return Status.OK, props
