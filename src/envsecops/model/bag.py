"""The bag: components and runner facts, their stable JSON form, and the env hash (no I/O)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from typing import Any

from envsecops.canonical import bmp_only, digest, digest_bytes
from envsecops.model.facts import RUNNER_FACTS, ModelError, RunnerFacts, _req, _str

__all__ = [
    "BAG_VERSION",
    "RUNNER_FACTS",
    "Bag",
    "BagDiff",
    "Component",
    "ComponentKind",
    "ModelError",
    "RunnerFacts",
    "Status",
    "diff_bags",
]


BAG_VERSION = "1"


class ComponentKind(StrEnum):
    """What a component is (DESIGN §2)."""

    RUNNER = "runner"
    BINARY = "binary"
    PACKAGE = "package"
    TOOLCHAIN = "toolchain"
    CONFIG = "config"
    ENV = "env"
    ACTION = "action"
    IMAGE = "image"


class Status(StrEnum):
    """Whether a component's content could be read and digested; anything but OK is evidence."""

    OK = "ok"
    UNREADABLE = "unreadable"
    VANISHED = "vanished"
    CHANGED = "changed-while-hashing"
    SPECIAL = "special-file"
    LOOP = "symlink-loop"
    OUTSIDE = "symlink-outside-tree"
    DIGEST_ONLY = "digest-only"


@dataclass(frozen=True, slots=True)
class Component:
    """One item in the bag; ``volatile`` ones (per-run values) are kept but not hashed."""

    kind: ComponentKind
    name: str
    source: str
    version: str | None = None
    path: str | None = None
    digest: str | None = None
    purl: str | None = None
    status: Status = Status.OK
    properties: tuple[tuple[str, str], ...] = ()
    volatile: bool = False

    def key(self) -> tuple[str, str, str, str]:
        """Identity for sorting and drift diffs: kind, source, path, name."""
        return (self.kind._value_, self.source, self.path or "", self.name)

    def prop(self, name: str) -> str | None:
        """The value of one property, or None."""
        return dict(self.properties).get(name)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form; None fields are omitted."""
        out: dict[str, Any] = {"kind": self.kind._value_, "name": self.name, "source": self.source}
        if self.version is not None:
            out["version"] = self.version
        if self.path is not None:
            out["path"] = self.path
        if self.digest is not None:
            out["digest"] = self.digest
        if self.purl is not None:
            out["purl"] = self.purl
        if self.status is not Status.OK:
            out["status"] = self.status._value_
        if self.properties:
            out["properties"] = dict(self.properties)
        if self.volatile:
            out["volatile"] = True
        return out

    @classmethod
    def from_json(cls, data: Any) -> Component:
        """Parse and validate one component (the hot path of reading a bag: kept lean)."""
        if not isinstance(data, Mapping):
            raise ModelError("a component must be a JSON object")
        get = data.get
        kind_text, status_text = get("kind"), get("status", "ok")
        kind = _KINDS.get(kind_text) if type(kind_text) is str else None
        if kind is None:
            _str(data, "kind")
            raise ModelError(f"{kind_text!r} is not a valid ComponentKind")
        status = _STATUSES.get(status_text) if type(status_text) is str else None
        if status is None:
            raise ModelError(f"{status_text!r} is not a valid Status")
        name: Any = get("name")
        source: Any = get("source")
        if type(name) is not str or type(source) is not str:
            _req(data, "name")
            _req(data, "source")
        version, path, digest_, purl = get("version"), get("path"), get("digest"), get("purl")
        for index, value in enumerate((version, path, digest_, purl)):
            if value is not None and type(value) is not str:
                _str(data, _OPTIONAL[index], optional=True)
        props = get("properties")
        properties: tuple[tuple[str, str], ...] = ()
        if props:
            if not isinstance(props, Mapping) or not all(
                type(k) is str and type(v) is str for k, v in props.items()
            ):
                raise ModelError("`properties` must map strings to strings")
            properties = tuple(sorted(props.items()))
        elif props is not None and not isinstance(props, Mapping):
            raise ModelError("`properties` must map strings to strings")
        volatile = get("volatile", False)
        if type(volatile) is not bool:
            raise ModelError("`volatile` must be a boolean")
        if cls is not Component:
            return cls(
                kind, name, source, version, path, digest_, purl, status, properties, volatile
            )
        component: Component = object.__new__(Component)  # see _slot_setters
        _KIND(component, kind)
        _NAME(component, name)
        _SOURCE(component, source)
        _VERSION(component, version)
        _PATH(component, path)
        _DIGEST(component, digest_)
        _PURL(component, purl)
        _STATUS(component, status)
        _PROPS(component, properties)
        _VOLATILE(component, volatile)
        return component


def _slot_setters() -> tuple[Any, ...]:
    """Each Component field's slot setter, in field order, so `from_json` fills a new object
    directly: the object ``Component(...)`` builds (a test holds them equal) without the
    frozen dataclass's per-field ``object.__setattr__`` calls (reading a 10,000-component
    bag is on verify's hot path). Component has no ``__post_init__`` to skip."""
    return tuple(Component.__dict__[f.name].__set__ for f in fields(Component))


(_KIND, _NAME, _SOURCE, _VERSION, _PATH, _DIGEST, _PURL, _STATUS, _PROPS, _VOLATILE) = (
    _slot_setters()
)


_KINDS = {kind.value: kind for kind in ComponentKind}
_COMPONENT_KEYS = frozenset(
    {"kind", "name", "source", "version", "path", "digest", "purl", "status", "properties"}
    | {"volatile"}
)
_STATUSES = {status.value: status for status in Status}
_OPTIONAL = ("version", "path", "digest", "purl")


@dataclass(frozen=True)
class Bag:
    """The inventory of one execution environment.

    ``env_hash`` covers the runner facts and every non-volatile component; the creation
    time, the tool version, per-run values and the skip notes are recorded but not hashed,
    so an unchanged machine gives the same hash on every run.
    """

    runner: RunnerFacts
    components: tuple[Component, ...]
    created_at: str = ""
    tool: str = ""
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def build(
        cls,
        runner: RunnerFacts,
        components: Iterable[Component],
        *,
        created_at: str = "",
        tool: str = "",
        notes: Iterable[str] = (),
    ) -> Bag:
        """A bag with components sorted by key and exact duplicates dropped."""
        unique = {(c.key(), c.digest, c.version): c for c in components}
        ordered = tuple(sorted(unique.values(), key=lambda c: (c.key(), c.digest or "")))
        return cls(runner, ordered, created_at, tool, tuple(notes))

    def hashed_json(self) -> dict[str, Any]:
        """The part of the bag that the env hash covers."""
        return {
            "version": BAG_VERSION,
            "runner": dict(self.runner.facts),
            "components": [c.to_json() for c in self.components if not c.volatile],
        }

    @cached_property
    def env_hash(self) -> str:
        """`sha256:<hex>` of the canonical hashed part (computed once: the bag is frozen)."""
        hashed = self.hashed_json()
        keys = "".join(k for c in self.components for k, _ in c.properties)
        return _plain_digest(hashed, keys) or digest(hashed)

    def to_json(self) -> dict[str, Any]:
        """The full manifest (`bag.json`), env hash included."""
        return {
            "version": BAG_VERSION,
            "env_hash": self.env_hash,
            "created_at": self.created_at,
            "tool": self.tool,
            "runner": self.runner.to_json(),
            "components": [c.to_json() for c in self.components],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Any) -> Bag:
        """Parse a manifest; its stated env hash must match the recomputed one."""
        if not isinstance(data, Mapping):
            raise ModelError("a bag must be a JSON object")
        if data.get("version") != BAG_VERSION:
            raise ModelError(f"unsupported bag version {data.get('version')!r}")
        items = data.get("components")
        notes = data.get("notes", [])
        if not isinstance(items, list) or not isinstance(notes, list):
            raise ModelError("`components` and `notes` must be lists")
        if not all(isinstance(n, str) for n in notes):
            raise ModelError("`notes` must be strings")
        bag = cls(
            runner=RunnerFacts.from_json(data.get("runner")),
            components=tuple(Component.from_json(c) for c in items),
            created_at=_str(data, "created_at", optional=True) or "",
            tool=_str(data, "tool", optional=True) or "",
            notes=tuple(notes),
        )
        order = [
            (c.kind._value_, c.source, c.path or "", c.name, c.digest or "") for c in bag.components
        ]  # (key(), digest) flattened: the same order, built without a call per component
        if any(a > b for a, b in pairwise(order)):
            raise ModelError("components are not in canonical order")
        if all(_in_stable_form(c) for c in items):
            # The parsed JSON is already each component's to_json(): hash it as it is rather
            # than rebuilding it (the tests hold this equal to the slow path).
            hashed = {
                "version": BAG_VERSION,
                "runner": dict(bag.runner.facts),
                "components": [c for c in items if not c.get("volatile")],
            }
            keys = "".join(k for c in bag.components for k, _ in c.properties)
            seeded = _plain_digest(hashed, keys)
            if seeded is not None:
                bag.__dict__["env_hash"] = seeded
        try:
            computed = bag.env_hash
        except ValueError as exc:  # rfc8785 refuses lone surrogates
            raise ModelError(f"the bag cannot be canonicalised: {exc}") from exc
        if data.get("env_hash") != computed:
            raise ModelError("the stated env_hash does not match the components")
        return bag


def _in_stable_form(item: Mapping[str, Any]) -> bool:
    """Whether a (validated) component's JSON is exactly what `Component.to_json` writes."""
    return (
        item.keys() <= _COMPONENT_KEYS
        and None not in item.values()
        and item.get("status") != "ok"
        and item.get("properties", True) != {}
        and item.get("volatile", True) is True
    )


def _plain_digest(hashed: dict[str, Any], property_keys: str) -> str | None:
    """The digest of ``hashed`` through the C encoder, or None where RFC 8785 differs.

    Every value in the hashed part is a string or a boolean (the fields are typed so, and
    `from_json` checks it), so sorted compact output is already RFC 8785 unless a dynamic
    key (a property or runner fact name) lies outside the Basic Multilingual Plane, where
    UTF-16 order differs, or a lone surrogate makes the text unencodable.
    """
    if not bmp_only(property_keys + "".join(hashed["runner"])):
        return None
    try:
        text = json.dumps(hashed, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return digest_bytes(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


@dataclass(frozen=True, slots=True)
class BagDiff:
    """What changed between two bags, by component key."""

    added: tuple[Component, ...]
    removed: tuple[Component, ...]
    changed: tuple[tuple[Component, Component], ...]

    @property
    def empty(self) -> bool:
        """No difference in hashed content."""
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form (`drift.json`, the body of a drift ledger entry)."""
        return {
            "added": [c.to_json() for c in self.added],
            "removed": [c.to_json() for c in self.removed],
            "changed": [{"before": a.to_json(), "after": b.to_json()} for a, b in self.changed],
        }

    @classmethod
    def from_json(cls, data: Any) -> BagDiff:
        """Parse and validate a diff."""
        if not isinstance(data, Mapping) or not all(
            isinstance(data.get(k), list) for k in ("added", "removed", "changed")
        ):
            raise ModelError("a bag diff needs `added`, `removed` and `changed` lists")
        changed = []
        for pair in data["changed"]:
            if not isinstance(pair, Mapping):
                raise ModelError("a `changed` item needs `before` and `after` components")
            changed.append(
                (Component.from_json(pair.get("before")), Component.from_json(pair.get("after")))
            )
        return cls(
            tuple(Component.from_json(c) for c in data["added"]),
            tuple(Component.from_json(c) for c in data["removed"]),
            tuple(changed),
        )


def diff_bags(old: Bag, new: Bag) -> BagDiff:
    """Added, removed and changed non-volatile components from ``old`` to ``new``."""
    before = {c.key(): c for c in old.components if not c.volatile}
    after = {c.key(): c for c in new.components if not c.volatile}
    added = tuple(after[k] for k in sorted(after.keys() - before.keys()))
    removed = tuple(before[k] for k in sorted(before.keys() - after.keys()))
    changed = tuple(
        (before[k], after[k])
        for k in sorted(before.keys() & after.keys())
        if before[k].to_json() != after[k].to_json()
    )
    return BagDiff(added, removed, changed)
