"""The data model: stable JSON round trips, env hash rules, and tamper detection."""

from __future__ import annotations

import json

import pytest

from envsecops.canonical import canonical_json, digest, is_digest
from envsecops.model.bag import (
    Bag,
    Component,
    ComponentKind,
    ModelError,
    RunnerFacts,
    Status,
    diff_bags,
)
from envsecops.model.decision import Credential, Decision, Mode, Principal, Reason, Verdict
from envsecops.model.ledger import EntryKind, LedgerEntry

RUNNER = RunnerFacts((("arch", "x86_64"), ("os", "ubuntu")), (("os", "file"),))
BASH = Component(
    ComponentKind.BINARY, "bash", "path", path="/usr/bin/bash", digest="sha256:" + "a" * 64
)
RUN_ID = Component(
    ComponentKind.ENV, "GITHUB_RUN_ID", "env", digest="sha256:" + "b" * 64, volatile=True
)


def test_canonical_json_is_rfc8785() -> None:
    assert (
        canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )
    assert is_digest(digest({"a": 1}))
    assert not is_digest("sha256:ABC")


def test_env_hash_ignores_order_time_and_volatile_components() -> None:
    one = Bag.build(RUNNER, [BASH, RUN_ID], created_at="2026-01-01T00:00:00Z", tool="0.1")
    other_run = Component(
        ComponentKind.ENV, "GITHUB_RUN_ID", "env", digest="sha256:" + "c" * 64, volatile=True
    )
    two = Bag.build(RUNNER, [other_run, BASH], created_at="2026-02-02T00:00:00Z", tool="0.2")
    assert one.env_hash == two.env_hash
    touched = Component(
        ComponentKind.BINARY, "bash", "path", path="/usr/bin/bash", digest="sha256:" + "d" * 64
    )
    assert Bag.build(RUNNER, [touched]).env_hash != one.env_hash
    diff = diff_bags(one, Bag.build(RUNNER, [touched]))
    assert [(a.digest, b.digest) for a, b in diff.changed] == [(BASH.digest, touched.digest)]


def test_bag_round_trip_and_tamper_detection() -> None:
    unreadable = Component(
        ComponentKind.CONFIG,
        "pip.conf",
        "configs",
        path="/etc/pip.conf",
        status=Status.UNREADABLE,
        properties=(("reason", "EACCES"),),
    )
    bag = Bag.build(RUNNER, [BASH, RUN_ID, unreadable], notes=["skipped /dev/fifo: FIFO"])
    data = json.loads(json.dumps(bag.to_json()))
    assert Bag.from_json(data) == bag
    data["components"][0]["digest"] = "sha256:" + "e" * 64
    with pytest.raises(ModelError, match="env_hash"):
        Bag.from_json(data)
    data = bag.to_json()
    data["components"].reverse()
    with pytest.raises(ModelError, match="canonical order"):
        Bag.from_json(data)
    with pytest.raises(ModelError):
        Bag.from_json(
            {"version": "1", "components": [{"kind": "nope", "name": "x", "source": "y"}]}
        )


def test_decision_credential_and_principal_round_trip() -> None:
    principal = Principal.from_claims(
        {"repository": "o/r", "run_id": "7", "run_attempt": "2", "exp": 5}, "oidc"
    )
    assert principal.get("run_attempt") == "2"
    assert principal.get("exp") is None
    decision = Decision(
        decision_id="dec-1",
        verdict=Verdict.DENY,
        mode=Mode.AUDIT,
        reasons=(Reason("binary-not-allowed", "binary:/usr/bin/curl", "not in the allowlist"),),
        env_hash="sha256:" + "a" * 64,
        policy_id="p@sha256:0123456789ab",
        attestation_digest="sha256:" + "b" * 64,
        principal=principal,
        job="build",
        issued_at="2026-11-22T00:00:00Z",
        expires_at="2026-11-22T00:05:00Z",
    )
    assert Decision.from_json(json.loads(json.dumps(decision.to_json()))) == decision
    with pytest.raises(ModelError):
        Decision.from_json({**decision.to_json(), "verdict": "maybe"})
    credential = Credential(
        "aws",
        "arn:aws:iam::1:role/x",
        "envsecops-7-2-abc",
        "ASIA1",
        "2026-11-22T00:15:00Z",
        (("env_hash", "abc"),),
        "dec-1",
    )
    assert Credential.from_json(credential.to_json()) == credential


def test_ledger_entry_digest_names_the_content() -> None:
    entry = LedgerEntry(
        EntryKind.DECISION, {"decision_id": "dec-1"}, "2026-11-22T00:00:00Z", 0, None
    )
    again = LedgerEntry.from_json(json.loads(json.dumps(entry.to_json())))
    assert again == entry
    assert again.digest == entry.digest
    forged = {**entry.to_json(), "body": {"decision_id": "dec-2"}}
    with pytest.raises(ModelError, match="digest"):
        LedgerEntry.from_json(forged)
    with pytest.raises(ModelError):
        LedgerEntry.from_json({**entry.to_json(), "seq": True})
