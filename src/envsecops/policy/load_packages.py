"""The purl sections of the policy: `packages.allow`, `packages.deny` and `sbom.deny`."""

from __future__ import annotations

import re

from envsecops.policy.load_common import Reader, child, index
from envsecops.policy.model import PackageRule, PackagesPolicy, SbomPolicy
from envsecops.syntax.yaml import Node, ScalarNode, position

PACKAGES_KEYS = frozenset({"allow", "deny"})
SBOM_KEYS = frozenset({"deny"})
RULE_KEYS = frozenset({"purl", "versions", "reason"})
_PURL = re.compile(r"^pkg:(?P<type>[A-Za-z0-9.+*-]+)/(?P<rest>.+)$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._~%+!$&'()*,;=:-]+$")
_TYPE = re.compile(r"^[a-z*][a-z0-9.+*-]*$")
PURL_FORM = "pkg:TYPE[/NAMESPACE]/NAME with * globs and no @version (pkg:deb/ubuntu/*)"


def purl_problem(purl: str) -> str | None:
    """Why ``purl`` is not a purl pattern `pkg:TYPE[/NAMESPACE]/NAME`, or None."""
    if "@" in purl.rpartition("/")[2]:
        return "a purl pattern has no @version: put the versions in `versions`"
    if "@" in purl:
        return "percent-encode @ in a namespace, as purls do: pkg:npm/%40babel/core"
    if "?" in purl or "#" in purl:
        return "a purl pattern has no ?qualifiers or #subpath"
    match = _PURL.match(purl)
    if match is None:
        return f"write {PURL_FORM}"
    if not _TYPE.match(match.group("type")):
        return "the purl type is lowercase letters, digits, . + - (pkg:pypi, pkg:deb)"
    segments = match.group("rest").split("/")
    if not all(_SEGMENT.match(segment) for segment in segments):
        return f"empty or ill-formed path segment; write {PURL_FORM}"
    return None


def _specifier(reader: Reader, node: Node, where: str, value: str) -> str:
    """A PEP 440 specifier set, checked with `packaging` and kept as written."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(value)
    except InvalidSpecifier as exc:
        raise reader.fail(
            node,
            where,
            f"`{where}`: {value!r} is not a PEP 440 specifier set ({exc}); write a range like "
            f'">=1.0,<2" or "=={value}", or a list of exact versions or globs: ["{value}"]',
        ) from exc
    return value


def _rule(reader: Reader, node: Node, where: str, *, reason_required: bool) -> PackageRule:
    fields = reader.fields(node, where, RULE_KEYS)
    if "purl" not in fields:
        raise reader.fail(node, where, f"`{where}` needs `purl` ({PURL_FORM})")
    purl_where = child(where, "purl")
    purl = reader.text(fields["purl"], purl_where)
    problem = purl_problem(purl)
    if problem is not None:
        raise reader.fail(fields["purl"], purl_where, f"`{purl_where}`: {purl!r}: {problem}")
    versions: str | tuple[str, ...] | None = None
    if "versions" in fields:
        here = child(where, "versions")
        value = fields["versions"]
        if isinstance(value, ScalarNode):
            versions = _specifier(reader, value, here, reader.text(value, here))
        else:
            versions = reader.strings(
                value, here, empty="it would match nothing; omit `versions` to match any version"
            )
    reason = reader.text(fields["reason"], child(where, "reason")) if "reason" in fields else None
    if reason_required and reason is None:
        raise reader.fail(node, where, f"`{where}` needs a `reason` (shown in every deny)")
    return PackageRule(purl=purl, versions=versions, reason=reason, line=position(node)[0])


def _rules(
    reader: Reader, node: Node, where: str, *, reason_required: bool = False
) -> tuple[PackageRule, ...]:
    return tuple(
        _rule(reader, entry, index(where, number), reason_required=reason_required)
        for number, entry in enumerate(reader.sequence(node, where))
    )


def load_packages(reader: Reader, node: Node) -> PackagesPolicy:
    """`packages:` allow and deny rules (a package must match an allow and no deny)."""
    fields = reader.fields(node, "packages", PACKAGES_KEYS)
    allow = _rules(reader, fields["allow"], "packages.allow") if "allow" in fields else ()
    deny = _rules(reader, fields["deny"], "packages.deny") if "deny" in fields else ()
    return PackagesPolicy(allow=allow, deny=deny)


def load_sbom(reader: Reader, node: Node) -> SbomPolicy:
    """`sbom:` deny gates over every component with a purl; each says why."""
    fields = reader.fields(node, "sbom", SBOM_KEYS)
    deny = (
        _rules(reader, fields["deny"], "sbom.deny", reason_required=True)
        if "deny" in fields
        else ()
    )
    return SbomPolicy(deny=deny)
