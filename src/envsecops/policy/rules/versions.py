"""PEP 440 parses and range tests for one evaluation, each done once (`packaging`, lazily).

Many packages share a version and many rules share a range (``>=1.0,<2``), so the results are
kept by text: a 10,000-package bag costs a few hundred parses, not tens of thousands.
Pre-releases count as inside a range that covers them: a range in a policy says which versions
are in it, not which an installer would pick.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version


class InRange(StrEnum):
    """The outcome of testing a version against a range."""

    INSIDE = "inside"
    OUTSIDE = "outside"
    BAD_RANGE = "bad-range"  # the range is not a PEP 440 specifier set
    BAD_VERSION = "bad-version"  # the version is not PEP 440 (a Debian `1:2.39.2-1.1`)


class VersionCache:
    """Parsed versions, parsed ranges and their tests, by text."""

    def __init__(self) -> None:
        self._versions: dict[str, Version | None] = {}
        self._ranges: dict[str, SpecifierSet | None] = {}
        self._tests: dict[tuple[str, str], InRange] = {}

    def test(self, spec: str, version: str) -> InRange:
        """Whether ``version`` is inside the specifier set ``spec``, or why that is unknown."""
        key = (spec, version)
        found = self._tests.get(key)
        if found is None:
            found = self._tests[key] = self._test(spec, version)
        return found

    def _test(self, spec: str, version: str) -> InRange:
        ranged = self._range(spec)
        if ranged is None:
            return InRange.BAD_RANGE
        parsed = self._version(version)
        if parsed is None:
            return InRange.BAD_VERSION
        return InRange.INSIDE if ranged.contains(parsed, prereleases=True) else InRange.OUTSIDE

    def _range(self, spec: str) -> SpecifierSet | None:
        if spec not in self._ranges:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                self._ranges[spec] = SpecifierSet(spec)
            except InvalidSpecifier:
                self._ranges[spec] = None
        return self._ranges[spec]

    def _version(self, version: str) -> Version | None:
        if version not in self._versions:
            from packaging.version import InvalidVersion, Version

            try:
                self._versions[version] = Version(version)
            except InvalidVersion:
                self._versions[version] = None
        return self._versions[version]
