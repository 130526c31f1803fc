"""`policy propose`: the edit a policy needs so that a new bag passes, and what it refuses.

:func:`amend_policy` evaluates the bag, and for every reason an allowlist entry can fix
(an unlisted or changed binary, config, tool-cache tree, package, risky variable or action
commit) inserts or extends the entry in the policy's own text: comments, order and quoting
outside the edits are kept byte for byte, each edited line says ``# proposed: <reason code>``,
and a missing section is appended at the end. Reasons no allowlist edit should clear (a
denied package or SBOM gate, a runner mismatch, a component problem, drift, pin findings, a
tag-pinned action, the runner facts) are *refused*: listed for the reviewer, never edited.
The result is loaded and evaluated again; whatever it still denies is exactly ``refused``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from envsecops.errors import EnvsecopsError, InputError
from envsecops.model.bag import Bag, Component
from envsecops.model.decision import Reason
from envsecops.policy.allowable import SECTIONS, Entry, classify, label
from envsecops.policy.amend_edit import Cannot, Editor, Leaf, Tree, block_lines, refuse
from envsecops.policy.amend_packages import add_packages
from envsecops.policy.model import Policy
from envsecops.syntax.yaml import MappingNode, YamlProblem, compose_documents, get

FIXABLE: dict[str, str] = {
    "binary.unlisted": "binaries",
    "binary.digest": "binaries",
    "config.unlisted": "configs",
    "config.digest": "configs",
    "toolchain.unlisted": "tool-cache",
    "toolchain.digest": "tool-cache",
    "package.unlisted": "packages",
    "package.version": "packages",
    "env.forbidden": "env",
    "env.value": "env",
    "action.unlisted": "actions",
    "action.sha": "actions",
}
"""Reason codes an allowlist entry can clear, and the section that holds the entry."""
MAX_ROUNDS = 20
"""A decision keeps at most MAX_REASONS reasons; each round clears those it sees."""


@dataclass(frozen=True, slots=True)
class Amendment:
    """The amended policy text, what was added (human lines), and what was refused and why."""

    text: str
    added: tuple[str, ...]
    refused: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether any entry was added."""
        return bool(self.added)


@dataclass(slots=True)
class _Wanted:
    """The entries one round wants, keyed by section, each with the reasons asking for it."""

    by_section: dict[str, list[tuple[Entry, Reason]]]


def amend_policy(text: str, policy: Policy, bag: Bag) -> Amendment:
    """Add to ``text`` (the file ``policy`` was loaded from) what ``bag`` needs."""
    from envsecops.policy.evaluate import evaluate

    subjects: dict[str, list[Component]] = defaultdict(list)
    for component in bag.components:
        subjects[label(component)].append(component)
    notes: dict[tuple[str, str], str] = {}
    added: list[str] = []
    current_text, current = text, policy
    reasons = evaluate(current, bag)
    for _round in range(MAX_ROUNDS):
        wanted = _plan(reasons, subjects, notes)
        if not wanted.by_section:
            break
        new_text, lines = _apply(current_text, wanted, notes, policy.source)
        if new_text == current_text:
            break
        current_text, current = new_text, _reload(new_text, policy.source)
        added += lines
        reasons = evaluate(current, bag)
    refused = []
    for reason in reasons:
        note = notes.get((reason.code, reason.subject))
        refused.append(
            f"{reason.code} {reason.subject}: {reason.message}" + (f" [{note}]" if note else "")
        )
    return Amendment(current_text, tuple(added), tuple(refused))


def _plan(
    reasons: list[Reason], subjects: dict[str, list[Component]], notes: dict[tuple[str, str], str]
) -> _Wanted:
    by_section: dict[str, list[tuple[Entry, Reason]]] = defaultdict(list)
    for reason in reasons:
        section = FIXABLE.get(reason.code)
        key = (reason.code, reason.subject)
        if section is None:
            notes.setdefault(key, "not proposed: no allowlist entry should clear this")
            continue
        if key in notes:
            continue
        entries = [
            found
            for component in subjects.get(reason.subject, [])
            if isinstance(found := classify(component, any_env=True), Entry)
            and found.section == section
        ]
        if not entries:
            notes[key] = "not proposed: no allowlist entry can allow this component"
            continue
        by_section[section] += [(entry, reason) for entry in entries]
    return _Wanted(dict(by_section))


def _reload(text: str, source: str) -> Policy:
    from envsecops.policy.load import load_policy_text

    try:
        return load_policy_text(text, source)
    except InputError as exc:
        raise EnvsecopsError(
            f"the amended policy does not load ({exc.message}); nothing was proposed",
            fix="report this with the policy file and bag.json; edit the policy by hand meanwhile",
        ) from exc


def _root(text: str, source: str) -> MappingNode | None:
    try:
        documents = compose_documents(text)
    except YamlProblem as exc:
        raise InputError(exc.message, path=source, line=exc.line, column=exc.column) from exc
    if not documents:
        return None
    if len(documents) != 1 or not isinstance(documents[0], MappingNode):
        raise InputError("the policy file must hold exactly one YAML mapping", path=source)
    return documents[0]


def _tree(pairs: list[tuple[Entry, Reason]], leaves: list[tuple[Leaf, list[Reason]]]) -> Tree:
    """Nested keys → leaves for one section (packages excepted)."""
    tree: dict[str, object] = {}
    grouped: dict[tuple[str, ...], list[tuple[Entry, Reason]]] = defaultdict(list)
    for entry, reason in pairs:
        grouped[entry.keys].append((entry, reason))
    for keys, group in sorted(grouped.items()):
        node = tree
        for key in keys[:-1]:
            node = node.setdefault(key, {})  # type: ignore[assignment]
        values = sorted({entry.value for entry, _ in group})
        leaf = Leaf(values, {reason.code for _, reason in group})
        node[keys[-1]] = leaf
        leaves.append((leaf, [reason for _, reason in group]))
    return tree  # type: ignore[return-value]


def _apply(
    text: str, wanted: _Wanted, notes: dict[tuple[str, str], str], source: str
) -> tuple[str, list[str]]:
    root = _root(text, source)
    editor = Editor(text)
    leaves: list[tuple[Leaf, list[Reason]]] = []
    appended: list[str] = []
    for section in SECTIONS:
        pairs = wanted.by_section.get(section)
        if not pairs:
            continue
        if section == "packages":
            leaves += add_packages(editor, root, pairs, appended)
            continue
        tree = _tree(pairs, leaves)
        if section == "env":
            tree = {"allowed": tree}
        existing = get(root, section) if root is not None else None
        if root is None or existing is None:
            appended += [f"{section}:"]
            for name, want in tree.items():
                appended += block_lines(name, want, "  ")
            continue
        try:
            editor.merge(root, {section: tree}, 0)
        except Cannot as exc:
            refuse(tree, f"{section}: {exc}")
    if appended:
        editor.append(["# proposed by `envsecops policy propose`:", *appended])
    lines: list[str] = []
    for leaf, reasons in leaves:
        for reason in reasons:
            if leaf.refusal is not None:
                notes[(reason.code, reason.subject)] = f"not proposed: {leaf.refusal}"
    for section in SECTIONS:
        for entry, reason in wanted.by_section.get(section, []):
            if (reason.code, reason.subject) not in notes:
                lines.append(f"{entry.describe()} ({reason.code})")
    try:
        return editor.result(), sorted(set(lines))
    except Cannot as exc:
        raise EnvsecopsError(
            f"the edits to {source} collide ({exc}); nothing was proposed",
            fix="report this with the policy file and bag.json; edit the policy by hand meanwhile",
        ) from exc
