"""Ledger specs, and append_all's all-or-nothing contract, over real file ledgers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from envsecops.errors import ExitCode, InputError
from envsecops.ledger.file import FileLedger
from envsecops.ledger.interface import Ledger, LedgerError, Problem, Receipt
from envsecops.ledger.registry import PartialWrite, append_all, build_ledger, build_ledgers
from envsecops.ledger.s3 import S3Ledger
from envsecops.model.ledger import EntryKind, LedgerEntry


def test_file_specs_build_file_ledgers(tmp_path: Path) -> None:
    ledger = build_ledger(f"file:{tmp_path / 'l.jsonl'}")
    assert isinstance(ledger, FileLedger)
    assert ledger.path == tmp_path / "l.jsonl"
    relative = build_ledger("file:.envsecops/ledger.jsonl")
    assert isinstance(relative, FileLedger)
    assert relative.path == Path.cwd() / ".envsecops" / "ledger.jsonl"


def test_s3_specs_build_s3_ledgers() -> None:
    ledger = build_ledger(
        "s3://org-ledger/envsecops/prod/?retention-days=365&region=eu-west-1"
        "&endpoint-url=http://127.0.0.1:9000"
    )
    assert isinstance(ledger, S3Ledger)
    assert (ledger.bucket, ledger.prefix, ledger.retention_days) == (
        "org-ledger",
        "envsecops/prod",
        365,
    )
    assert (ledger.region, ledger.endpoint_url) == ("eu-west-1", "http://127.0.0.1:9000")
    assert ledger.name == "s3://org-ledger/envsecops/prod"
    default = build_ledger("s3://org-ledger?retention-days=1")
    assert isinstance(default, S3Ledger)
    assert (default.prefix, default.region) == ("ledger", None)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("ledger.jsonl", "is not a ledger spec"),
        ("file:", "no file path"),
        ("file://host/x", "not a URL"),
        ("s3://Bad_Bucket?retention-days=1", "is not an S3 bucket name"),
        ("s3://bucket/prefix", "retention-days is required"),
        ("s3://bucket?retention-days=0", "whole number 1..36500"),
        ("s3://bucket?retention-days=36501", "whole number 1..36500"),
        ("s3://bucket?retention-days=1e3", "whole number 1..36500"),
        ("s3://bucket?retention-days=1&retention-days=2", "given twice"),
        ("s3://bucket?retention-days=1&mode=governance", "unknown parameter 'mode'"),
        ("s3://bucket?retention-days=1&region=mars", "not an AWS region"),
        ("s3://bucket?retention-days=1&endpoint-url=file:///etc", "must be an http(s) URL"),
        ("s3://bucket/../up?retention-days=1", "must be 1-128 of"),
        ("s3://bucket?retention-days=1#x", "fragment"),
        ("s3://bucket?retention-days", "unreadable query"),
    ],
)
def test_bad_specs_are_input_errors_naming_the_spec(spec: str, why: str) -> None:
    with pytest.raises(InputError) as raised:
        build_ledger(spec)
    assert why in raised.value.message
    assert repr(spec) in raised.value.message
    assert raised.value.exit_code == ExitCode.USAGE


def test_no_ledgers_or_the_same_ledger_twice_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no ledger is configured"):
        build_ledgers([])
    with pytest.raises(InputError, match="configured twice"):
        build_ledgers([f"file:{tmp_path / 'a'}", f"file:{tmp_path / 'a'}"])
    with pytest.raises(LedgerError, match="nothing was recorded"):
        append_all([], EntryKind.DECISION, {})


def test_append_all_returns_every_receipt(tmp_path: Path) -> None:
    ledgers = build_ledgers([f"file:{tmp_path / 'a.jsonl'}", f"file:{tmp_path / 'b.jsonl'}"])
    receipts = append_all(ledgers, EntryKind.DECISION, {"verdict": "allow"})
    assert [r.ledger for r in receipts] == [ledger.name for ledger in ledgers]
    for ledger, receipt in zip(ledgers, receipts, strict=True):
        assert [e.digest for e in ledger.entries()] == [receipt.digest]


def test_a_failing_ledger_fails_the_whole_write_and_says_what_was_recorded(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    specs = [
        f"file:{tmp_path / 'a.jsonl'}",
        f"file:{tmp_path / 'not-a-dir' / 'b.jsonl'}",
        f"file:{tmp_path / 'c.jsonl'}",
    ]
    ledgers = build_ledgers(specs)
    with pytest.raises(PartialWrite) as raised:
        append_all(ledgers, EntryKind.MINT_INTENT, {"n": 1})
    error = raised.value
    assert error.exit_code == ExitCode.INFRA
    assert error.failed == ledgers[1].name
    assert [r.ledger for r in error.recorded] == [ledgers[0].name]
    assert f"already recorded in {ledgers[0].name}" in error.message
    assert f"not attempted: {ledgers[2].name}" in error.message
    assert "NOT recorded as required" in error.message
    assert len(list(ledgers[0].entries())) == 1
    assert not (tmp_path / "c.jsonl").exists()


class _Broken(Ledger):
    """A ledger whose backend has a bug: append raises something that is not a LedgerError."""

    name = "broken:"

    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        raise KeyError(kind)

    def entries(self) -> Iterator[LedgerEntry]:
        return iter(())

    def verify(self) -> list[Problem]:
        return []


def test_a_backend_bug_is_still_a_failed_write(tmp_path: Path) -> None:
    ledgers: list[Ledger] = [_Broken(), FileLedger(tmp_path / "a.jsonl")]
    with pytest.raises(PartialWrite, match=r"internal error \(KeyError") as raised:
        append_all(ledgers, EntryKind.DECISION, {})
    assert raised.value.recorded == ()
    assert "no ledger recorded it" in raised.value.message
