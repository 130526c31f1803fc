"""Strict, bounded YAML: node trees with positions, duplicate keys rejected, scalars as strings.

PyYAML is YAML 1.1: resolving scalars would turn ``on`` into ``True`` and ``3.10`` into
``3.1``. We therefore never construct Python objects from untrusted YAML: we compose the
node graph with the C loader (``CSafeLoader``) and read scalar values as the strings they
were written as. Composing shares aliased nodes, so an alias bomb is small in memory; the
walk that validates the tree counts every visit and stops at a cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - only without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

__all__ = [
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "YamlLimits",
    "YamlProblem",
    "comment_start",
    "compose_documents",
    "get",
    "items",
    "position",
    "scalar",
    "sequence",
]

MERGE_KEY = "<<"


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """Caps that keep hostile YAML bounded."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 64
    max_visits: int = 500_000
    max_alias_visits: int = 10_000


DEFAULT_LIMITS = YamlLimits()


class YamlProblem(Exception):
    """A YAML file that cannot be trusted: kind is parse-error, duplicate-key or input-too-large."""

    def __init__(self, kind: str, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column


def compose_documents(text: str, limits: YamlLimits = DEFAULT_LIMITS) -> list[Node]:
    """Compose every document in ``text``; raise YamlProblem on any defect."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise YamlProblem(
            "input-too-large",
            f"file is larger than the {limits.max_bytes} byte limit for YAML",
            1,
            1,
        )
    try:
        documents = [doc for doc in yaml.compose_all(text, Loader=_Loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem("parse-error", f"YAML syntax error: {problem}", line, column) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem("parse-error", f"YAML error: {exc}", 1, 1) from exc
    except RecursionError as exc:
        raise YamlProblem("input-too-large", "YAML nesting is too deep to parse", 1, 1) from exc
    for document in documents:
        _validate(document, limits)
    return documents


def _validate(root: Node, limits: YamlLimits) -> None:
    """Reject duplicate keys and enforce depth and visit caps, iteratively."""
    seen: set[int] = set()
    visits = 0
    alias_visits = 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        visits += 1
        if id(node) in seen:
            alias_visits += 1
        elif not isinstance(node, ScalarNode):
            seen.add(id(node))
        if (
            depth > limits.max_depth
            or visits > limits.max_visits
            or (alias_visits > limits.max_alias_visits)
        ):
            line, column = position(node)
            what = "nesting depth" if depth > limits.max_depth else "alias expansion"
            raise YamlProblem(
                "input-too-large",
                f"YAML {what} exceeds the safety limit (depth {limits.max_depth}, "
                f"{limits.max_alias_visits} alias expansions)",
                line,
                column,
            )
        if isinstance(node, MappingNode):
            keys: dict[str, Node] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value != MERGE_KEY:
                    if key.value in keys:
                        first_line, _ = position(keys[key.value])
                        line, column = position(key)
                        raise YamlProblem(
                            "duplicate-key",
                            f"duplicate key {key.value!r} (first defined on line {first_line}); "
                            "YAML would silently keep only the last one",
                            line,
                            column,
                        )
                    keys[key.value] = key
                if id(value) not in seen or not isinstance(value, ScalarNode):
                    stack.append((value, depth + 1))
                if not isinstance(key, ScalarNode):
                    stack.append((key, depth + 1))
        elif isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def position(node: Node) -> tuple[int, int]:
    """1-based (line, column) where the node starts."""
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def end_position(node: Node) -> tuple[int, int]:
    """1-based (line, column) just after the node ends."""
    mark = node.end_mark
    return mark.line + 1, mark.column + 1


def items(node: Node | None) -> Iterator[tuple[str, Node, Node]]:
    """Yield (key, key node, value node) of a mapping, following ``<<`` merges.

    Explicit keys win over merged ones, as YAML specifies. Non-scalar keys are skipped.
    """
    if not isinstance(node, MappingNode):
        return
    explicit: set[str] = set()
    merged: list[Node] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            if key.value == MERGE_KEY and key.tag != "tag:yaml.org,2002:str":
                merged.extend(value.value if isinstance(value, SequenceNode) else [value])
                continue
            explicit.add(key.value)
            yield key.value, key, value
    emitted = set(explicit)
    for source in merged:
        for name, key, value in items(source):
            if name not in emitted:
                emitted.add(name)
                yield name, key, value


def get(node: Node | None, key: str) -> Node | None:
    """The value node for ``key`` in a mapping node, or None."""
    for name, _key, value in items(node):
        if name == key:
            return value
    return None


def scalar(node: Node | None) -> str | None:
    """The scalar's text as written (never resolved to bool/float), or None."""
    if isinstance(node, ScalarNode):
        return str(node.value)
    return None


def sequence(node: Node | None) -> list[Node]:
    """The children of a sequence node, or an empty list."""
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def comment_start(rest: str, previous: str = "") -> tuple[int | None, bool]:
    """Where a comment starts in ``rest`` (the line after a value); and whether a quote is open.

    A `#` starts a comment only after a space or tab and outside quotes (YAML 1.2 §6.6).
    """
    quote: str | None = None
    index = 0
    while index < len(rest):
        char = rest[index]
        if quote == "'":
            if char == "'" and rest[index + 1 : index + 2] == "'":
                index += 1
            elif char == "'":
                quote = None
        elif quote == '"':
            if char == "\\":
                index += 1
            elif char == '"':
                quote = None
        elif char == "#" and previous in {" ", "\t"}:
            return index, False
        elif char in {"'", '"'} and previous in {" ", "\t", ",", "[", "{", ":"}:
            quote = char
        previous = char
        index += 1
    return None, quote is not None
