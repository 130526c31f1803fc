"""`envsecops audit` end to end over ledgers written by `envsecops record` (file and S3/moto)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from envsecops.model.decision import Decision, Principal, Reason, Verdict
from envsecops.model.ledger import LedgerEntry
from tests.conftest import CliResult
from tests.integration.moto_s3 import MotoS3
from tests.integration.test_record_cli import write_json
from tests.unit.ledger.test_audit import CLAIMS, CREDENTIAL, decision

RunCli = Callable[..., CliResult]


def fresh(made: Decision) -> Decision:
    """The decision made a second ago, valid for five minutes (records are stamped now)."""
    now = datetime.now(UTC)
    return replace(
        made,
        issued_at=(now - timedelta(seconds=1)).isoformat(),
        expires_at=(now + timedelta(minutes=5)).isoformat(),
    )


def record_trio(run_cli: RunCli, tmp_path: Path, *ledgers: str) -> None:
    """decision, mint-intent and mint-issued for dec-7, as mint-creds and record write them."""
    d = write_json(tmp_path / "d.json", fresh(decision()).to_json())
    c = write_json(tmp_path / "c.json", CREDENTIAL.to_json())
    flags = [part for spec in ledgers for part in ("--ledger", spec)]
    for extra in ([], ["--kind", "mint-intent"], ["--kind", "mint-issued", "--credential", c]):
        result = run_cli("record", "--decision", d, *extra, *flags)
        assert result.code == 0, result.err


@pytest.fixture
def ledger(tmp_path: Path, run_cli: RunCli) -> str:
    """A file ledger holding the dec-7 trio and a deny for another repository."""
    spec = f"file:{tmp_path / 'ledger.jsonl'}"
    record_trio(run_cli, tmp_path, spec)
    other = replace(
        decision(Verdict.DENY, decision_id="dec-9"),
        principal=Principal.from_claims({**CLAIMS, "repository": "=cmd|'/c calc'!A1"}, "oidc"),
        reasons=(Reason("env-forbidden", "env:LD_PRELOAD", "set\n::error::forged"),),
    )
    path = write_json(tmp_path / "deny.json", other.to_json())
    assert run_cli("record", "--decision", path, "--ledger", spec).code == 1
    return spec


def test_why_by_access_key_answers_in_one_paragraph_with_the_entries(
    run_cli: RunCli, ledger: str
) -> None:
    result = run_cli("audit", "why", CREDENTIAL.key_id, "--ledger", ledger)
    assert result.code == 0, result.err
    paragraph, entries = result.out.split("\n\nEntries read:\n")
    text = " ".join(paragraph.split())
    assert text.startswith(f"Access key {CREDENTIAL.key_id} existed because decision dec-7")
    assert "env hash sha256:" + "a" * 64 in text
    assert "policy deploy@sha256:0123456789ab" in text
    assert "repository octo/app (workflow octo/app/.github/workflows/deploy.yml" in text
    assert "run 9001, attempt 2, job deploy, actor alice" in text
    assert "valid until 2026-11-22T10:17:00Z" in text
    kinds = [line.split()[1] for line in entries.splitlines() if line.startswith("  - ")]
    assert kinds == ["decision", "mint-intent", "mint-issued"]
    assert "ANOMALY" not in result.out


def test_why_not_found_is_exit_1_with_a_clear_message(run_cli: RunCli, ledger: str) -> None:
    result = run_cli("audit", "why", "ASIAUNKNOWN", "--ledger", ledger)
    assert result.code == 1
    assert "no record in file:" in result.err
    assert "names 'ASIAUNKNOWN' (4 entries searched" in result.err


def test_why_reports_anomalies_and_fails(tmp_path: Path, run_cli: RunCli) -> None:
    spec = f"file:{tmp_path / 'l.jsonl'}"
    c = write_json(tmp_path / "c.json", CREDENTIAL.to_json())
    d = write_json(tmp_path / "d.json", decision().to_json())
    assert run_cli("record", "--kind", "mint-issued", "--decision", d, "--credential", c,
                   "--ledger", spec).code == 0  # fmt: skip
    result = run_cli("audit", "why", CREDENTIAL.session_name, "--ledger", spec)
    assert result.code == 1
    assert "ANOMALY: no `decision` entry was recorded" in result.out
    assert "has no mint-intent entry recorded before it" in result.out


def test_why_output_is_inert_in_actions(
    run_cli: RunCli, ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run_cli("audit", "why", "dec-9", "--ledger", ledger)
    assert result.code == 0, result.err
    first, *_rest, last = result.out.splitlines()
    token = first.removeprefix("::stop-commands::")
    assert first.startswith("::stop-commands::")
    assert last == f"::{token}::"
    assert "::error::forged" in result.out
    assert not [line for line in _rest if line.startswith("::")], "no line can be a command"


def test_verify_passes_then_names_the_first_tampered_entry(
    tmp_path: Path, run_cli: RunCli, ledger: str
) -> None:
    ok = run_cli("audit", "verify", "--ledger", ledger)
    assert ok.code == 0, ok.err
    assert f"ok {ledger}: 4 entries, sound" in ok.out
    path = tmp_path / "ledger.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"mode":"enforce"', b'"mode":"audit"')
    path.write_bytes(b"".join(lines))
    broken = run_cli("audit", "verify", "--ledger", ledger)
    assert broken.code == 1
    assert f"first broken entry: {path}:2:" in broken.err
    assert f"BROKEN {ledger}" in broken.out


def test_verify_names_a_torn_tail(tmp_path: Path, run_cli: RunCli, ledger: str) -> None:
    path = tmp_path / "ledger.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"body":{"decision_id":"dec-')
    result = run_cli("audit", "verify", "--ledger", ledger)
    assert result.code == 1
    assert f"{path}:5" in result.err


def test_verify_of_a_missing_ledger_is_exit_3(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("audit", "verify", "--ledger", f"file:{tmp_path / 'nope.jsonl'}")
    assert result.code == 3
    assert "nothing about it is verified" in result.err


def test_list_filters_by_repository_verdict_and_since(run_cli: RunCli, ledger: str) -> None:
    result = run_cli("audit", "list", "--ledger", ledger, "--verdict", "deny")
    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()
    assert header.split("\t")[:3] == ["recorded_at", "kind", "verdict"]
    assert [row.split("\t")[4] for row in rows] == ["dec-9"]
    result = run_cli("audit", "list", "--ledger", ledger, "--repository", "octo/app")
    assert len(result.out.splitlines()) == 4
    result = run_cli("audit", "list", "--ledger", ledger, "--since", "2999-01-01")
    assert result.out.splitlines()[1:] == []
    bad = run_cli("audit", "list", "--ledger", ledger, "--since", "yesterday")
    assert bad.code == 2
    assert "--since 'yesterday' is not an ISO 8601" in bad.err


def test_export_csv_neutralises_formulas_and_jsonl_keeps_digests(
    tmp_path: Path, run_cli: RunCli, ledger: str
) -> None:
    out = tmp_path / "export.csv"
    result = run_cli("audit", "export", "--format", "csv", "--output", out, "--ledger", ledger)
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 4
    assert rows[3]["repository"] == "'=cmd|'/c calc'!A1"
    assert rows[2]["key_id"] == CREDENTIAL.key_id
    lines = run_cli("audit", "export", "--ledger", ledger).out.splitlines()
    assert len(lines) == 4
    for line in lines:
        item = json.loads(line)
        assert item["format"] == "envsecops-ledger-export"
        assert LedgerEntry.from_json(item["entry"]).digest == item["entry"]["digest"]


def test_audit_without_action_is_a_usage_error(run_cli: RunCli) -> None:
    result = run_cli("audit")
    assert result.code == 2
    assert "audit needs an action" in result.err


def test_s3_ledger_why_and_verify(tmp_path: Path, run_cli: RunCli, moto_s3: MotoS3) -> None:
    spec = (
        f"s3://{moto_s3.locked_bucket}/envsecops?retention-days=1&region=us-east-1"
        f"&endpoint-url={moto_s3.endpoint}"
    )
    file_spec = f"file:{tmp_path / 'l.jsonl'}"
    record_trio(run_cli, tmp_path, file_spec, spec)
    verify = run_cli("audit", "verify", "--ledger", spec, "--ledger", file_spec)
    assert verify.code == 0, verify.out + verify.err
    assert f"ok s3://{moto_s3.locked_bucket}/envsecops: 3 entries, sound" in verify.out
    why = run_cli("audit", "why", CREDENTIAL.key_id, "--ledger", spec, "--ledger", file_spec)
    assert why.code == 0, why.err
    assert f"in s3://{moto_s3.locked_bucket}/envsecops, file:" in why.out, "merged records"
    assert why.out.count("  - ") == 3


def test_s3_verify_reports_a_bucket_without_object_lock(run_cli: RunCli, moto_s3: MotoS3) -> None:
    spec = (
        f"s3://{moto_s3.plain_bucket}/envsecops?retention-days=1&region=us-east-1"
        f"&endpoint-url={moto_s3.endpoint}"
    )
    result = run_cli("audit", "verify", "--ledger", spec)
    assert result.code == 1
    assert "Object Lock" in result.out
