"""Digest allowlists keyed by path or name globs, shared by `binaries` and `configs`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from envsecops.policy.model import DigestRule
from envsecops.policy.rules.common import GlobIndex, Inputs, join, short

NO_DIGESTS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DigestRules:
    """Rules indexed by pattern, with the union of digests of each literal key precomputed."""

    index: GlobIndex[DigestRule]
    literal_digests: dict[str, frozenset[str]]
    sets: dict[int, frozenset[str]]

    @classmethod
    def build(cls, rules: Iterable[DigestRule]) -> DigestRules:
        """Index the rules (literal patterns in a dict, globs compiled once, digests as sets)."""
        chosen = list(rules)
        index = GlobIndex.build((rule.pattern, rule) for rule in chosen)
        union = {
            key: frozenset(d for rule in found for d in rule.digests)
            for key, found in index.exact.items()
        }
        return cls(index, union, {id(rule): frozenset(rule.digests) for rule in chosen})

    def quick(self, key: str | None, digest: str | None) -> bool:
        """Whether a literal rule for ``key`` allows ``digest`` (the common case, one lookup)."""
        if key is None or digest is None:
            return False
        return digest in self.literal_digests.get(key, NO_DIGESTS)

    def matching(self, key: str | None) -> list[DigestRule]:
        """Every rule whose pattern matches ``key``."""
        return [] if key is None else self.index.matching(key)

    def allows(self, rules: Iterable[DigestRule], digest: str | None) -> bool:
        """Whether one of ``rules`` (found by this index) lists ``digest``."""
        return digest is not None and any(digest in self.sets[id(rule)] for rule in rules)


def not_allowed(inputs: Inputs, matched: list[DigestRule], digest: str | None) -> str:
    """``sha256:ab12… is not among the 2 digests allowed at file:14 (…)``."""
    allowed = sorted({d for rule in matched for d in rule.digests})
    where = inputs.lines(rule.line for rule in matched)
    found = short(digest) if digest is not None else "the bag records no digest, which"
    if not allowed:
        return f"{found} does not match {where}, which allows only a withheld digest"
    count = f"{len(allowed)} digest" + ("s" if len(allowed) != 1 else "")
    return (
        f"{found} is not among the {count} allowed at {where} ({join([short(d) for d in allowed])})"
    )
