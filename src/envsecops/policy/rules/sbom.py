"""`sbom.deny`: gates over every component with a purl (packages, actions, toolchains…).

The same purl patterns and version matches as `packages.deny`; a component matching a gate is
denied whatever else allows it, whatever its status, including a ``pkg:github/owner/repo``
action at a ref (its version) and a ``pkg:generic/<tool>`` tool-cache tree.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model.decision import Reason
from envsecops.policy.rules.common import Inputs
from envsecops.policy.rules.packages import deny_reason
from envsecops.policy.rules.purls import PackageMatcher


def check(inputs: Inputs) -> Iterator[Reason]:
    """`sbom.denied` reasons."""
    gates = PackageMatcher.build(inputs.policy.sbom.deny)
    if not gates:
        return
    for component in inputs.bag.components:
        if component.purl is None:
            continue
        rules = gates.matching(*inputs.base(component.purl))
        if rules:
            found = deny_reason(inputs, component, rules, "sbom.denied")
            if found is not None:
                yield found
