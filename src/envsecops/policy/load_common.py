"""Strict typed reads out of the policy's YAML nodes, each defect an InputError with its key path.

Every reader takes the node and its key path (`runner.images[1].versions`) and returns a plain
value, or raises an InputError naming the file, line, column and key path, with the example
of that section as the fix. Scalars are the strings written: nothing is resolved the YAML 1.1
way, and the words YAML 1.1 would turn into booleans or null are refused where they would be
ambiguous.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from envsecops.errors import InputError
from envsecops.policy.ledger import YAML11_WORDS
from envsecops.policy.load_examples import example_for
from envsecops.syntax.yaml import (
    MERGE_KEY,
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    items,
    position,
)

BOOLEAN_LOOKALIKES = frozenset(
    {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON"}
    | {"off", "Off", "OFF", "True", "TRUE", "False", "FALSE"}
)
"""Plain words YAML 1.1 reads as booleans; a boolean setting is written `true` or `false`."""
_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_HEX = frozenset("0123456789abcdefABCDEF")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_DURATION = re.compile(r"^([0-9]{1,6})([smh])$")
_UNITS = {"s": 1, "m": 60, "h": 3600}

Entry = tuple[str, Node, Node]
"""A mapping entry: (key text, key node, value node)."""


def child(where: str, key: str) -> str:
    """The key path of ``key`` inside ``where``: `runner.images`, `binaries["/usr/bin/git"]`."""
    if _SIMPLE_KEY.match(key):
        return f"{where}.{key}" if where else key
    return f"{where}[{json.dumps(key, ensure_ascii=False)}]"


def index(where: str, number: int) -> str:
    """The key path of a list item (0-based, as in JSON paths)."""
    return f"{where}[{number}]"


def human_duration(seconds: int) -> str:
    """90s, 10m, 1h — the shortest exact form."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def found(node: Node) -> str:
    """What a node is, for an error message."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if isinstance(node, ScalarNode) and node.value == "" and not node.style:
        return "no value"
    return f"the string {node.value!r}"


def _name(where: str) -> str:
    return f"`{where}`" if where else "the policy file"


@dataclass(frozen=True, slots=True)
class Reader:
    """Reads one policy document for ``display`` (the path shown in every error)."""

    display: str

    def fail(self, node: Node | None, where: str, message: str) -> InputError:
        """An InputError at ``node`` with the example of the section ``where`` is in."""
        line, column = position(node) if node is not None else (None, None)
        return InputError(
            message, path=self.display, line=line, column=column, fix=example_for(where)
        )

    def mapping(self, node: Node, where: str, allowed: frozenset[str] | None = None) -> list[Entry]:
        """The entries of a mapping; unknown keys (when ``allowed`` is given) are refused."""
        if not isinstance(node, MappingNode):
            hint = (
                ": write `{}` for an empty mapping, or remove the key"
                if found(node) == "no value"
                else ""
            )
            raise self.fail(
                node, where, f"{_name(where)} must be a mapping, not {found(node)}{hint}"
            )
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                raise self.fail(key, where, f"keys in {_name(where)} must be strings")
            if (
                key.value == MERGE_KEY
                and key.tag != "tag:yaml.org,2002:str"
                and not all(
                    isinstance(part, MappingNode)
                    for part in (value.value if isinstance(value, SequenceNode) else [value])
                )
            ):
                raise self.fail(value, where, "a `<<` merge key must name a mapping (an alias)")
        entries = list(items(node))
        if allowed is not None:
            for name, key, _value in entries:
                if name not in allowed:
                    raise self.fail(
                        key,
                        where,
                        f"unknown key {name!r} in {_name(where)} "
                        f"(allowed: {', '.join(sorted(allowed))})",
                    )
        return entries

    def fields(self, node: Node, where: str, allowed: frozenset[str]) -> dict[str, Node]:
        """A mapping with a fixed key set, as key → value node."""
        return {name: value for name, _key, value in self.mapping(node, where, allowed)}

    def sequence(self, node: Node, where: str, *, empty: str | None = None) -> list[Node]:
        """The items of a list; ``empty`` (the reason) refuses an empty list."""
        if not isinstance(node, SequenceNode):
            raise self.fail(node, where, f"{_name(where)} must be a list, not {found(node)}")
        if empty is not None and not node.value:
            raise self.fail(node, where, f"{_name(where)} is an empty list: {empty}")
        return list(node.value)

    def text(self, node: Node, where: str) -> str:
        """A non-empty single-line string; a plain YAML 1.1 boolean or null word is refused."""
        if not isinstance(node, ScalarNode):
            raise self.fail(node, where, f"{_name(where)} must be a string, not {found(node)}")
        value = str(node.value)
        if not node.style and value == "":
            raise self.fail(node, where, f"{_name(where)} has no value")
        if not node.style and YAML11_WORDS.match(value):
            raise self.fail(
                node,
                where,
                f"{_name(where)}: {value} is ambiguous (YAML 1.1 reads it as a boolean or "
                "null); quote it if you mean the string",
            )
        if not value.strip() or _CONTROL.search(value):
            raise self.fail(node, where, f"{_name(where)} must be a non-empty single line")
        return value.strip()

    def strings(self, node: Node, where: str, *, empty: str | None = None) -> tuple[str, ...]:
        """A list of strings (duplicates dropped, order kept)."""
        out = [
            self.text(item, index(where, number))
            for number, item in enumerate(self.sequence(node, where, empty=empty))
        ]
        return tuple(dict.fromkeys(out))

    def boolean(self, node: Node, where: str) -> bool:
        """`true` or `false`, unquoted; yes/no/on/off and the like are refused."""
        value = str(node.value) if isinstance(node, ScalarNode) else None
        if isinstance(node, ScalarNode) and not node.style and value in {"true", "false"}:
            return value == "true"
        if value in BOOLEAN_LOOKALIKES or value in {"true", "false"}:
            raise self.fail(
                node,
                where,
                f"{_name(where)}: {value!r} is not a boolean "
                "here (YAML 1.1 and 1.2 read it differently): write true or false, unquoted",
            )
        raise self.fail(node, where, f"{_name(where)} must be true or false, not {found(node)}")

    def digest(self, node: Node, where: str) -> str:
        """One `sha256:<64 lowercase hex>` digest."""
        value = self.text(node, where)
        if _DIGEST.fullmatch(value):
            return value
        hexpart = value.removeprefix("sha256:")
        if len(hexpart) == 64 and set(hexpart) <= _HEX:
            hint = (
                "write the hex digits in lowercase"
                if value.startswith("sha256:")
                else "prefix it with sha256:"
            )
        else:
            hint = "write sha256: followed by 64 lowercase hex digits"
        raise self.fail(node, where, f"{_name(where)}: {value!r} is not a sha256 digest; {hint}")

    def digests(self, node: Node, where: str) -> tuple[str, ...]:
        """One digest or a non-empty list of them (duplicates dropped)."""
        if isinstance(node, ScalarNode):
            return (self.digest(node, where),)
        if not isinstance(node, SequenceNode):
            raise self.fail(
                node,
                where,
                f"{_name(where)} must be a digest or a list of digests, not {found(node)}",
            )
        items_ = self.sequence(
            node, where, empty="it would allow nothing; list a digest or remove the entry"
        )
        return tuple(
            dict.fromkeys(self.digest(item, index(where, n)) for n, item in enumerate(items_))
        )

    def choice(self, node: Node, where: str, allowed: tuple[str, ...]) -> str:
        """One of a fixed set of words."""
        value = self.text(node, where)
        if value not in allowed:
            raise self.fail(
                node, where, f"{_name(where)} must be one of {', '.join(allowed)}, not {value!r}"
            )
        return value

    def duration(self, node: Node, where: str, low: int, high: int) -> int:
        """A duration written 90s, 10m or 1h, in seconds, within [low, high]."""
        value = self.text(node, where)
        match = _DURATION.match(value)
        if match is None:
            raise self.fail(
                node,
                where,
                f"{_name(where)}: {value!r} is not a duration; write a whole number and a unit "
                "like 90s, 10m or 1h",
            )
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if not low <= seconds <= high:
            raise self.fail(
                node,
                where,
                f"{_name(where)}: {value} is outside {human_duration(low)}..{human_duration(high)}",
            )
        return seconds
