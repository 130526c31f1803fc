"""What every check shares: the evaluation inputs, glob indexes, subjects and policy-line wording.

Globs are :func:`fnmatch.fnmatchcase` patterns (``*`` also crosses ``/``), and a pattern
always matches the text it spells exactly, too (:func:`glob_match`): ``/usr/bin/[`` is the
real ``[`` binary and ``/usr/bin/[abc]`` still names a file called ``[abc]``, so a policy
drafted from a bag never needs glob escapes. Every pattern goes into a dict by its exact text;
the ones holding ``*``, ``?`` or ``[`` are also compiled once per evaluation and bucketed by
their literal directory prefix (`GlobIndex`), so a text is only tried against the globs that
could match it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from envsecops.model.bag import Bag, Component, ComponentKind, Status
from envsecops.model.decision import Reason
from envsecops.model.findings import Finding
from envsecops.policy.model import Policy
from envsecops.policy.rules.purl_base import base_and_type
from envsecops.policy.rules.versions import VersionCache

T = TypeVar("T")
GLOB_CHARS = frozenset("*?[")
USABLE = frozenset({Status.OK, Status.DIGEST_ONLY})
"""Statuses whose component the section checks read; any other is a `component.problem`."""
MAX_SHOWN = 5
"""How many allowed values (digests, versions, lines) a message lists before "and N more"."""


def is_glob(pattern: str) -> bool:
    """Whether ``pattern`` holds a glob character."""
    return not GLOB_CHARS.isdisjoint(pattern)


def glob_match(text: str, pattern: str) -> bool:
    """``text == pattern`` or ``fnmatchcase(text, pattern)``."""
    return text == pattern or (is_glob(pattern) and fnmatch.fnmatchcase(text, pattern))


@dataclass(frozen=True, slots=True)
class Inputs:
    """One evaluation: the policy, the bag, the active pin findings, components by kind.

    ``by_kind`` holds only the components whose status lets their section judge them
    (`USABLE`); the others become `component.problem` reasons instead.
    """

    policy: Policy
    bag: Bag
    pin_findings: Sequence[Finding] = ()
    by_kind: dict[ComponentKind, list[Component]] = field(default_factory=dict)
    purls: dict[str, tuple[str, str]] = field(default_factory=dict)
    versions: VersionCache = field(default_factory=VersionCache)

    @classmethod
    def of(cls, policy: Policy, bag: Bag, pin_findings: Sequence[Finding] = ()) -> Inputs:
        """Group the bag's usable components by kind, once."""
        by_kind: dict[ComponentKind, list[Component]] = {kind: [] for kind in ComponentKind}
        for component in bag.components:
            if component.status in USABLE:
                by_kind[component.kind].append(component)
        return cls(policy, bag, tuple(pin_findings), by_kind)

    def base(self, purl: str) -> tuple[str, str]:
        """(``pkg:type/namespace/name``, type) of a purl, reduced once per evaluation."""
        found = self.purls.get(purl)
        if found is None:
            found = self.purls[purl] = base_and_type(purl)
        return found

    def at(self, line: int) -> str:
        """``<policy source>:<line>`` (the source alone when the line is unknown)."""
        return f"{self.policy.source}:{line}" if line > 0 else self.policy.source

    def lines(self, lines: Iterable[int]) -> str:
        """Where several rules are written: ``file:3, :9 and :12``."""
        unique = sorted({n for n in lines if n > 0})
        if not unique:
            return self.policy.source
        first, rest = self.at(unique[0]), [f":{n}" for n in unique[1:]]
        return join([first, *rest])


Check = Callable[[Inputs], Iterator[Reason]]
"""A section check: every reason it finds in one evaluation."""


def join(items: Sequence[str], limit: int = MAX_SHOWN) -> str:
    """``a, b and c`` with at most ``limit`` items and an ``and N more`` tail."""
    shown = list(items[:limit])
    more = len(items) - len(shown)
    if more:
        shown.append(f"{more} more")
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def short(digest: str | None) -> str:
    """A digest shortened for a sentence: ``sha256:ab12cd34ef56…``."""
    if digest is None:
        return "no digest"
    return digest[:19] + "…" if len(digest) > 20 else digest


def subject(component: Component) -> str:
    """``<kind> <what>``: the purl of a package, ``name@ref`` of an action, the name of an env
    variable or runner record, the path of anything else (its name when it has none)."""
    kind = component.kind.value
    if component.kind is ComponentKind.PACKAGE and component.purl:
        return f"{kind} {component.purl}"
    if component.kind is ComponentKind.ACTION and component.version is not None:
        return f"{kind} {component.name}@{component.version}"
    if component.kind in (ComponentKind.ENV, ComponentKind.RUNNER):
        return f"{kind} {component.name}"
    return f"{kind} {component.path or component.name}"


def quoted(text: str, limit: int = 120) -> str:
    """``text`` in backquotes, cut to ``limit`` characters."""
    return f"`{text[:limit]}…`" if len(text) > limit else f"`{text}`"


@dataclass(slots=True)
class GlobIndex(Generic[T]):
    """Rules keyed by a glob: every pattern in a dict by its exact text, globs also compiled
    once and bucketed by the directory their literal prefix ends in.

    A text can only match a glob whose literal prefix up to its last ``/`` before the first
    glob character is a ``/``-prefix of the text, so :meth:`matching` looks up the text's own
    prefixes of the lengths some bucket has (usually one or two dict lookups) instead of
    trying every glob: ``/usr/lib/x/*`` is only tried on texts under ``/usr/lib/x/``,
    ``pkg:deb/ubuntu/*`` only on ``pkg:deb/ubuntu/…``.
    ``fold`` lower-cases keys and patterns (for names that compare case-insensitively).
    """

    fold: bool = False
    exact: dict[str, list[T]] = field(default_factory=dict)
    buckets: dict[str, list[tuple[str, re.Pattern[str], T]]] = field(default_factory=dict)
    lengths: tuple[int, ...] = ()

    @classmethod
    def build(cls, items: Iterable[tuple[str, T]], *, fold: bool = False) -> GlobIndex[T]:
        """Index ``(pattern, rule)`` pairs, in order."""
        index: GlobIndex[T] = cls(fold=fold)
        for pattern, rule in items:
            key = pattern.lower() if fold else pattern
            index.exact.setdefault(key, []).append(rule)
            if is_glob(key):
                first = min(key.find(c) for c in GLOB_CHARS if c in key)
                bucket = key[: key.rfind("/", 0, first) + 1]
                regex = re.compile(fnmatch.translate(key))
                index.buckets.setdefault(bucket, []).append((key, regex, rule))
        index.lengths = tuple(sorted({len(bucket) for bucket in index.buckets}))
        return index

    def __bool__(self) -> bool:
        return bool(self.exact)

    def matching(self, text: str) -> list[T]:
        """Every rule matching ``text`` (a new list): exact spellings first, then globs from
        the shallowest bucket down, each bucket in policy order."""
        key = text.lower() if self.fold else text
        found = self.exact.get(key)
        out = list(found) if found else []
        out.extend(self._globbed(key))
        return out

    def literal(self, text: str) -> list[T]:
        """The rules spelling ``text`` exactly (a new list)."""
        found = self.exact.get(text.lower() if self.fold else text)
        return list(found) if found else []

    def globbed(self, text: str) -> list[T]:
        """The glob rules matching ``text`` other than by its exact spelling (a new list)."""
        return self._globbed(text.lower() if self.fold else text)

    def _globbed(self, key: str) -> list[T]:
        out: list[T] = []
        size = len(key)
        for length in self.lengths:  # only the prefix lengths some bucket has
            if length > size:
                break
            if length and key[length - 1] != "/":
                continue
            bucket = self.buckets.get(key[:length])
            if bucket is not None:
                out.extend(rule for glob, regex, rule in bucket if glob != key and regex.match(key))
        return out
