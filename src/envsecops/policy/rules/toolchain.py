"""`tool-cache`: every tool-cache tree must be listed by tool and version glob with its digest.

A tool-cache entry that is not a ``<tool>/<version>/<arch>/`` tree (``layout: unexpected``: a
stray file or link) has no version; it is matched as the version ``""``, so only a ``"*"``
version entry listing its digest allows it.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model.bag import Component, ComponentKind
from envsecops.model.decision import Reason
from envsecops.policy.model import ToolRule
from envsecops.policy.rules.common import GlobIndex, Inputs, glob_match, join, short, subject


def check(inputs: Inputs) -> Iterator[Reason]:
    """`toolchain.unlisted` and `toolchain.digest` reasons."""
    index = GlobIndex.build((rule.tool, rule) for rule in inputs.policy.tool_cache)
    for component in inputs.by_kind[ComponentKind.TOOLCHAIN]:
        tools = index.matching(component.name)
        version = component.version or ""
        matched = [r for r in tools if glob_match(version, r.version)]
        digest = component.digest
        if digest is not None and any(digest in rule.digests for rule in matched):
            continue
        if not matched:
            yield _unlisted(inputs, component, tools)
            continue
        allowed = sorted({d for rule in matched for d in rule.digests})
        yield Reason(
            "toolchain.digest",
            subject(component),
            f"{component.name} {version} ({_arch(component)}) has {short(digest)}, not among "
            f"the {len(allowed)} tree digests allowed at {inputs.lines(r.line for r in matched)} "
            f"({join([short(d) for d in allowed])}); add `{digest or 'sha256:…'}` there if "
            f"this install is expected, or reinstall the approved one",
        )


def _arch(component: Component) -> str:
    props = dict(component.properties)
    if props.get("layout") == "unexpected":
        return "an unexpected entry in the tool cache, not a tool/version/arch tree"
    return props.get("arch", "no arch")


def _unlisted(inputs: Inputs, component: Component, tools: list[ToolRule]) -> Reason:
    name, version, digest = component.name, component.version or "", component.digest
    entry = f'`{name}: {{"{version or "*"}": [{digest or "sha256:…"}]}}`'
    if tools:
        listed = join(sorted({f"`{r.version}`" for r in tools}))
        found = (
            f"{name} {version or '(no version)'} ({_arch(component)}) is not a version listed at "
            f"{inputs.lines(r.line for r in tools)} ({listed})"
        )
    else:
        found = f"{name} {version} ({_arch(component)}) is not in `tool-cache`"
    return Reason(
        "toolchain.unlisted",
        subject(component),
        f"{found}; add {entry} under `tool-cache:` if it is expected, or remove it from the runner",
    )
