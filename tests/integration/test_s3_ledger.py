"""The S3 ledger against moto's S3 server on loopback: writes, locks, refusals, faults, verify."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from envsecops.canonical import canonical_json
from envsecops.errors import ExitCode
from envsecops.ledger.codec import encode, timestamp
from envsecops.ledger.interface import LedgerConflict, LedgerError
from envsecops.ledger.registry import PartialWrite, append_all, build_ledgers
from envsecops.ledger.s3_keys import key_for
from envsecops.ledger.s3_retry import RetryPolicy
from envsecops.model.ledger import EntryKind, LedgerEntry
from tests.integration.fault_proxy import Fault, FaultProxy
from tests.integration.moto_s3 import MotoS3, closed_port

MOMENT = datetime.now(UTC).replace(hour=5, minute=6, second=7, microsecond=890123)
DECISION = {
    "decision_id": "d-1",
    "verdict": "deny",
    "principal": {"claims": {"repository_id": "123456", "run_id": "9"}, "origin": "oidc"},
}


def _locked_put(
    s3: MotoS3, key: str, data: bytes, *, days: int = 30, mode: str = "COMPLIANCE"
) -> None:
    s3.client().put_object(
        Bucket=s3.locked_bucket,
        Key=key,
        Body=data,
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=base64.b64encode(hashlib.sha256(data).digest()).decode(),
        ObjectLockMode=mode,
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=days),
    )


def _data(entry: LedgerEntry) -> bytes:
    return canonical_json(entry.to_json())


def test_append_stores_one_locked_content_addressed_object(moto_s3: MotoS3) -> None:
    ledger = moto_s3.ledger(clock=lambda: MOMENT)
    receipt = ledger.append(EntryKind.DECISION, DECISION)
    (version,) = moto_s3.versions()
    key = version["Key"]
    day = MOMENT.strftime("%Y/%m/%d")
    assert key == f"ledger/123456/{day}/{receipt.digest.removeprefix('sha256:')}.json"
    assert (
        receipt.location == f"s3://{moto_s3.locked_bucket}/{key}?versionId={version['VersionId']}"
    )
    assert receipt.seq is None
    head = moto_s3.client().head_object(Bucket=moto_s3.locked_bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] >= MOMENT + timedelta(days=30) - timedelta(seconds=1)
    (entry,) = ledger.entries()
    assert (entry.digest, entry.seq, entry.prev, dict(entry.body)) == (
        receipt.digest,
        None,
        None,
        DECISION,
    )
    assert ledger.verify() == []


def test_entries_come_back_ordered_by_time_then_digest(moto_s3: MotoS3) -> None:
    times = [MOMENT + timedelta(seconds=s) for s in (5, 1, 3)]
    for moment in times:
        moto_s3.ledger(clock=lambda m=moment: m).append(EntryKind.DRIFT, {"at": timestamp(moment)})
    found = [e.body["at"] for e in moto_s3.ledger().entries()]
    assert found == [timestamp(m) for m in sorted(times)]


def test_same_entry_twice_is_idempotent_and_different_content_is_a_conflict(
    moto_s3: MotoS3,
) -> None:
    ledger = moto_s3.ledger(clock=lambda: MOMENT)
    first = ledger.append(EntryKind.DECISION, DECISION)
    again = ledger.append(EntryKind.DECISION, DECISION)  # same clock: same bytes, same key
    assert first.digest == again.digest
    assert len(moto_s3.versions()) == 1

    entry = encode("x", EntryKind.DECISION, {"other": True}, timestamp(MOMENT)).entry
    key = key_for("ledger", entry).key
    _locked_put(moto_s3, key, b'{"not":"the entry"}')
    with pytest.raises(LedgerConflict, match="different content"):
        ledger.append(EntryKind.DECISION, {"other": True})


def test_create_only_refuses_an_overwrite(moto_s3: MotoS3) -> None:
    receipt = moto_s3.ledger().append(EntryKind.DECISION, DECISION)
    key = moto_s3.versions()[0]["Key"]
    with pytest.raises(ClientError) as raised:
        moto_s3.client().put_object(
            Bucket=moto_s3.locked_bucket,
            Key=key,
            Body=b"{}",
            IfNoneMatch="*",
            ChecksumAlgorithm="SHA256",
        )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert [e.digest for e in moto_s3.ledger().entries()] == [receipt.digest]


def test_deleting_a_locked_version_is_refused_and_a_delete_marker_is_reported(
    moto_s3: MotoS3,
) -> None:
    ledger = moto_s3.ledger()
    receipt = ledger.append(EntryKind.MINT_INTENT, DECISION)
    (version,) = moto_s3.versions()
    client = moto_s3.client()
    with pytest.raises(ClientError) as raised:
        client.delete_object(
            Bucket=moto_s3.locked_bucket, Key=version["Key"], VersionId=version["VersionId"]
        )
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    client.delete_object(Bucket=moto_s3.locked_bucket, Key=version["Key"])  # a delete marker
    problems = ledger.verify()
    assert [p.message.split(" (")[0] for p in problems] == [
        "a delete marker hides this entry from plain reads"
    ]
    assert version["Key"] in problems[0].where
    assert [e.digest for e in ledger.entries()] == [receipt.digest]  # still there, still read


def test_an_unconditional_overwrite_is_a_new_version_that_verify_names(moto_s3: MotoS3) -> None:
    ledger = moto_s3.ledger()
    receipt = ledger.append(EntryKind.DECISION, DECISION)
    key = moto_s3.versions()[0]["Key"]
    _locked_put(moto_s3, key, b'{"forged":true}')
    problems = ledger.verify()
    assert len(problems) == 1
    assert problems[0].message.startswith("not a valid ledger entry")
    with pytest.raises(LedgerError, match="not a valid ledger entry"):
        list(ledger.entries())
    original = moto_s3.client().get_object(
        Bucket=moto_s3.locked_bucket, Key=key, VersionId=receipt.location.split("versionId=")[1]
    )
    assert original["Body"].read().startswith(b'{"body"')


def test_a_bucket_without_object_lock_is_refused_and_reported(moto_s3: MotoS3) -> None:
    ledger = moto_s3.ledger(bucket=moto_s3.plain_bucket)
    with pytest.raises(LedgerError) as raised:
        ledger.append(EntryKind.DECISION, DECISION)
    assert "nothing was recorded" in raised.value.message
    assert "Object Lock" in (raised.value.fix or "")
    moto_s3.client().put_object(
        Bucket=moto_s3.plain_bucket,
        Key="ledger/unknown/2026/01/01/" + "a" * 64 + ".json",
        Body=b"{}",
    )
    messages = [p.message for p in ledger.verify()]
    assert messages[0].startswith("Object Lock is not enabled on this bucket")
    assert messages[1].startswith("not a valid ledger entry")


def test_verify_reports_short_or_governance_retention_and_misfiled_or_stray_objects(
    moto_s3: MotoS3,
) -> None:
    ledger = moto_s3.ledger(retention_days=30)
    now = datetime.now(UTC)
    short = encode("x", EntryKind.DECISION, {"n": 1}, timestamp(now)).entry
    _locked_put(moto_s3, key_for("ledger", short).key, _data(short), days=1)
    governance = encode("x", EntryKind.DECISION, {"n": 2}, timestamp(now)).entry
    _locked_put(moto_s3, key_for("ledger", governance).key, _data(governance), mode="GOVERNANCE")
    misfiled = encode("x", EntryKind.DECISION, {"n": 3}, timestamp(now)).entry
    _locked_put(
        moto_s3, key_for("ledger", misfiled).key.replace("/unknown/", "/42/"), _data(misfiled)
    )
    _locked_put(moto_s3, "ledger/readme.txt", b"hello")
    problems = {
        p.where.split("?")[0].removeprefix(f"s3://{moto_s3.locked_bucket}/"): p.message
        for p in ledger.verify()
    }
    assert problems.keys() == {
        key_for("ledger", short).key,
        key_for("ledger", governance).key,
        key_for("ledger", misfiled).key.replace("/unknown/", "/42/"),
        "ledger/readme.txt",
    }
    assert "short of the configured 30 days" in problems[key_for("ledger", short).key]
    assert problems[key_for("ledger", governance).key].startswith("retention mode is GOVERNANCE")
    assert (
        "does not belong under this key"
        in problems[key_for("ledger", misfiled).key.replace("/unknown/", "/42/")]
    )
    assert problems["ledger/readme.txt"].startswith("not a ledger entry key")


def test_refused_connections_fail_closed_quickly(moto_s3: MotoS3, tmp_path: Path) -> None:
    ledger = moto_s3.ledger(endpoint_url=f"http://127.0.0.1:{closed_port()}", connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(LedgerError) as raised:
        ledger.append(EntryKind.MINT_INTENT, DECISION)
    assert time.monotonic() - started < 10
    assert "after 4 attempts" in raised.value.message
    assert "nothing was recorded" in raised.value.message
    assert raised.value.exit_code == ExitCode.INFRA
    with pytest.raises(LedgerError, match="cannot"):
        ledger.verify()


def test_append_all_reports_which_ledger_recorded_before_s3_failed(
    moto_s3: MotoS3, tmp_path: Path
) -> None:
    specs = [
        f"file:{tmp_path / 'l.jsonl'}",
        f"s3://{moto_s3.locked_bucket}/x?retention-days=1&endpoint-url=http://127.0.0.1:{closed_port()}",
    ]
    ledgers = build_ledgers(specs)
    with pytest.raises(PartialWrite) as raised:
        append_all(ledgers, EntryKind.DECISION, DECISION)
    error = raised.value
    assert error.failed == ledgers[1].name
    assert [r.ledger for r in error.recorded] == [ledgers[0].name]
    assert "NOT recorded as required" in error.message
    assert "already recorded in file:" in error.message
    assert len(list(ledgers[0].entries())) == 1  # the file record stays: append-only
    good = build_ledgers(
        [
            specs[0],
            f"s3://{moto_s3.locked_bucket}/x?retention-days=1&endpoint-url={moto_s3.endpoint}",
        ]
    )
    assert [r.ledger for r in append_all(good, EntryKind.DECISION, DECISION)] == [
        g.name for g in good
    ]


def test_missing_credentials_fail_closed_with_the_fix(
    moto_s3: MotoS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(LedgerError) as raised:
        moto_s3.ledger().append(EntryKind.DECISION, DECISION)
    assert "no AWS credentials" in raised.value.message
    assert "after 1 attempt" in raised.value.message
    assert "credentials" in (raised.value.fix or "")


@pytest.mark.parametrize(
    "fault",
    [
        Fault.TIMEOUT_AFTER_FORWARD,
        Fault.TIMEOUT,
        Fault.ERROR_500,
        Fault.ERROR_500_AFTER_FORWARD,
        Fault.CONFLICT_409,
        Fault.RESET,
    ],
)
def test_one_fault_then_success_leaves_exactly_one_object(moto_s3: MotoS3, fault: Fault) -> None:
    with FaultProxy(moto_s3.endpoint, [fault], hold=3.0) as proxy:
        ledger = moto_s3.ledger(endpoint_url=proxy.url, read_timeout=0.5)
        receipt = ledger.append(EntryKind.DECISION, DECISION)
        puts = [s for s in proxy.seen if s.method == "PUT"]
    assert [s.fault for s in puts] == [fault, None]
    landed = fault in {Fault.TIMEOUT_AFTER_FORWARD, Fault.ERROR_500_AFTER_FORWARD}
    read_back = [s for s in proxy.seen if s.method == "GET"]
    assert len(read_back) == (1 if landed else 0)  # the retry met 412 and compared the bytes
    (version,) = moto_s3.versions()
    assert version["Key"].endswith(receipt.digest.removeprefix("sha256:") + ".json")
    assert moto_s3.ledger().verify() == []


def test_faults_on_every_attempt_are_bounded(moto_s3: MotoS3) -> None:
    retry = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
    with FaultProxy(moto_s3.endpoint, [Fault.ERROR_500] * 10) as proxy:
        ledger = moto_s3.ledger(endpoint_url=proxy.url, retry=retry)
        with pytest.raises(LedgerError, match="after 3 attempts") as raised:
            ledger.append(EntryKind.DECISION, DECISION)
        assert [s.fault for s in proxy.seen] == [Fault.ERROR_500] * 3
    assert "may still have landed" in raised.value.message  # a 500 is ambiguous
    assert moto_s3.versions() == []


def test_an_unusable_endpoint_fails_closed_before_any_request(moto_s3: MotoS3) -> None:
    ledger = moto_s3.ledger(endpoint_url="not a url")
    with pytest.raises(LedgerError, match="cannot set up the S3 client") as raised:
        ledger.append(EntryKind.DECISION, DECISION)
    assert "nothing was recorded" in raised.value.message
