"""Purl-pattern rules and version matches shared by `packages` and `sbom`.

Rules match a component's purl reduced to ``pkg:type/namespace/name``
(:mod:`~envsecops.policy.rules.purl_base`). Versions (`VersionMatch`): absent = any; a list =
exact strings or globs; a string = a PEP 440 specifier set, pre-releases included (a range
says which versions are in it, not which an installer would pick). A version that is not
PEP 440 (a Debian ``1:2.39.2-1.1``) cannot be shown to be inside an allow range, so it is
not; for a deny rule the same doubt counts as a match (fail closed), and so does a component
with no version at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from envsecops.policy.model import PackageRule
from envsecops.policy.rules.common import GlobIndex, glob_match, is_glob, join
from envsecops.policy.rules.purl_base import base_purl, purl_type
from envsecops.policy.rules.versions import InRange, VersionCache


@dataclass(frozen=True, slots=True)
class VersionMatch:
    """One rule's versions: None (any), exact versions or globs, or a PEP 440 range."""

    versions: str | tuple[str, ...] | None

    def describe(self) -> str:
        """The versions as a phrase: ``any version``, ``versions `>=1,<2```, ``versions `1```."""
        if self.versions is None:
            return "any version"
        if isinstance(self.versions, str):
            return f"versions `{self.versions}`"
        return "versions " + join([f"`{v}`" for v in self.versions])

    def admits(self, version: str | None, cache: VersionCache) -> tuple[bool, str]:
        """Allow side: (inside?, why not). Unevaluable means outside."""
        if self.versions is None:
            return True, ""
        if version is None:
            return False, "it has no version"
        if isinstance(self.versions, tuple):
            ok = any(glob_match(version, v) for v in self.versions)
            return ok, "" if ok else f"{version} is not among them"
        result = cache.test(self.versions, version)
        if result is InRange.INSIDE:
            return True, ""
        if result is InRange.BAD_RANGE:
            return False, f"the range `{self.versions}` is not a PEP 440 specifier set"
        if result is InRange.BAD_VERSION:
            return False, (
                f"{version} is not a PEP 440 version, so no range can admit it; list exact "
                f'versions instead (`versions: ["{version}"]`)'
            )
        return False, f"{version} is outside it"

    def denies(self, version: str | None, cache: VersionCache) -> tuple[bool, str]:
        """Deny side: (matches?, a note when a doubt counted as a match)."""
        if self.versions is None:
            return True, ""
        if version is None:
            return True, "it has no version, which counts as a match (fail closed)"
        if isinstance(self.versions, tuple):
            return any(glob_match(version, v) for v in self.versions), ""
        result = cache.test(self.versions, version)
        if result is InRange.BAD_RANGE:
            note = f"the range `{self.versions}` cannot be read, which counts as a match"
            return True, note + " (fail closed)"
        if result is InRange.BAD_VERSION:
            note = f"{version} is not a PEP 440 version, so it cannot be shown to be outside"
            return True, note + " the range and counts as a match (fail closed)"
        return result is InRange.INSIDE, ""


@dataclass(frozen=True, slots=True)
class PackageMatcher:
    """`packages.allow`, `packages.deny` or `sbom.deny` rules indexed by reduced purl pattern."""

    by_type: dict[str, GlobIndex[tuple[PackageRule, VersionMatch]]]
    any_type: GlobIndex[tuple[PackageRule, VersionMatch]]

    @classmethod
    def build(cls, rules: tuple[PackageRule, ...]) -> PackageMatcher:
        """Bucket the rules by purl type (a globbed type goes to `any_type`)."""
        grouped: dict[str, list[tuple[str, tuple[PackageRule, VersionMatch]]]] = {}
        loose: list[tuple[str, tuple[PackageRule, VersionMatch]]] = []
        for rule in rules:
            pattern = base_purl(rule.purl)
            item = (pattern, (rule, VersionMatch(rule.versions)))
            kind = purl_type(pattern)
            if is_glob(kind):
                loose.append(item)
            else:
                grouped.setdefault(kind, []).append(item)
        return cls(
            {kind: GlobIndex.build(items) for kind, items in grouped.items()},
            GlobIndex.build(loose),
        )

    def __bool__(self) -> bool:
        return bool(self.by_type or self.any_type)

    def matching(self, base: str, kind: str) -> list[tuple[PackageRule, VersionMatch]]:
        """The rules whose pattern matches a reduced purl of type ``kind``, in a stable order."""
        return [*self.literal(base, kind), *self.globbed(base, kind)]

    def literal(self, base: str, kind: str) -> list[tuple[PackageRule, VersionMatch]]:
        """The rules written exactly as ``base`` (checked first: the common case)."""
        index = self.by_type.get(kind)
        found = index.literal(base) if index is not None else []
        if self.any_type:
            found.extend(self.any_type.literal(base))
        return found

    def globbed(self, base: str, kind: str) -> list[tuple[PackageRule, VersionMatch]]:
        """The glob rules matching ``base`` other than by its exact spelling."""
        index = self.by_type.get(kind)
        found = index.globbed(base) if index is not None else []
        if self.any_type:
            found.extend(self.any_type.globbed(base))
        return found
