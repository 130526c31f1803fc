"""Text edits to an existing policy file that keep every byte outside the edits, comments included.

The YAML tree (composed once, with positions) says where a section, a key or a list ends; the
editor inserts new keys and list items there, in the style already used (block or flow), each
with a trailing ``# proposed: <reason code>`` comment, and appends a missing section at the end.
Edits are offsets into the original text, applied last to first.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass

from envsecops.policy.render_yaml import flow_list, scalar
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, SequenceNode, items

INDENT = "  "
WORDS = frozenset({"any", "withheld"})
"""Leaf values written as a bare word instead of a list (`env.allowed`, `configs`)."""


@dataclass
class Leaf:
    """Values to add to one list (digests, SHAs, versions), the codes that asked for them, and
    what to say when the list cannot take them."""

    values: list[str]
    codes: set[str]
    refusal: str | None = None

    def comment(self) -> str:
        """The trailing comment for the edited line."""
        return proposed(self.codes)

    def text(self) -> str:
        """The value as written: ``[a, b]``, or a bare ``any`` / ``withheld``."""
        if len(self.values) == 1 and self.values[0] in WORDS:
            return self.values[0]
        return flow_list(self.values)


Tree = Mapping[str, "Leaf | Tree"]
"""Keys to merge into a mapping: nested mappings end in leaves."""


class Cannot(Exception):
    """The existing text has a shape the editor will not touch (the reason says which)."""


def key_node(mapping: Node, name: str) -> tuple[Node, Node] | None:
    """(key node, value node) of ``name`` in a mapping node, or None."""
    for text, key, value in items(mapping):
        if text == name:
            return key, value
    return None


class Editor:
    """Collects edits against one text and applies them in one pass."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.starts = [0]
        at = text.find("\n")
        while at != -1:
            self.starts.append(at + 1)
            at = text.find("\n", at + 1)
        self._edits: list[tuple[int, int, int, str]] = []

    # -- positions ------------------------------------------------------------------------
    def offset(self, line: int, column: int) -> int:
        """Offset of a 0-based (line, column)."""
        return self.starts[line] + column

    def line_end(self, line: int) -> int:
        """Offset where a 0-based line's content ends (before its line break)."""
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        if end > self.starts[line] and self.text[end - 1 : end] == "\r":
            end -= 1
        return end

    def last_line(self, node: Node) -> int:
        """The 0-based line where a node's content ends."""
        if isinstance(node, MappingNode) and not node.flow_style and node.value:
            return self.last_line(node.value[-1][1])
        if isinstance(node, SequenceNode) and not node.flow_style and node.value:
            return self.last_line(node.value[-1])
        line = node.end_mark.line
        if node.end_mark.column == 0 and line > node.start_mark.line:
            line -= 1
        return line

    # -- edits ----------------------------------------------------------------------------
    def replace(self, start: int, end: int, text: str) -> None:
        """Replace ``[start, end)`` with ``text``."""
        self._edits.append((start, end, len(self._edits), text))

    def insert_lines_after(self, line: int, lines: list[str]) -> None:
        """Insert whole lines after a 0-based line."""
        at = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        body = self.newline.join(lines) + self.newline
        if at == len(self.text) and not self.text.endswith("\n"):
            body = self.newline + body.removesuffix(self.newline)
        self.replace(at, at, body)

    def comment_line(self, line: int, comment: str) -> None:
        """Append a trailing comment to a line."""
        at = self.line_end(line)
        self.replace(at, at, comment)

    def append(self, lines: list[str]) -> None:
        """Append lines at the end of the document, after a blank line."""
        lead = "" if not self.text or self.text.endswith("\n") else self.newline
        if self.text.strip():
            lead += self.newline
        self.replace(len(self.text), len(self.text), lead + self.newline.join(lines) + self.newline)

    def result(self) -> str:
        """The text with every edit applied."""
        pieces: list[str] = []
        done = 0
        for start, end, _seq, text in sorted(self._edits, key=lambda e: (e[0], e[2])):
            if start < done:
                raise Cannot("two edits overlap")
            pieces += [self.text[done:start], text]
            done = end
        pieces.append(self.text[done:])
        return "".join(pieces)

    # -- structure ------------------------------------------------------------------------
    def merge(self, mapping: Node, tree: Tree, key_column: int) -> None:
        """Merge ``tree`` into an existing mapping (block or flow)."""
        new: list[tuple[str, Leaf | Tree]] = []
        keys = {name: (key, value) for name, key, value in reversed(list(items(mapping)))}
        for name, want in tree.items():
            found = keys.get(name)
            if found is None:
                new.append((name, want))
                continue
            try:
                if isinstance(want, Leaf):
                    self.extend(found[1], want)
                elif isinstance(found[1], MappingNode):
                    self.merge(found[1], want, found[1].start_mark.column)
                else:
                    raise Cannot(f"`{name}` is not a mapping, so nothing can be added under it")
            except Cannot as exc:
                refuse(want, f"{name}: {exc}")
        if not new:
            return
        if not isinstance(mapping, MappingNode):
            raise Cannot("expected a mapping")
        if mapping.flow_style:
            codes = set().union(*(codes_of(want) for _name, want in new))
            texts = [f"{scalar(k)}: {flow_text(v)}" for k, v in new]
            self.flow_insert(mapping, texts, proposed(codes))
            return
        indent = " " * key_column
        existing = [
            (name, key.start_mark.line, self.entry_end(value, key_column))
            for name, key, value in items(mapping)
        ]
        for line, group in self.placed([name for name, _want in new], existing).items():
            wanted = dict(new)
            lines = [text for name in group for text in block_lines(name, wanted[name], indent)]
            self.insert_lines_after(line, lines)

    def entry_end(self, node: Node, column: int) -> int:
        """The last line of an entry: its value, then comment lines indented deeper than its key
        (they belong to it)."""
        line = self.last_line(node)
        while line + 1 < len(self.starts):
            text = self.text[self.starts[line + 1] : self.line_end(line + 1)]
            stripped = text.lstrip(" ")
            if not stripped.startswith("#") or len(text) - len(stripped) <= column:
                break
            line += 1
        return line

    @staticmethod
    def placed(names: list[str], existing: list[tuple[str, int, int]]) -> dict[int, list[str]]:
        """After which line each new entry goes, given the existing (name, first line, last
        line): in its group (same directory, owner or purl type) after the last entry that
        sorts before it, or just before the group's first entry; else after the last entry."""
        last = max((end for _name, _start, end in existing), default=-1)
        groups: dict[str, list[tuple[str, int, int]]] = {}
        for entry in existing:
            groups.setdefault(group_of(entry[0]), []).append(entry)
        index: dict[str, tuple[list[str], list[int], int]] = {}
        for group, members in groups.items():
            members.sort()
            reach, running = [], -1
            for _other, _start, end in members:
                running = max(running, end)
                reach.append(running)
            first = min(start for _other, start, _end in members)
            index[group] = ([other for other, _s, _e in members], reach, first)
        out: dict[int, list[str]] = {}
        for name in sorted(names):
            found = index.get(group_of(name)) if group_of(name) else None
            if found is None:
                line = last
            else:
                count = bisect.bisect_right(found[0], name)
                line = found[1][count - 1] if count else found[2] - 1
            out.setdefault(line, []).append(name)
        return out

    def extend(self, node: Node, leaf: Leaf) -> None:
        """Add values to the list (or single value) a key holds."""
        if isinstance(node, MappingNode):
            found = key_node(node, "shas")
            if found is None:
                raise Cannot("the entry has no `shas` list to extend")
            self.extend(found[1], leaf)
            return
        if isinstance(node, ScalarNode) and not node.style and node.value in {"any", "any-sha"}:
            return
        if WORDS.intersection(leaf.values):
            raise Cannot(f"the entry lists values; writing {leaf.text()} there would replace them")
        if isinstance(node, ScalarNode):
            if not node.style and node.value == "withheld":
                raise Cannot("the entry says `withheld`; replace it by hand if a digest is meant")
            start = self.offset(node.start_mark.line, node.start_mark.column)
            end = self.offset(node.end_mark.line, node.end_mark.column)
            fresh = [v for v in leaf.values if v != node.value]
            if not fresh:
                return
            written = self.text[start:end]
            self.replace(start, end, "[" + ", ".join([written, *map(scalar, fresh)]) + "]")
            self.comment_line(node.end_mark.line, leaf.comment())
            return
        if not isinstance(node, SequenceNode):
            raise Cannot("expected a list")
        present = {child.value for child in node.value if isinstance(child, ScalarNode)}
        fresh = [v for v in leaf.values if v not in present]
        if not fresh:
            return
        if node.flow_style:
            self.flow_insert(node, [scalar(v) for v in fresh], leaf.comment())
            return
        dash = " " * node.start_mark.column
        lines = [f"{dash}- {scalar(v)}{leaf.comment()}" for v in fresh]
        self.insert_lines_after(self.last_line(node), lines)

    def flow_insert(self, node: Node, texts: list[str], comment: str) -> None:
        """Add items (or ``key: value`` pairs) before the closing bracket of a flow collection."""
        close = self.offset(node.end_mark.line, node.end_mark.column) - 1
        if self.text[close : close + 1] not in {"]", "}"}:
            raise Cannot("a flow collection whose end cannot be found")
        joined = ", ".join(texts)
        self.replace(close, close, (", " if node.value else "") + joined)
        self.comment_line(node.end_mark.line, comment)


def refuse(want: Leaf | Tree, why: str) -> None:
    """Mark every leaf under ``want`` as refused, with the reason."""
    if isinstance(want, Leaf):
        want.refusal = why
        return
    for child in want.values():
        refuse(child, why)


def group_of(key: str) -> str:
    """The group an entry sorts into: a purl's type, a path's directory, an action's owner."""
    if key.startswith("pkg:"):
        return key.partition("/")[0]
    return key.rpartition("/")[0] if "/" in key else ""


def proposed(codes: set[str]) -> str:
    """``  # proposed: <codes>``."""
    return "  # proposed: " + ", ".join(sorted(codes))


def codes_of(want: Leaf | Tree) -> set[str]:
    """Every reason code under ``want``."""
    if isinstance(want, Leaf):
        return set(want.codes)
    out: set[str] = set()
    for child in want.values():
        out |= codes_of(child)
    return out


def flow_text(want: Leaf | Tree) -> str:
    """A value in flow style: ``[a, b]`` or ``{k: [a]}``."""
    if isinstance(want, Leaf):
        return want.text()
    return "{" + ", ".join(f"{scalar(k)}: {flow_text(v)}" for k, v in want.items()) + "}"


def block_lines(name: str, want: Leaf | Tree, indent: str) -> list[str]:
    """``name: value`` as block lines at ``indent``, each leaf with its proposed comment."""
    if isinstance(want, Leaf):
        return [f"{indent}{scalar(name)}: {want.text()}{want.comment()}"]
    lines = [f"{indent}{scalar(name)}:{proposed(codes_of(want))}"]
    for child, value in want.items():
        lines += block_lines(child, value, indent + INDENT)
    return lines
