"""Audit queries: `why` over a mint trio, anomalies, merging ledgers, filters, CSV safety."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from envsecops.ledger.audit import (
    COLUMNS,
    Filters,
    csv_cell,
    explain,
    export_line,
    parse_time,
    read_records,
    record_body,
    record_digest,
    row,
)
from envsecops.ledger.interface import Ledger, Problem, Receipt
from envsecops.model.decision import Credential, Decision, Mode, Principal, Reason, Verdict
from envsecops.model.ledger import EntryKind, LedgerEntry

START = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
CLAIMS = {
    "repository": "octo/app",
    "repository_id": "4242",
    "workflow_ref": "octo/app/.github/workflows/deploy.yml@refs/heads/main",
    "run_id": "9001",
    "run_attempt": "2",
    "actor": "alice",
}


class MemoryLedger(Ledger):
    """An in-memory chained ledger with a clock that ticks one second per append."""

    def __init__(self, name: str, start: datetime = START) -> None:
        self.name = name
        self.items: list[LedgerEntry] = []
        self.now = start

    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        prev = self.items[-1].digest if self.items else None
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        entry = LedgerEntry(kind, dict(body), stamp, len(self.items), prev)
        self.items.append(entry)
        self.now += timedelta(seconds=1)
        return Receipt(self.name, f"memory:{self.name}", entry.digest, entry.seq)

    def entries(self) -> Iterator[LedgerEntry]:
        return iter(list(self.items))

    def verify(self) -> list[Problem]:
        return []


def decision(
    verdict: Verdict = Verdict.ALLOW, *, decision_id: str = "dec-7", reasons: int = 0
) -> Decision:
    return Decision(
        decision_id=decision_id,
        verdict=verdict,
        mode=Mode.ENFORCE,
        reasons=tuple(Reason(f"code-{i}", f"binary:/bin/t{i}", f"m{i}") for i in range(reasons)),
        env_hash="sha256:" + "a" * 64,
        policy_id="deploy@sha256:0123456789ab",
        attestation_digest="sha256:" + "b" * 64,
        principal=Principal.from_claims(CLAIMS, "oidc"),
        job="deploy",
        issued_at="2026-11-22T09:59:59Z",
        expires_at="2026-11-22T10:05:00Z",
    )


CREDENTIAL = Credential(
    provider="aws",
    role="arn:aws:iam::111122223333:role/deploy",
    session_name="envsecops-9001-2-dec7",
    key_id="ASIAEXAMPLEKEY000001",
    expires_at="2026-11-22T10:17:00Z",
    tags=(("decision_id", "dec-7"),),
    source_identity="dec-7",
    session_arn="arn:aws:sts::111122223333:assumed-role/deploy/envsecops-9001-2-dec7",
)


def trio(ledger: Ledger, made: Decision | None = None) -> None:
    made = made or decision()
    ledger.append(EntryKind.DECISION, record_body(made))
    ledger.append(EntryKind.MINT_INTENT, record_body(made, intent={"role": CREDENTIAL.role}))
    ledger.append(EntryKind.MINT_ISSUED, record_body(made, credential=CREDENTIAL))


def records_of(*ledgers: MemoryLedger) -> list[Any]:
    return read_records((ledger.name, ledger.entries()) for ledger in ledgers)


@pytest.mark.parametrize(
    ("ident", "subject"),
    [
        ("ASIAEXAMPLEKEY000001", "Access key ASIAEXAMPLEKEY000001 existed because decision dec-7"),
        ("envsecops-9001-2-dec7", "Session envsecops-9001-2-dec7 existed because decision dec-7"),
        (CREDENTIAL.session_arn, f"Session {CREDENTIAL.session_arn} existed because"),
        ("dec-7", "Decision dec-7 allowed a credential; one was issued."),
    ],
)
def test_why_composes_the_paragraph_from_the_trio(ident: str, subject: str) -> None:
    ledger = MemoryLedger("file:/l")
    trio(ledger)
    (answer,) = explain(records_of(ledger), f"  {ident}\n")
    text = answer.paragraph
    assert text.startswith(subject)
    for needle in (
        "env hash sha256:" + "a" * 64,
        "policy deploy@sha256:0123456789ab",
        "repository octo/app (workflow octo/app/.github/workflows/deploy.yml@refs/heads/main, "
        "run 9001, attempt 2, job deploy, actor alice; principal from the validated OIDC token)",
        "made at 2026-11-22T09:59:59Z in enforce mode",
        "valid until 2026-11-22T10:05:00Z",
        "the intent to mint was recorded at 2026-11-22T10:00:01.000000Z",
        "aws issued role arn:aws:iam::111122223333:role/deploy as session "
        "envsecops-9001-2-dec7 (access key ASIAEXAMPLEKEY000001) at "
        "2026-11-22T10:00:02.000000Z, valid until 2026-11-22T10:17:00Z",
    ):
        assert needle in text
    assert "\n" not in text
    assert [r.entry.kind for r in answer.records] == [
        EntryKind.DECISION,
        EntryKind.MINT_INTENT,
        EntryKind.MINT_ISSUED,
    ]
    assert answer.anomalies == ()


def test_why_on_a_deny_lists_reasons_and_no_credential() -> None:
    ledger = MemoryLedger("file:/l")
    ledger.append(EntryKind.DECISION, record_body(decision(Verdict.DENY, reasons=5)))
    (answer,) = explain(records_of(ledger), "dec-7")
    assert answer.paragraph.startswith(
        "Decision dec-7 denied the request; no credential was issued under it."
    )
    assert "It was denied for 5 reasons: code-0 (binary:/bin/t0): m0;" in answer.paragraph
    assert "; and 2 more." in answer.paragraph
    assert answer.anomalies == ()


def test_why_finds_nothing_for_an_unknown_identifier() -> None:
    ledger = MemoryLedger("file:/l")
    trio(ledger)
    assert explain(records_of(ledger), "ASIANOTHERE") == []
    assert explain(records_of(ledger), "dec") == [], "no prefix matching"


def test_credential_under_a_deny_without_intent_after_expiry_is_an_anomaly() -> None:
    ledger = MemoryLedger("file:/l", start=START + timedelta(hours=1))
    denied = decision(Verdict.DENY, reasons=1)
    ledger.append(EntryKind.DECISION, record_body(denied))
    ledger.append(EntryKind.MINT_ISSUED, record_body(denied, credential=CREDENTIAL))
    (answer,) = explain(records_of(ledger), CREDENTIAL.key_id)
    assert answer.paragraph.startswith(
        f"Access key {CREDENTIAL.key_id} was issued under decision dec-7, which DENIED it."
    )
    assert answer.anomalies == (
        f"credential {CREDENTIAL.key_id} was issued although the decision was a deny",
        f"credential {CREDENTIAL.key_id} has no mint-intent entry recorded before it",
        f"credential {CREDENTIAL.key_id} was issued after the decision expired",
    )


def test_an_intent_under_a_deny_is_an_anomaly() -> None:
    ledger = MemoryLedger("file:/l")
    denied = decision(Verdict.DENY, reasons=1)
    ledger.append(EntryKind.DECISION, record_body(denied))
    ledger.append(EntryKind.MINT_INTENT, record_body(denied))
    (answer,) = explain(records_of(ledger), "dec-7")
    assert answer.anomalies == ("an intent to mint was recorded although the decision was a deny",)


def test_missing_decision_entry_and_disagreeing_copies_are_anomalies() -> None:
    ledger = MemoryLedger("file:/l")
    made = decision()
    ledger.append(EntryKind.MINT_INTENT, record_body(made))
    altered = replace(made, policy_id="other@sha256:ffffffffffff")
    ledger.append(EntryKind.MINT_ISSUED, record_body(altered, credential=CREDENTIAL))
    (answer,) = explain(records_of(ledger), "dec-7")
    assert any("no `decision` entry was recorded" in a for a in answer.anomalies)
    assert "the entries disagree about the decision's content" in answer.anomalies


def test_same_record_in_two_ledgers_is_merged_but_a_repeat_in_one_is_kept() -> None:
    file, s3 = MemoryLedger("file:/l"), MemoryLedger("s3://b/ledger")
    trio(file)
    trio(s3)
    file.append(EntryKind.DECISION, record_body(decision()))
    records = records_of(file, s3)
    assert len(records) == 4
    assert [r.ledgers for r in records[:3]] == [("file:/l", "s3://b/ledger")] * 3
    assert records[3].ledgers == ("file:/l",)
    assert records[0].where() == "file:/l, s3://b/ledger seq 0"
    assert record_digest(records[0].entry.kind, records[0].entry.body) == record_digest(
        EntryKind.DECISION, record_body(decision())
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "no string `decision_id`"),
        ({"decision_id": "dec-7", "decision": {"verdict": "maybe"}}, "does not parse"),
        ({"decision_id": "dec-8", "decision": decision().to_json()}, "names another decision"),
        ({"decision_id": "dec-7"}, "a decision entry without `decision`"),
    ],
)
def test_unreadable_bodies_are_kept_with_a_problem(body: dict[str, Any], problem: str) -> None:
    ledger = MemoryLedger("file:/l")
    ledger.append(EntryKind.DECISION, body)
    (record,) = records_of(ledger)
    assert record.problem is not None
    assert problem in record.problem
    assert Filters(repository="nobody/else", verdict=Verdict.DENY).keep(record), "never hidden"
    assert row(record)["problem"] == record.problem


def test_filters_select_by_repository_verdict_and_time() -> None:
    ledger = MemoryLedger("file:/l")
    trio(ledger)
    other = replace(
        decision(Verdict.DENY, decision_id="dec-9"),
        principal=Principal.from_claims({**CLAIMS, "repository": "octo/other"}, "oidc"),
    )
    ledger.append(EntryKind.DECISION, record_body(other))
    records = records_of(ledger)

    def ids(filters: Filters) -> list[str]:
        return [f"{r.decision_id}:{r.entry.kind.value}" for r in records if filters.keep(r)]

    assert ids(Filters(repository="octo/other")) == ["dec-9:decision"]
    assert ids(Filters(verdict=Verdict.ALLOW)) == [
        "dec-7:decision",
        "dec-7:mint-intent",
        "dec-7:mint-issued",
    ]
    since = parse_time("2026-11-22T10:00:02Z")
    assert ids(Filters(since=since)) == ["dec-7:mint-issued", "dec-9:decision"]
    assert parse_time("2026-11-22") == datetime(2026, 11, 22, tzinfo=UTC)
    assert parse_time("last tuesday") is None


def test_rows_carry_the_credential_but_never_a_secret() -> None:
    ledger = MemoryLedger("file:/l")
    trio(ledger)
    issued = records_of(ledger)[2]
    values = row(issued)
    assert set(values) == set(COLUMNS)
    assert values["key_id"] == CREDENTIAL.key_id
    assert values["repository"] == "octo/app"
    assert values["seq"] == "2"
    assert "secret" not in " ".join(values).lower()
    line = export_line(issued)
    assert LedgerEntry.from_json(line["entry"]) == issued.entry, "the digest re-checks"


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("octo/app", "octo/app"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_cells_are_neutralised_against_formula_injection(raw: str, cell: str) -> None:
    assert csv_cell(raw) == cell


def test_hostile_repository_name_survives_a_csv_round_trip_inert() -> None:
    hostile = {**CLAIMS, "repository": '=cmd|"/c calc"!A1', "actor": "@evil,\nnext"}
    made = replace(decision(), principal=Principal.from_claims(hostile, "oidc"))
    ledger = MemoryLedger("file:/l")
    ledger.append(EntryKind.DECISION, record_body(made))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows([csv_cell(row(r)[c]) for c in COLUMNS] for r in records_of(ledger))
    (header, data) = list(csv.reader(io.StringIO(buffer.getvalue())))
    cells = dict(zip(header, data, strict=True))
    assert cells["repository"] == '\'=cmd|"/c calc"!A1'
    assert cells["actor"] == "'@evil,\nnext"
    assert all(not v or v[0] not in "=+-@" for v in data)
