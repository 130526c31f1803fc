"""The mint sequence with fakes: what runs, in which order, and what never runs after a refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.creds.interface import MintError, ProviderRefused
from envsecops.errors import EnvsecopsError
from envsecops.mint.preconditions import Refused
from envsecops.mint.record import NotRecorded
from envsecops.mint.run import MintAborted, mint
from envsecops.mint.timing import Timings
from envsecops.model.decision import Verdict
from tests.unit.gh.runner_model import read_file_commands
from tests.unit.mint.fakes import CLAIMS, SECRET, SESSION_TOKEN, TOKEN, MemoryLedger, World


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_the_sequence_of_a_mint_that_issues(world: World) -> None:
    minted = mint(world.plan(), world.collaborators(), Timings())
    assert world.events == [
        "inventory",
        "file:l:mint-intent",
        "token:sts.amazonaws.com",
        "emit",
        "validate",
        "provider",
        "emit",
        "emit",
        "emit",
        "file:l:mint-issued",
    ]
    assert world.emitted == [
        f"::add-mask::{TOKEN}",
        "::add-mask::ASIAUNITTESTKEY00001",
        f"::add-mask::{SECRET}",
        f"::add-mask::{SESSION_TOKEN}",
    ]
    assert minted.credential.key_id == "ASIAUNITTESTKEY00001"
    exported = read_file_commands((world.tmp / "github-env").read_text(encoding="utf-8"))
    assert exported["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert world.provider is not None
    (request,) = world.provider.requests
    assert (request.run_id, request.run_attempt) == ("1001", "2")
    assert request.decision_id == minted.decision.decision_id


def _refused_before_anything(world: World, code: str) -> None:
    with pytest.raises(Refused) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    assert caught.value.code == code
    assert "provider" not in world.events
    assert not any(e.startswith("token:") for e in world.events)


def test_a_deny_stops_before_the_inventory(world: World) -> None:
    world.write_decision(verdict=Verdict.DENY)
    _refused_before_anything(world, "decision.deny")
    assert world.events == []


def test_drift_is_recorded_and_nothing_else_happens(world: World) -> None:
    world.fresh_hash = "changed"
    _refused_before_anything(world, "drift.env-hash")
    assert world.events == ["inventory", "file:l:drift"]
    assert (world.tmp / "fresh-bag.json").is_file()


def test_a_ledger_that_fails_the_intent_means_no_token_and_the_others_are_closed(
    world: World,
) -> None:
    first, down = MemoryLedger("file:a", world.events), MemoryLedger("s3:b", world.events)
    down.fail = True
    world.ledgers = [first, down]
    with pytest.raises(NotRecorded) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    assert caught.value.exit_code == 3
    assert world.events == [
        "inventory",
        "file:a:mint-intent",
        "s3:b:mint-intent",
        "file:a:mint-failed",
    ]
    assert first.kinds() == ["mint-intent", "mint-failed"]


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (ProviderRefused("denied", fix="f", service="s", call="c", target="t"), 3),
        (MintError("throttled", fix="f", service="s", call="c", target="t", retryable=True), 3),
    ],
)
def test_a_provider_failure_is_recorded_as_a_failed_mint(
    world: World, error: MintError, exit_code: int
) -> None:
    from tests.unit.mint.fakes import FakeProvider

    world.provider = FakeProvider(world.events, error)
    with pytest.raises(MintAborted) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    assert caught.value.exit_code == exit_code
    assert "recorded mint-failed in file:l" in caught.value.message
    assert world.ledgers[0].kinds() == ["mint-intent", "mint-failed"]
    assert not (world.tmp / "github-env").exists()


def test_a_provider_token_for_another_job_is_refused_after_the_intent(world: World) -> None:
    world.token_claims = {**CLAIMS, "run_attempt": "3"}
    with pytest.raises(MintAborted) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    assert caught.value.code == "token.job"
    assert caught.value.exit_code == 1
    assert "provider" not in world.events
    assert world.ledgers[0].kinds() == ["mint-intent", "mint-failed"]


def test_an_issued_record_that_fails_is_loud(world: World) -> None:
    class FailsIssued(MemoryLedger):
        def append(self, kind: object, body: object) -> object:  # type: ignore[override]
            if getattr(kind, "value", "") == "mint-issued":
                self.fail = True
            return super().append(kind, body)  # type: ignore[arg-type]

    world.ledgers = [FailsIssued("file:l", world.events)]
    with pytest.raises(NotRecorded) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    message = caught.value.message
    assert "credentials WERE issued" in message
    assert "ASIAUNITTESTKEY00001" in message
    assert SECRET not in message
    assert "the intent is in file:l" in message


def test_outside_actions_nothing_is_emitted(world: World) -> None:
    from envsecops.mint.export import Destination

    plan = world.plan(in_actions=False, destination=Destination(out_dir=world.tmp))
    mint(plan, world.collaborators(), Timings())
    assert world.emitted == []
    assert (world.tmp / "credentials.env").stat().st_mode & 0o777 == 0o600


def test_no_token_service_refuses_first(world: World) -> None:
    plan = world.plan(environ={"GITHUB_JOB": "deploy"})
    with pytest.raises(Refused) as caught:
        mint(plan, world.collaborators(), Timings())
    assert caught.value.code == "token.unavailable"
    assert world.events == []


def test_every_error_is_an_envsecops_error_with_an_exit_code(world: World) -> None:
    world.fresh_hash = "changed"
    with pytest.raises(EnvsecopsError) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    assert caught.value.exit_code == 1


def test_an_unexpected_provider_crash_is_exit_3_and_never_repeats_the_token(world: World) -> None:
    from envsecops.creds.interface import IssuedCredential, MintRequest
    from tests.unit.mint.fakes import FakeProvider

    class Crashes(FakeProvider):
        def mint(self, request: MintRequest, token: str) -> IssuedCredential:
            raise RuntimeError(f"bad answer for {token}")

    world.provider = Crashes(world.events)
    with pytest.raises(MintAborted) as caught:
        mint(world.plan(), world.collaborators(), Timings())
    assert caught.value.exit_code == 3
    assert "internal error (RuntimeError: bad answer for [redacted])" in caught.value.message
    assert TOKEN not in caught.value.message
    (_, failed) = world.ledgers[0].kept
    assert TOKEN not in str(failed[1]["error"])
