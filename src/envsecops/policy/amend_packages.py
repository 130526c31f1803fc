"""`policy propose` for `packages.allow`: extend an exact rule's version list, or add a rule."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from envsecops.policy.amend_edit import (
    INDENT,
    Cannot,
    Editor,
    Leaf,
    key_node,
    proposed,
)
from envsecops.policy.render_yaml import flow_list, scalar
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, SequenceNode, get

if TYPE_CHECKING:
    from envsecops.model.decision import Reason
    from envsecops.policy.allowable import Entry


def rule_text(purl: str, versions: list[str]) -> str:
    """One allow rule in flow style: ``{purl: pkg:pypi/x, versions: ["1.0"]}``."""
    if not versions:
        return f"{{purl: {scalar(purl)}}}"
    return f"{{purl: {scalar(purl)}, versions: {flow_list(versions)}}}"


def add_packages(
    editor: Editor,
    root: MappingNode | None,
    pairs: list[tuple[Entry, Reason]],
    appended: list[str],
) -> list[tuple[Leaf, list[Reason]]]:
    """Register the edits `packages.allow` needs; return each purl's leaf and its reasons."""
    grouped: dict[str, list[tuple[Entry, Reason]]] = defaultdict(list)
    for entry, reason in pairs:
        grouped[entry.keys[0]].append((entry, reason))
    leaves: list[tuple[Leaf, list[Reason]]] = []
    for _purl, group in sorted(grouped.items()):
        values = {entry.value for entry, _ in group}
        versions = [] if "" in values else sorted(values)
        leaf = Leaf(versions, {reason.code for _, reason in group})
        leaves.append((leaf, [reason for _, reason in group]))
    packages = get(root, "packages") if root is not None else None
    allow = key_node(packages, "allow") if isinstance(packages, MappingNode) else None
    new: list[tuple[str, Leaf]] = []
    for (purl, _group), (leaf, _reasons) in zip(sorted(grouped.items()), leaves, strict=True):
        versions_node = _exact_rule(allow[1], purl) if allow is not None else None
        if versions_node is not None and leaf.values:
            try:
                editor.extend(versions_node, leaf)
            except Cannot as exc:
                leaf.refusal = f"packages.allow {purl}: {exc}"
            continue
        new.append((purl, leaf))
    if not new:
        return leaves
    items = [(rule_text(purl, leaf.values), leaf.comment()) for purl, leaf in new]
    try:
        leaves_new, purls = [leaf for _p, leaf in new], [purl for purl, _l in new]
        _add_rules(editor, root, packages, allow, items, appended, leaves_new, purls)
    except Cannot as exc:
        for _purl, leaf in new:
            leaf.refusal = f"packages.allow: {exc}"
    return leaves


def _exact_rule(allow: Node, purl: str) -> Node | None:
    """The `versions` list of an allow rule written for exactly ``purl``, if there is one."""
    if not isinstance(allow, SequenceNode):
        return None
    for item in allow.value:
        found = key_node(item, "purl") if isinstance(item, MappingNode) else None
        if found is None or not isinstance(found[1], ScalarNode) or found[1].value != purl:
            continue
        versions = key_node(item, "versions")
        if versions is not None and isinstance(versions[1], SequenceNode):
            return versions[1]
    return None


def _add_rules(
    editor: Editor,
    root: MappingNode | None,
    packages: Node | None,
    allow: tuple[Node, Node] | None,
    items: list[tuple[str, str]],
    appended: list[str],
    leaves: list[Leaf],
    purls: list[str],
) -> None:
    block = [f"- {text}{comment}" for text, comment in items]
    codes = proposed({code for leaf in leaves for code in leaf.codes})
    if root is None or packages is None:
        appended += ["packages:", f"{INDENT}allow:", *(INDENT * 2 + line for line in block)]
        return
    if not isinstance(packages, MappingNode):
        raise Cannot("`packages` is not a mapping")
    if allow is None:
        if packages.flow_style:
            raise Cannot("`packages` is written in flow style without `allow`")
        indent = " " * packages.start_mark.column
        lines = [f"{indent}allow:{codes}", *(indent + INDENT + line for line in block)]
        editor.insert_lines_after(editor.last_line(packages), lines)
        return
    sequence = allow[1]
    if not isinstance(sequence, SequenceNode):
        raise Cannot("`packages.allow` is not a list")
    if sequence.flow_style:
        editor.flow_insert(sequence, [text for text, _c in items], codes)
        return
    column = sequence.start_mark.column
    existing = []
    for item in sequence.value:
        found = key_node(item, "purl") if isinstance(item, MappingNode) else None
        name = found[1].value if found is not None and isinstance(found[1], ScalarNode) else ""
        existing.append((str(name), item.start_mark.line, editor.entry_end(item, column)))
    by_purl = {purl: (text, comment) for purl, (text, comment) in zip(purls, items, strict=True)}
    for line, names in editor.placed(list(by_purl), existing).items():
        lines = [f"{' ' * column}- {by_purl[n][0]}{by_purl[n][1]}" for n in names]
        editor.insert_lines_after(line, lines)
