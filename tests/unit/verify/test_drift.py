"""Check 3: drift between the attested bag and a fresh inventory."""

from __future__ import annotations

from envsecops.bag.interface import CatalogError
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts
from envsecops.verify.drift import NAMED, check_drift
from tests.unit.attest.samples import sample_bag


def _with(bag: Bag, *extra: Component, runner: RunnerFacts | None = None) -> Bag:
    return Bag.build(runner or bag.runner, [*bag.components, *extra], created_at="later")


def _binary(i: int) -> Component:
    return Component(ComponentKind.BINARY, f"b{i}", "path", path=f"/opt/bin/b{i:03}")


def test_the_same_bag_does_not_drift() -> None:
    bag = sample_bag()
    check = check_drift(bag, lambda: _with(bag))
    assert (check.reasons, check.diff) == ((), None)
    assert check.fresh is not None


def test_a_change_is_one_reason_with_counts_and_names() -> None:
    bag = sample_bag()
    check = check_drift(bag, lambda: _with(bag, _binary(1)))
    assert [r.code for r in check.reasons] == ["drift.env-hash"]
    message = check.reasons[0].message
    assert "1 added, 0 removed, 0 changed" in message
    assert "added binary /opt/bin/b001" in message
    assert check.diff is not None
    assert [c.name for c in check.diff.added] == ["b1"]


def test_many_changes_name_only_the_first_ones() -> None:
    bag = sample_bag()
    check = check_drift(bag, lambda: _with(bag, *(_binary(i) for i in range(NAMED + 7))))
    message = check.reasons[0].message
    assert f"added binary /opt/bin/b{NAMED - 1:03}" in message
    assert f"/opt/bin/b{NAMED:03}" not in message
    assert "and 7 more" in message
    assert "every change is in drift.json" in message


def test_changed_runner_facts_are_named() -> None:
    bag = sample_bag()
    runner = RunnerFacts((("arch", "aarch64"), *bag.runner.facts[1:]), bag.runner.origins)
    check = check_drift(bag, lambda: _with(bag, runner=runner))
    assert "runner facts changed: arch 'x86_64' -> 'aarch64'" in check.reasons[0].message


def test_an_inventory_that_fails_is_a_reason() -> None:
    def broken() -> Bag:
        raise CatalogError("no catalogers", fix="run the defaults")

    check = check_drift(sample_bag(), broken)
    assert [r.code for r in check.reasons] == ["drift.inventory"]
    assert "no catalogers (fix: run the defaults)" in check.reasons[0].message
    assert check.fresh is None
