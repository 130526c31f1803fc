"""`configs`: every recorded config file must be listed with its digest (or as `withheld`).

A key is matched against the file's name in the bag (absolute, ``~/``-relative or
workspace-relative, as attest wrote it) and against its runner path. A file attest recorded as
``digest-only`` (it may hold credentials, so its digest was withheld) is allowed only by an
entry written ``withheld``: no digest can match a digest that was never recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model.bag import ComponentKind, Status
from envsecops.model.decision import Reason
from envsecops.policy.rules.common import Inputs, short, subject
from envsecops.policy.rules.digests import DigestRules, not_allowed


def check(inputs: Inputs) -> Iterator[Reason]:
    """`config.unlisted` and `config.digest` reasons."""
    rules = DigestRules.build(inputs.policy.configs)
    for component in inputs.by_kind[ComponentKind.CONFIG]:
        digest, name, path = component.digest, component.name, component.path
        if rules.quick(name, digest) or rules.quick(path, digest):
            continue
        matched = rules.matching(name)
        if path is not None and path != name:
            matched += [r for r in rules.matching(path) if r not in matched]
        withheld = component.status is Status.DIGEST_ONLY
        if withheld and any(rule.withheld for rule in matched):
            continue
        if not withheld and rules.allows(matched, digest):
            continue
        value = "withheld" if withheld else f"[{digest or 'sha256:…'}]"
        if not matched:
            what = (
                "its digest was withheld (it may hold credentials)" if withheld else short(digest)
            )
            yield Reason(
                "config.unlisted",
                subject(component),
                f"{name} ({what}) is not in `configs`; add `{name}: {value}` under `configs:` "
                f"if this file is expected, or remove it from the runner",
            )
            continue
        if withheld:
            found = (
                f"attest withheld the digest of {name} (it may hold credentials), so the "
                f"digests listed at {inputs.lines(r.line for r in matched)} cannot match"
            )
            fix = f"write `{name}: withheld` if a credential file is expected there"
        else:
            found = not_allowed(inputs, matched, digest)
            fix = f"add `{digest}` to that entry if this version of the file is expected"
        yield Reason("config.digest", subject(component), f"{found}; {fix}, or restore it")
