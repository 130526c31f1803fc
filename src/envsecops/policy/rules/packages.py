"""`packages`: every package must match an `allow` rule (purl pattern and versions) and no `deny`.

Rules match the component's purl reduced to ``pkg:type/namespace/name``
(:func:`~envsecops.policy.rules.purl_base.base_purl`); the version is ``component.version``. A
package is allowed when some matching allow rule admits its version; a deny rule that matches
is reported whatever the allow rules say (deny beats allow). A package without a purl cannot be
matched by any rule, so it is unlisted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from envsecops.model.bag import Component, ComponentKind
from envsecops.model.decision import Reason
from envsecops.policy.rules.common import Inputs, join, quoted, subject
from envsecops.policy.rules.purls import PackageMatcher, VersionMatch

if TYPE_CHECKING:
    from envsecops.policy.model import PackageRule


def check(inputs: Inputs) -> Iterator[Reason]:
    """`package.unlisted`, `package.version` and `package.denied` reasons."""
    allow = PackageMatcher.build(inputs.policy.packages.allow)
    deny = PackageMatcher.build(inputs.policy.packages.deny)
    denying = bool(deny)
    for component in inputs.by_kind[ComponentKind.PACKAGE]:
        if component.purl is None:
            yield Reason(
                "package.unlisted",
                subject(component),
                f"{component.name} ({component.version or 'no version'}) has no purl, so no "
                f"`packages.allow` rule can match it; remove it from the runner",
            )
            continue
        base, kind = inputs.base(component.purl)
        rules = deny.matching(base, kind) if denying else []
        if rules and (denied := deny_reason(inputs, component, rules, "package.denied")):
            yield denied
        refused = _refused(inputs, component, base, allow, kind)
        if refused is not None:
            yield refused


def _refused(
    inputs: Inputs, component: Component, base: str, allow: PackageMatcher, kind: str
) -> Reason | None:
    """None when an allow rule admits the package (exact patterns tried before globs), else
    the reason none does."""
    version = component.version
    notes: list[str] = []
    rules = allow.literal(base, kind)
    if _admitted(inputs, rules, version, notes):
        return None
    globbed = allow.globbed(base, kind)
    if _admitted(inputs, globbed, version, notes):
        return None
    rules = [*rules, *globbed]
    if not rules:
        entry = f'- {{purl: {base}, versions: ["{version}"]}}' if version else f"- purl: {base}"
        return Reason(
            "package.unlisted",
            subject(component),
            f"{base} matches no `packages.allow` rule; add `{entry}` under `packages.allow` if "
            f"it is expected, or remove it from the runner",
        )
    where = inputs.lines(rule.line for rule, _match in rules)
    allowed = "; ".join(sorted({match.describe() for _rule, match in rules}))
    why = "; ".join(sorted({n for n in notes if n}))
    return Reason(
        "package.version",
        subject(component),
        f"{base} is allowed at {where} only for {allowed}: {why}; widen that rule or add the "
        f"version if it is expected, or install an allowed version",
    )


def _admitted(
    inputs: Inputs,
    rules: list[tuple[PackageRule, VersionMatch]],
    version: str | None,
    notes: list[str],
) -> bool:
    """Whether one of ``rules`` admits ``version``; why each did not goes to ``notes``."""
    for _rule, match in rules:
        ok, why = match.admits(version, inputs.versions)
        if ok:
            return True
        notes.append(why)
    return False


def deny_reason(
    inputs: Inputs,
    component: Component,
    rules: list[tuple[PackageRule, VersionMatch]],
    code: str,
) -> Reason | None:
    """The reason a `packages.deny` or `sbom.deny` rule gives, if any rule matches."""
    hits: list[tuple[PackageRule, str]] = []
    for rule, match in rules:
        hit, note = match.denies(component.version, inputs.versions)
        if hit:
            hits.append((rule, note))
    if not hits:
        return None
    section = "sbom.deny" if code == "sbom.denied" else "packages.deny"
    why = join(sorted({quoted(rule.reason) for rule, _n in hits if rule.reason}))
    notes = "; ".join(sorted({n for _r, n in hits if n}))
    version = component.version or "(no version)"
    text = (
        f"{inputs.base(component.purl or '')[0]} {version} matches the `{section}` rule at "
        f"{inputs.lines(rule.line for rule, _n in hits)}"
    )
    if why:
        text += f" (reason: {why})"
    if notes:
        text += f"; {notes}"
    return Reason(code, subject(component), f"{text}; remove or upgrade it — deny beats allow")
