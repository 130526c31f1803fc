"""`envsecops record` end to end: real file and S3 (moto) ledgers, Actions files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from envsecops.ledger.audit import record_body, record_digest
from envsecops.ledger.file import FileLedger
from envsecops.model.decision import Decision, Mode, Reason, Verdict
from envsecops.model.ledger import EntryKind
from envsecops.syntax.yaml import compose_documents, scalar
from tests.conftest import ROOT, CliResult
from tests.integration.action_runner import ready_venv as _ready_venv
from tests.integration.moto_s3 import MotoS3, closed_port
from tests.integration.test_action_script import _mapping
from tests.unit.ledger.test_audit import CREDENTIAL, decision

RunCli = Callable[..., CliResult]


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A GitHub Actions step environment in ``tmp_path``: summary, output, runner temp."""
    files = {
        "summary": tmp_path / "step-summary.md",
        "output": tmp_path / "github-output",
        "temp": tmp_path / "runner-temp",
    }
    files["temp"].mkdir()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("RUNNER_TEMP", str(files["temp"]))
    monkeypatch.chdir(tmp_path)
    return files


def outputs(path: Path) -> dict[str, str]:
    """Parse `name<<DELIM` heredoc entries from $GITHUB_OUTPUT."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    index = 0
    while index < len(lines):
        name, delimiter = lines[index].split("<<", 1)
        end = lines.index(delimiter, index + 1)
        found[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return found


def test_allow_is_recorded_with_summary_outputs_and_receipts(
    tmp_path: Path, run_cli: RunCli, actions: dict[str, Path]
) -> None:
    ledger_path = tmp_path / "ledger.jsonl"
    made = decision()
    result = run_cli(
        "record", "--decision", write_json(tmp_path / "d.json", made.to_json()),
        "--ledger", f"file:{ledger_path}",
    )  # fmt: skip
    assert result.code == 0, result.err
    (entry,) = FileLedger(ledger_path).entries()
    assert entry.kind is EntryKind.DECISION
    assert dict(entry.body) == record_body(made)
    assert result.out.startswith("::stop-commands::")
    assert f"seq 0  {entry.digest}" in result.out
    values = outputs(actions["output"])
    assert values["digest"] == record_digest(EntryKind.DECISION, record_body(made))
    (receipt,) = json.loads(values["ledger-receipts"])
    assert receipt == {
        "ledger": f"file:{ledger_path}",
        "location": str(ledger_path),
        "seq": 0,
        "digest": entry.digest,
    }
    summary = actions["summary"].read_text(encoding="utf-8")
    assert "### ✅ Allowed" in summary
    assert entry.digest in summary
    assert "::error" not in result.out, "an allow has no deny annotations"


def test_deny_in_enforce_mode_is_recorded_and_fails_the_step(
    tmp_path: Path, run_cli: RunCli, actions: dict[str, Path]
) -> None:
    made = replace(
        decision(Verdict.DENY),
        reasons=(Reason("binary-not-allowed", "binary:/usr/bin/nc", "not in the allowlist\n"),),
    )
    path = write_json(tmp_path / "d.json", made.to_json())
    result = run_cli("record", "--decision", path, "--ledger", f"file:{tmp_path / 'l.jsonl'}")
    assert result.code == 1
    assert result.out.startswith(
        "::error title=envsecops deny%3A binary-not-allowed::binary:/usr/bin/nc: not in the "
        "allowlist%0A\n"
    )
    assert "### ❌ Denied" in actions["summary"].read_text(encoding="utf-8")
    assert len(list(FileLedger(tmp_path / "l.jsonl").entries())) == 1
    audit_mode = replace(made, decision_id="dec-8", mode=Mode.AUDIT)
    path = write_json(tmp_path / "d2.json", audit_mode.to_json())
    result = run_cli("record", "--decision", path, "--ledger", f"file:{tmp_path / 'l.jsonl'}")
    assert result.code == 0, "audit mode: recorded and shown, the step passes"
    assert result.out.startswith("::warning title=envsecops deny")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"decision_id": "a", "decision_id": "b"}', "duplicate key 'decision_id'"),
        ('{"verdict": NaN}', "`NaN` is not JSON"),
        ("[]", "must be a JSON object"),
        ('{"decision_id": "x"}', "not a valid decision"),
    ],
)
def test_a_decision_file_that_does_not_parse_is_exit_2_naming_it(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, content: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "decision.json").write_text(content, encoding="utf-8")
    result = run_cli("record", "--decision", "decision.json", "--ledger", "file:l.jsonl")
    assert result.code == 2
    assert "decision.json: " in result.err
    assert message in result.err
    assert not (tmp_path / "l.jsonl").exists(), "nothing was recorded"


def test_invalid_decision_values_are_refused(tmp_path: Path, run_cli: RunCli) -> None:
    bad = {**decision().to_json(), "env_hash": "abc", "expires_at": "soon"}
    result = run_cli(
        "record", "--decision", write_json(tmp_path / "d.json", bad),
        "--ledger", f"file:{tmp_path / 'l.jsonl'}",
    )  # fmt: skip
    assert result.code == 2
    assert "`expires_at` is not an ISO 8601 time" in result.err
    assert "an allow needs `env_hash` as sha256:<64 hex>" in result.err


def test_a_credential_file_holding_a_secret_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    leaked = {**CREDENTIAL.to_json(), "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG"}
    result = run_cli(
        "record", "--kind", "mint-issued",
        "--decision", write_json(tmp_path / "d.json", decision().to_json()),
        "--credential", write_json(tmp_path / "c.json", leaked),
        "--ledger", f"file:{tmp_path / 'l.jsonl'}",
    )  # fmt: skip
    assert result.code == 2
    assert "unexpected field(s) SecretAccessKey" in result.err
    assert "wJalr" not in result.err + result.out
    assert not (tmp_path / "l.jsonl").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--kind", "mint-issued"], "--credential is required for --kind mint-issued"),
        (["--kind", "mint-failed"], "--error is required for --kind mint-failed"),
        (["--error", "x"], "--error is required for --kind mint-failed and only for it"),
        (["--kind", "drift"], "--kind drift needs --drift"),
    ],
)
def test_kind_and_its_inputs_must_agree(
    tmp_path: Path, run_cli: RunCli, extra: list[str], message: str
) -> None:
    path = write_json(tmp_path / "d.json", decision().to_json())
    result = run_cli("record", "--decision", path, "--ledger", f"file:{tmp_path / 'l'}", *extra)
    assert result.code == 2
    assert message in result.err


def test_mint_issued_with_drift_and_pin_report_lands_in_the_body(
    tmp_path: Path, run_cli: RunCli
) -> None:
    diff = {"added": [{"kind": "binary", "name": "nc", "source": "path"}], "removed": []}
    pins = {"version": "1", "findings": [{"severity": "high"}], "suppressed": [], "files": [{}]}
    result = run_cli(
        "record", "--kind", "mint-issued",
        "--decision", write_json(tmp_path / "d.json", decision().to_json()),
        "--credential", write_json(tmp_path / "c.json", CREDENTIAL.to_json()),
        "--drift", write_json(tmp_path / "drift.json", {**diff, "changed": []}),
        "--pin-report", write_json(tmp_path / "pins.json", pins),
        "--ledger", f"file:{tmp_path / 'l.jsonl'}",
    )  # fmt: skip
    assert result.code == 0, result.err
    (entry,) = FileLedger(tmp_path / "l.jsonl").entries()
    assert entry.body["credential"]["key_id"] == CREDENTIAL.key_id
    assert entry.body["drift"]["added"][0]["name"] == "nc"
    assert entry.body["pin_check"]["findings"]["high"] == 1
    other = replace(CREDENTIAL, source_identity="dec-other")
    result = run_cli(
        "record", "--kind", "mint-issued",
        "--decision", tmp_path / "d.json",
        "--credential", write_json(tmp_path / "c2.json", other.to_json()),
        "--ledger", f"file:{tmp_path / 'l.jsonl'}",
    )  # fmt: skip
    assert result.code == 2
    assert "names another decision" in result.err


def test_policy_ledgers_are_always_written_and_flags_only_add(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".github").mkdir()
    policy = "mode: enforce\nledger:\n  file: records/policy.jsonl\n"
    (tmp_path / ".github" / "envsecops.yml").write_text(policy, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    path = write_json(tmp_path / "d.json", decision().to_json())
    result = run_cli("record", "--decision", path, "--ledger", "file:extra.jsonl")
    assert result.code == 0, result.err
    for name in ("records/policy.jsonl", "extra.jsonl"):
        assert len(list(FileLedger(tmp_path / name).entries())) == 1
    again = run_cli(
        "record", "--decision", path, "--ledger", f"file:{tmp_path / 'records/policy.jsonl'}"
    )
    assert again.code == 0, "naming the policy's ledger again is not a second write"
    assert len(list(FileLedger(tmp_path / "records/policy.jsonl").entries())) == 2


def test_a_broken_policy_ledger_section_is_exit_2(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "policy.yml").write_text("ledger:\n  file: x\n  rekor: yes\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    path = write_json(tmp_path / "d.json", decision().to_json())
    result = run_cli("record", "--decision", path, "--policy", "policy.yml")
    assert result.code == 2
    assert "policy.yml:3:10: `ledger.rekor` must be `true` or `false`" in result.err


def test_without_any_ledger_the_default_file_ledger_is_used_and_said(
    tmp_path: Path, run_cli: RunCli, actions: dict[str, Path]
) -> None:
    path = write_json(tmp_path / "d.json", decision().to_json())
    result = run_cli("record", "--decision", path)
    assert result.code == 0, result.err
    default = actions["temp"] / "envsecops" / "ledger.jsonl"
    assert len(list(FileLedger(default).entries())) == 1
    assert f"embedded default file ledger is used: {default}" in result.err
    assert "::warning title=envsecops record::no ledger is configured" in result.out


def test_file_and_s3_ledgers_both_record(tmp_path: Path, run_cli: RunCli, moto_s3: MotoS3) -> None:
    s3_spec = (
        f"s3://{moto_s3.locked_bucket}/envsecops?retention-days=1&region=us-east-1"
        f"&endpoint-url={moto_s3.endpoint}"
    )
    made = decision()
    result = run_cli(
        "record", "--decision", write_json(tmp_path / "d.json", made.to_json()),
        "--ledger", f"file:{tmp_path / 'l.jsonl'}", "--ledger", s3_spec,
    )  # fmt: skip
    assert result.code == 0, result.err
    (version,) = moto_s3.versions(prefix="envsecops/")
    assert version["Key"].startswith("envsecops/4242/")
    assert f"s3://{moto_s3.locked_bucket}/envsecops  seq -" in result.out


def test_s3_refusing_connections_is_exit_3_and_nothing_recorded(
    tmp_path: Path, run_cli: RunCli, moto_s3: MotoS3, actions: dict[str, Path]
) -> None:
    down = (
        f"s3://{moto_s3.locked_bucket}/x?retention-days=1&region=us-east-1"
        f"&endpoint-url=http://127.0.0.1:{closed_port()}"
    )
    path = write_json(tmp_path / "d.json", decision().to_json())
    result = run_cli("record", "--decision", path, "--ledger", down)
    assert result.code == 3
    assert "nothing was recorded" in result.err
    assert "**❗ NOT RECORDED**" in actions["summary"].read_text(encoding="utf-8")
    assert "::error title=envsecops record%3A ledger failed::" in result.out
    assert "digest" not in outputs(actions["output"]), "no digest for a record that is void"
    partial = run_cli(
        "record", "--decision", path, "--ledger", f"file:{tmp_path / 'l.jsonl'}", "--ledger", down
    )
    assert partial.code == 3
    assert f"recorded only in file:{tmp_path / 'l.jsonl'}; NOT in s3://" in partial.err


def test_a_deny_recorded_as_mint_issued_is_kept_as_evidence_and_fails(
    tmp_path: Path, run_cli: RunCli
) -> None:
    denied: Decision = decision(Verdict.DENY, reasons=1)
    result = run_cli(
        "record", "--kind", "mint-issued",
        "--decision", write_json(tmp_path / "d.json", denied.to_json()),
        "--credential", write_json(tmp_path / "c.json", CREDENTIAL.to_json()),
        "--ledger", f"file:{tmp_path / 'l.jsonl'}",
    )  # fmt: skip
    assert result.code == 1
    assert len(list(FileLedger(tmp_path / "l.jsonl").entries())) == 1


SCRIPT = ROOT / "actions" / "_lib" / "record-decision.sh"
ACTION_INPUTS = (
    "decision",
    "kind",
    "credential",
    "drift",
    "pin-report",
    "error",
    "ledger",
    "policy",
)


def _script(tmp_path: Path, inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the action script as the composite step does, with a ready venv (no install)."""
    action = tmp_path / "action"
    action.mkdir(exist_ok=True)
    _ready_venv(action)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(tmp_path),
        **{f"ENVSECOPS_{k.upper().replace('-', '_')}": v for k, v in inputs.items()},
    }
    return subprocess.run(
        ["bash", str(SCRIPT), str(action)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "input `decision` is empty"),
        ({"decision": "d.json", "kind": "grant"}, "`kind` must be one of decision, mint-intent"),
        ({"decision": "d.json\n::warning::x"}, "`decision` must be a single line"),
        ({"decision": "d.json", "ledger": "file:a\nfile:b"}, "`ledger` must be a single line"),
    ],
)
def test_action_refuses_bad_inputs_before_anything_runs(
    tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    result = _script(tmp_path, inputs)
    assert result.returncode == 2
    assert result.stdout.startswith("::error title=envsecops record-decision::")
    assert message in result.stdout
    assert len(result.stdout.splitlines()) == 1
    assert not (tmp_path / "github-output").exists()


def test_action_records_and_sets_outputs(tmp_path: Path) -> None:
    write_json(tmp_path / "d.json", decision(Verdict.DENY, reasons=1).to_json())
    inputs = {"decision": "d.json", "ledger": "file:a.jsonl file:b.jsonl"}
    result = _script(tmp_path, inputs)
    assert result.returncode == 1, result.stdout + result.stderr
    values = outputs(tmp_path / "github-output")
    assert [r["ledger"] for r in json.loads(values["ledger-receipts"])] == [
        f"file:{tmp_path / 'a.jsonl'}",
        f"file:{tmp_path / 'b.jsonl'}",
    ]
    assert values["digest"].startswith("sha256:")
    assert "### ❌ Denied" in (tmp_path / "summary.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("rel", "script"), [("actions/record-decision/action.yml", "../_lib")])
def test_action_hands_every_input_to_the_script_through_env(rel: str, script: str) -> None:
    (root,) = compose_documents((ROOT / rel).read_text(encoding="utf-8"))
    action = _mapping(root)
    assert tuple(_mapping(action["inputs"])) == ACTION_INPUTS
    assert set(_mapping(action["outputs"])) == {"ledger-receipts", "digest"}
    (step,) = (_mapping(s) for s in _mapping(action["runs"])["steps"].value)
    env = {name: scalar(value) for name, value in _mapping(step["env"]).items()}
    assert env == {
        f"ENVSECOPS_{name.upper().replace('-', '_')}": f"${{{{ inputs.{name} }}}}"
        for name in ACTION_INPUTS
    }
    assert scalar(step["run"]) == (
        f'bash -- "$GITHUB_ACTION_PATH/{script}/record-decision.sh" "$GITHUB_ACTION_PATH"'
    )
    (top,) = compose_documents((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = [_mapping(s) for s in _mapping(_mapping(top)["runs"])["steps"].value]
    (record,) = (s for s in steps if scalar(s["id"]) == "record")
    assert scalar(record["if"]) == "always() && steps.verify.outputs.decision != ''"
    assert "record-decision.sh" in str(scalar(record["run"]))
