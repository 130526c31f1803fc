"""PATH entries that let uninventoried commands in are denied; a missing directory is not."""

from __future__ import annotations

import pytest

from envsecops.policy.allowable import Blocked, classify
from envsecops.policy.evaluate import evaluate
from tests.unit.policy.evaluate_support import allowing, codes, hosted_bag, path_entry


@pytest.mark.parametrize("state", ["relative", "writable-by-others", "not-a-directory", "unset"])
def test_an_unsafe_path_entry_is_denied_whatever_the_policy(state: str) -> None:
    entry = path_entry("/opt/tools" if state != "relative" else "", state)
    bag = hosted_bag(entry)
    reasons = evaluate(allowing(bag), bag)
    assert [code for code, _ in codes(reasons)] == ["binary.path-entry"]
    assert state in reasons[0].message
    assert "fix:" in reasons[0].message
    blocked = classify(entry)  # policy init lists it as what the draft cannot allow
    assert isinstance(blocked, Blocked)
    assert blocked.code == "binary.path-entry"


@pytest.mark.parametrize("state", ["ok", "missing"])
def test_a_safe_or_missing_path_entry_is_not_a_reason(state: str) -> None:
    bag = hosted_bag(path_entry("/home/runner/.local/bin", state))
    assert evaluate(allowing(bag), bag) == []
    assert classify(path_entry("/x", state)) is None
