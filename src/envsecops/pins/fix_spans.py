"""Text edits for --fix: the exact span of a `uses:` value, its comment, and a read-back proof.

Pure functions over a file's text and its composed YAML nodes: no I/O. A value is rewritten
only when its raw text is the value itself (plain or simply quoted, on one line); the result
must compose to the same node tree except for the values meant to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from envsecops.pins.rules.pin_comment import comment_version
from envsecops.syntax.yaml import MappingNode, Node, ScalarNode, SequenceNode, comment_start

LINE_BREAKS = re.compile("[\r\n\x85\u2028\u2029]")
SAFE_COMMENT = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+/@-]{0,127}")
QUOTES = {"": "", '"': '"', "'": "'"}


class Unfixable(Exception):
    """A `uses:` that cannot be rewritten safely; the message says why."""


@dataclass(frozen=True, slots=True)
class SpanEdit:
    """Replace ``text[start:end]`` with ``replacement``; ``note`` explains a dropped comment."""

    start: int
    end: int
    replacement: str
    note: str | None = None


def _quote_style(node: ScalarNode) -> str:
    style = node.style or ""
    if style not in QUOTES:
        raise Unfixable("written as a block scalar (`|` or `>`): rewrite it as one line by hand")
    return style


def value_edit(
    text: str, node: ScalarNode, old_value: str, new_value: str, comment: str | None
) -> SpanEdit:
    """The edit that turns the scalar ``node`` (holding ``old_value``) into ``new_value``.

    The raw span must read back exactly as the value in its quotes (no anchor, tag, escapes or
    folding); otherwise the value is not rewritten. ``comment`` replaces the line's trailing
    version comment, goes before any other comment, or is appended at the end of the line.
    """
    quote = QUOTES[_quote_style(node)]
    start, end = node.start_mark.index, node.end_mark.index
    raw = text[start:end]
    if raw != f"{quote}{old_value}{quote}" or LINE_BREAKS.search(raw):
        raise Unfixable(
            "written with an anchor, a tag, escapes or across lines: rewrite it by hand"
        )
    replacement = f"{quote}{new_value}{quote}"
    if comment is None or not SAFE_COMMENT.fullmatch(comment):
        return SpanEdit(start, end, replacement)
    found = LINE_BREAKS.search(text, end)
    line_end = found.start() if found else len(text)
    rest = text[end:line_end]
    at, open_quote = comment_start(rest, text[end - 1])
    if open_quote:
        return SpanEdit(
            start, end, replacement, note="no version comment: a quoted value continues below"
        )
    if at is None:
        code = rest.rstrip(" \t")
        return SpanEdit(start, line_end, f"{replacement}{code} # {comment}{rest[len(code) :]}")
    body = rest[at + 1 :]
    if comment_version(body) is None:
        return SpanEdit(start, line_end, f"{replacement}{rest[:at]}# {comment} {rest[at:]}")
    trail = body[len(body.rstrip(" \t")) :]
    return SpanEdit(start, line_end, f"{replacement}{rest[:at]}# {comment}{trail}")


def apply_edits(text: str, edits: Iterable[SpanEdit]) -> str:
    """Apply non-overlapping edits, last first so earlier offsets stay valid."""
    out = text
    previous_start = len(text) + 1
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        if edit.end > previous_start:
            raise Unfixable("two edits overlap")
        out = out[: edit.start] + edit.replacement + out[edit.end :]
        previous_start = edit.start
    return out


def same_tree(before: list[Node], after: list[Node], changed: Mapping[int, str]) -> bool:
    """Whether ``after`` is ``before`` with exactly the ``changed`` scalars (by node id) replaced.

    Comments are not in the tree, so this proves an edit changed no value it did not mean to.
    """
    if len(before) != len(after):
        return False
    stack = list(zip(before, after, strict=True))
    seen: set[tuple[int, int]] = set()
    while stack:
        old, new = stack.pop()
        if (id(old), id(new)) in seen:
            continue
        seen.add((id(old), id(new)))
        if type(old) is not type(new) or old.tag != new.tag:
            return False
        if isinstance(old, ScalarNode) and isinstance(new, ScalarNode):
            if new.value != changed.get(id(old), old.value) or old.style != new.style:
                return False
        elif isinstance(old, SequenceNode | MappingNode):
            if len(old.value) != len(new.value):
                return False
            if isinstance(old, SequenceNode):
                stack.extend(zip(old.value, new.value, strict=True))
            else:
                for (old_key, old_value), (new_key, new_value) in zip(
                    old.value, new.value, strict=True
                ):
                    stack.extend([(old_key, new_key), (old_value, new_value)])
    return True
