"""Evaluate a bag against a policy: every reason the policy denies it for (pure, no I/O).

:func:`evaluate` runs the section checks of :data:`CHECKS` (one module each under
:mod:`envsecops.policy.rules`) and returns their reasons sorted by code and subject, exact
duplicates dropped. An empty list means the policy allows the bag. More than
:data:`~envsecops.policy.reasons.MAX_REASONS` reasons are cut to the first
``MAX_REASONS - 1`` and one `reasons.truncated` reason counting the rest by code. A policy
that allows nothing (`Policy.empty_allowlist`) is a `policy.empty` reason, never allow-all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from envsecops.model.bag import Bag
from envsecops.model.decision import Reason
from envsecops.model.findings import Finding
from envsecops.policy.model import Policy
from envsecops.policy.reasons import MAX_REASONS
from envsecops.policy.rules import (
    actions,
    binaries,
    configs,
    env,
    packages,
    pins,
    problems,
    runner,
    sbom,
    toolchain,
)
from envsecops.policy.rules.common import Check, Inputs

CHECKS: tuple[Check, ...] = (
    runner.check,
    problems.check,
    binaries.check,
    toolchain.check,
    packages.check,
    configs.check,
    env.check,
    actions.check,
    sbom.check,
    pins.check,
)
"""The section checks, in the order the policy file lists its sections."""
INIT_FIX = "`envsecops policy init --from bag.json > .github/envsecops.yml`"


def evaluate(policy: Policy, bag: Bag, *, pin_findings: Sequence[Finding] = ()) -> list[Reason]:
    """Every reason ``policy`` denies ``bag`` for; ``pin_findings`` are the active findings."""
    inputs = Inputs.of(policy, bag, pin_findings)
    found: list[Reason] = []
    if policy.empty_allowlist:
        found.append(
            Reason(
                "policy.empty",
                f"policy {policy.source}",
                f"{policy.source} allows no binary, tool, package, config or action: an empty "
                f"allowlist is a deny, never allow-all; draft one with {INIT_FIX} and review it",
            )
        )
    for check in CHECKS:
        found.extend(check(inputs))
    return finish(found)


def finish(reasons: Iterable[Reason], limit: int = MAX_REASONS) -> list[Reason]:
    """Sorted by (code, subject, message), duplicates dropped, cut to ``limit`` with a summary."""
    ordered = sorted(set(reasons), key=lambda r: (r.code, r.subject, r.message))
    if len(ordered) <= limit:
        return ordered
    kept, dropped = ordered[: limit - 1], ordered[limit - 1 :]
    counts = Counter(r.code for r in dropped)
    by_code = ", ".join(f"{code} {count:,}" for code, count in sorted(counts.items()))
    summary = Reason(
        "reasons.truncated",
        "decision reasons",
        f"{len(ordered):,} reasons in all; the first {len(kept):,} are listed and "
        f"{len(dropped):,} more are not: {by_code}; run `envsecops policy propose --from "
        f"bag.json` (or fix the runner) and verify again to see them",
    )
    return [*kept, summary]
