"""Check 3, drift: a fresh inventory must have the attested env hash; otherwise show the diff.

The full component diff goes to ``drift.json``; the one ``drift.env-hash`` reason summarises
it (counts, then up to :data:`NAMED` components) so the decision stays readable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from envsecops.model.bag import Bag, BagDiff, Component, diff_bags
from envsecops.model.decision import Reason
from envsecops.verify.attestation import explain

NAMED = 20
"""Components named in the drift reason's message; the rest are counted."""


@dataclass(frozen=True, slots=True)
class DriftCheck:
    """The fresh bag (None when the inventory failed), the diff when it drifted, the reasons."""

    fresh: Bag | None
    diff: BagDiff | None
    reasons: tuple[Reason, ...]


def _label(component: Component) -> str:
    return f"{component.kind.value} {component.path or component.name}"


def summarise(attested: Bag, fresh: Bag, diff: BagDiff) -> str:
    """The drift reason's message: hashes, counts, changed runner facts, named components."""
    parts = [
        f"a fresh inventory has env hash {fresh.env_hash}, the attested bag {attested.env_hash}: "
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed"
    ]
    before, after = dict(attested.runner.facts), dict(fresh.runner.facts)
    facts = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    if facts:
        parts.append(
            "runner facts changed: "
            + ", ".join(f"{n} {before.get(n)!r} -> {after.get(n)!r}" for n in facts)
        )
    named = [f"added {_label(c)}" for c in diff.added]
    named += [f"removed {_label(c)}" for c in diff.removed]
    named += [f"changed {_label(new)}" for _, new in diff.changed]
    if named:
        shown = "; ".join(named[:NAMED])
        more = f"; and {len(named) - NAMED} more" if len(named) > NAMED else ""
        parts.append(shown + more + " (every change is in drift.json)")
    return "; ".join(parts) + " (fix: find what changed the runner between attest and verify)"


def check_drift(attested: Bag, take_inventory: Callable[[], Bag]) -> DriftCheck:
    """Take a fresh inventory and compare its env hash with the attested bag's."""
    try:
        fresh = take_inventory()
    except Exception as exc:  # noqa: BLE001 - an inventory that fails proves nothing: a deny
        return DriftCheck(
            None,
            None,
            (
                Reason(
                    "drift.inventory",
                    "bag inventory",
                    f"the fresh inventory could not be taken, so drift cannot be ruled out: "
                    f"{explain(exc)}",
                ),
            ),
        )
    if fresh.env_hash == attested.env_hash:
        return DriftCheck(fresh, None, ())
    diff = diff_bags(attested, fresh)
    reason = Reason("drift.env-hash", "bag env-hash", summarise(attested, fresh, diff))
    return DriftCheck(fresh, diff, (reason,))
