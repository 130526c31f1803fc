"""`envsecops demo`: the whole chain on loopback, allow then deny; it checks itself, cleans up."""

from __future__ import annotations

import io
import json
import multiprocessing.util
import os
import re
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envsecops.attest.key import GeneratedKey
from envsecops.demo import local_env, mint_step, record_step, verify_step
from envsecops.demo import run as demo_run
from envsecops.demo.attest_step import Attested
from envsecops.demo.runner import AMBIENT_AWS, Runner
from envsecops.demo.sample import CLEAN, EXPECTED, FILES
from envsecops.model import Confidence, Finding, Severity
from envsecops.model.decision import Decision, Mode, Principal, Reason
from envsecops.model.decision import Verdict as DecisionVerdict
from envsecops.pins.engine import PinReport
from envsecops.pins.kinds import kind_for_path
from tests.conftest import CliResult

RunCli = Callable[..., CliResult]


def _report(findings: list[Finding]) -> PinReport:
    """A report that read every sample file and found ``findings``."""
    files = []
    for sample in FILES:
        kind = kind_for_path(sample.path)
        assert kind is not None, sample.path
        files.append((sample.path, kind))
    return PinReport(files=files, findings=findings, suppressed=[], skipped=[], metrics=Counter())


def _finding(path: str, line: int, rule: str) -> Finding:
    return Finding(rule, Severity.HIGH, Confidence.HIGH, path, line, 1, "ref", "message")


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    demo_run.write_sample(tmp_path)
    return tmp_path


CHAIN_OK_LINES = (
    "attestation signed by key:sha256:",
    "by the issuer's validated token (repository, repository_id, run_id, run_attempt, "
    "job_workflow_ref, sha from OIDC claims, not the environment)",
    "drafted from the attested bag (",
    "allow: no drift, every component allowed by envsecops-demo@sha256:",
    "through two hops (AssumeRoleWithWebIdentity on the gate role, then AssumeRole), tagged "
    "env_hash, policy_id, decision_id",
    "the exported credentials work: GetCallerIdentity with them answers "
    "arn:aws:sts::123456789012:assumed-role/deploy-",
    "the allow is recorded in the file ledger and the Object-Lock S3 ledger (exit 0;",
    "from the mint-intent and mint-issued entries of both ledgers",
    "deny: drift.env-hash with drift.json naming the added binary ",
    "mint refused the deny (exit 1, decision.deny): no token for sts.amazonaws.com was "
    "requested, moto issued no session, no credential was written",
    "the deny is recorded in the file ledger and the Object-Lock S3 ledger (exit 1;",
    "audit verify: both ledgers are sound (ok file:",
)
"""Every checked line of the chain after pin-check, in the order the demo prints them."""
LOOPBACK = re.compile(
    r"an OIDC issuer at (http://127\.0\.0\.1:\d+) .* moto at (http://127\.0\.0\.1:\d+) "
)


def _ok_lines(text: str) -> list[str]:
    return [line.strip()[len("[ok] ") :] for line in text.splitlines() if "[ok] " in line]


def _refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) != 0


@pytest.mark.slow
def test_demo_runs_the_whole_chain_and_cleans_up(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # multiprocessing keeps its own temp dir (the hashing workers' forkserver socket) for the
    # whole test process and removes it at exit: fix it before pointing tempfile at tmp_path,
    # which pytest deletes earlier.
    multiprocessing.util.get_temp_dir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    # As in the project's CI: the demo must still run as a local run, and leave these alone.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "ci-step-output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "ci-step-summary"))
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://token.invalid/not-used")
    # This machine's AWS settings must not leak in: a profile that does not exist would fail
    # every boto3 client the demo made if it were used.
    monkeypatch.setenv("AWS_PROFILE", "envsecops-demo-no-such-profile")
    monkeypatch.delenv("ENVSECOPS_AWS_ENDPOINT_URL", raising=False)
    before = dict(os.environ)
    threads = set(threading.enumerate())
    started = time.monotonic()
    result = run_cli("demo")
    seconds = time.monotonic() - started
    assert result.code == 0, result.out + result.err
    assert seconds < 60, f"the demo took {seconds:.1f} s"
    assert "[FAIL]" not in result.out
    ok = _ok_lines(result.out)
    assert len(ok) == len(EXPECTED) + len(CLEAN) + len(CHAIN_OK_LINES), ok
    for line, wanted in zip(ok[-len(CHAIN_OK_LINES) :], CHAIN_OK_LINES, strict=True):
        assert wanted in line, (wanted, line)
    for expected in EXPECTED:
        assert expected.what in result.out
    assert "it hides GITHUB_ACTIONS, ACTIONS_ID_TOKEN_REQUEST_URL from its own" in result.out
    assert "planted-bin/git" in result.out
    assert "not in the demo yet" not in result.out
    # the job summary, rendered for the terminal, and audit why's paragraph
    assert "The job summary (what $GITHUB_STEP_SUMMARY shows the reviewer):" in result.out
    assert "| ### ✅ Allowed" in result.out
    assert "| ### ❌ Denied" in result.out
    assert "existed because decision dec_" in result.out
    assert "mint timings (s): " in result.out
    assert re.search(r"demo: ok in \d+\.\d s - ", result.out)
    # the services are stopped, the environment is as it was, nothing is left behind
    found = LOOPBACK.search(result.out)
    assert found is not None, "the demo names its loopback services"
    for url in found.groups():
        assert _refuses_connections(url), f"{url} still accepts connections"
    assert dict(os.environ) == before, "the environment is restored"
    assert not (tmp_path / "ci-step-output").exists(), "the demo set no step outputs of its own"
    assert not (tmp_path / "ci-step-summary").exists(), "nor wrote the surrounding job's summary"
    left = [p for p in tmp_path.iterdir() if not p.name.startswith("pymp-")]
    assert left == [], "the demo left its temporary tree behind"
    lingering = [t for t in set(threading.enumerate()) - threads if not t.daemon]
    assert lingering == [], "the demo left threads running"


def test_demo_without_moto_says_how_to_get_it(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "moto", None)
    monkeypatch.setitem(sys.modules, "moto.server", None)
    result = run_cli("demo")
    assert result.code == 2
    assert "moto is a development dependency" in result.out
    assert "python3 tools/dev.py demo" in result.out
    assert "Stage 1" not in result.out, "nothing runs without the local cloud"


def test_every_marker_names_exactly_one_line(sample_root: Path) -> None:
    markers = [(e.path, e.marker) for e in EXPECTED] + [(c.path, c.marker) for c in CLEAN]
    for path, marker in markers:
        line = demo_run._line_of(sample_root, path, marker)
        text = (sample_root / path).read_text(encoding="utf-8").splitlines()[line - 1]
        assert marker in text


def test_sample_files_are_all_kinds_pin_check_reads() -> None:
    for sample in FILES:
        assert kind_for_path(sample.path) is not None, sample.path


def test_verify_fails_when_pin_check_reports_nothing(sample_root: Path) -> None:
    verdicts = demo_run.verify(sample_root, _report([]))
    failed = [v for v in verdicts if not v.ok]
    assert len(failed) == len(EXPECTED)


def test_verify_passes_on_exactly_the_expected_findings(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = {rule for e in EXPECTED for rule in e.rules}
    monkeypatch.setattr(demo_run, "RULES", dict.fromkeys(known))
    findings = [
        _finding(e.path, demo_run._line_of(sample_root, e.path, e.marker), e.rules[0])
        for e in EXPECTED
    ]
    verdicts = demo_run.verify(sample_root, _report(findings))
    assert all(v.ok for v in verdicts), [v.text for v in verdicts if not v.ok]


def test_verify_fails_on_a_finding_on_a_clean_line(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_run, "RULES", dict.fromkeys({r for e in EXPECTED for r in e.rules}))
    clean = CLEAN[0]
    line = demo_run._line_of(sample_root, clean.path, clean.marker)
    verdicts = demo_run.verify(sample_root, _report([_finding(clean.path, line, "unpinned-uses")]))
    assert any(not v.ok and "wrongly reported" in v.text for v in verdicts)


def test_verify_says_when_a_rule_is_not_registered(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_run, "RULES", {})
    verdicts = demo_run.verify(sample_root, _report([]))
    unregistered = [v for v in verdicts if "no check is registered" in v.text]
    assert len(unregistered) == len(EXPECTED)
    assert not any(v.ok for v in unregistered)


def test_verify_fails_on_a_parse_error_or_an_unread_file(sample_root: Path) -> None:
    parse = _finding(FILES[0].path, 1, "parse-error")
    report = _report([parse])
    report.files = report.files[1:]
    texts = [v.text for v in demo_run.verify(sample_root, report) if not v.ok]
    assert any("unexpected parse-error" in t for t in texts)
    assert any(f"{FILES[0].path}: pin-check did not read this file" in t for t in texts)


@pytest.mark.slow
def test_run_demo_writes_only_to_the_given_stream(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    code = demo_run.run_demo(stream)
    text = stream.getvalue()
    assert code == 0, text
    assert "$ envsecops pin-check ." in text
    assert "$ envsecops verify --attestation attestation.dsse.json" in text
    assert "$ envsecops mint --decision decision-allow/decision.json" in text
    assert "$ envsecops audit why ASIA" in text
    assert text.rstrip().endswith("the servers are stopped and the temporary files removed")
    assert capsys.readouterr() == ("", "")


ENV_HASH = "sha256:" + "ab" * 32


def _attested(tmp_path: Path) -> Attested:
    key = GeneratedKey(tmp_path / "k.pem", tmp_path / "k.pem.pub", "key:sha256:" + "0" * 64)
    return Attested(key, tmp_path / "attestation", "n" * 32, ENV_HASH)


def _decision(verdict: DecisionVerdict, *codes: str) -> Decision:
    return Decision(
        decision_id="dec_" + "1" * 32,
        verdict=verdict,
        mode=Mode.ENFORCE,
        reasons=tuple(Reason(code, "bag env-hash", "message") for code in codes),
        env_hash=ENV_HASH,
        policy_id="envsecops-demo@sha256:" + "c" * 12,
        attestation_digest="sha256:" + "d" * 64,
        principal=Principal((), "environment"),
        job="-/-/-/-/-",
        issued_at="2026-01-01T00:00:00Z",
        expires_at="2026-01-01T00:10:00Z",
        policy_source="local",
    )


def _drift(out: Path, *added: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    components = [{"kind": "binary", "name": p.name, "path": str(p)} for p in added]
    (out / "drift.json").write_text(
        json.dumps({"added": components, "removed": [], "changed": []}), encoding="utf-8"
    )


def test_allow_expectation_holds_only_for_a_clean_allow(tmp_path: Path) -> None:
    attested, out = _attested(tmp_path), tmp_path / "allow"
    out.mkdir()
    allow = _decision(DecisionVerdict.ALLOW)
    assert verify_step._expect_allow(attested, verify_step.Outcome(0, out, allow)).ok
    deny = _decision(DecisionVerdict.DENY, "binary.unlisted")
    failed = verify_step._expect_allow(attested, verify_step.Outcome(1, out, deny))
    assert not failed.ok
    assert "expected allow, got deny (exit 1; reasons: binary.unlisted)" in failed.text
    unread = verify_step._expect_allow(attested, verify_step.Outcome(0, out, None, "no file"))
    assert not unread.ok
    _drift(out, tmp_path / "x")
    assert not verify_step._expect_allow(attested, verify_step.Outcome(0, out, allow)).ok


def test_deny_expectation_needs_the_drift_reason_and_the_planted_binary(tmp_path: Path) -> None:
    attested, out = _attested(tmp_path), tmp_path / "deny"
    planted = tmp_path / "planted-bin" / "git"
    drift = _decision(DecisionVerdict.DENY, "drift.env-hash")
    _drift(out, tmp_path / "something-else")
    missing = verify_step._expect_deny(attested, verify_step.Outcome(1, out, drift), planted)
    assert not missing.ok
    assert "drift.json does not list" in missing.text
    _drift(out, planted)
    assert verify_step._expect_deny(attested, verify_step.Outcome(1, out, drift), planted).ok
    other = _decision(DecisionVerdict.DENY, "binary.unlisted")
    assert not verify_step._expect_deny(attested, verify_step.Outcome(1, out, other), planted).ok
    allow = _decision(DecisionVerdict.ALLOW)
    allowed = verify_step._expect_deny(attested, verify_step.Outcome(0, out, allow), planted)
    assert not allowed.ok
    assert "expected deny (exit 1), got allow (exit 0" in allowed.text
    audit = verify_step.Outcome(0, out, drift)  # a deny that did not fail the step
    assert not verify_step._expect_deny(attested, audit, planted).ok


def _fail_outside_actions(seen: list[bool]) -> None:
    with local_env.outside_actions():
        seen.append("GITHUB_ACTIONS" in os.environ)
        raise RuntimeError("stage failed")


def test_changed_environment_restores_even_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    seen: list[bool] = []
    with pytest.raises(RuntimeError, match="stage failed"):
        _fail_outside_actions(seen)
    assert seen == [False], "hidden inside"
    assert os.environ["GITHUB_ACTIONS"] == "true", "restored after the error"
    monkeypatch.delenv("ENVSECOPS_DEMO_PROBE", raising=False)
    with local_env.changed_environment({"ENVSECOPS_DEMO_PROBE": "set"}):
        assert os.environ["ENVSECOPS_DEMO_PROBE"] == "set"
    assert "ENVSECOPS_DEMO_PROBE" not in os.environ, "a variable that was unset is unset again"


def test_step_outputs_reads_heredoc_entries(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.write_text(
        'ledger-receipts<<ghadelim_1\n[{"ledger": "file:x"}]\nghadelim_1\n'
        "digest<<ghadelim_2\nsha256:ab\nghadelim_2\n",
        encoding="utf-8",
    )
    assert record_step.step_outputs(output) == {
        "ledger-receipts": '[{"ledger": "file:x"}]',
        "digest": "sha256:ab",
    }


def test_terminal_markdown_drops_escapes_but_keeps_table_cells_whole() -> None:
    text = record_step.terminal_markdown(r"| envsecops\-demo\@sha256 | a \| b | <sub>v</sub> |")
    assert text == r"| envsecops-demo@sha256 | a \| b | v |"


def test_runner_environment_isolates_aws_and_names_the_job(tmp_path: Path) -> None:
    class Services:
        url = "http://127.0.0.1:1"
        endpoint = "http://127.0.0.1:2"

        def environ(self) -> dict[str, str]:
            return {"ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.url}/token"}

    services = Services()
    changes = Runner(tmp_path).environ(services, services)  # type: ignore[arg-type]
    assert changes["GITHUB_ACTIONS"] is None
    assert all(changes[name] is None for name in AMBIENT_AWS)
    assert changes["ENVSECOPS_AWS_ENDPOINT_URL"] == "http://127.0.0.1:2"
    assert changes["ACTIONS_ID_TOKEN_REQUEST_URL"] == "http://127.0.0.1:1/token"
    assert changes["GITHUB_REPOSITORY"] == "octo-org/octo-repo"
    assert str(changes["AWS_CONFIG_FILE"]).startswith(str(tmp_path))


def _cloud() -> Any:
    class FakeCloud:
        target_arn = "arn:aws:iam::123456789012:role/deploy-x"
        target_name = "deploy-x"

    return FakeCloud()


def test_stamped_expectation_needs_every_tag_the_identity_and_two_hops() -> None:
    decision = _decision(DecisionVerdict.ALLOW)
    cloud = _cloud()
    good = {
        "tags": {
            "env_hash": decision.env_hash,
            "policy_id": decision.policy_id,
            "decision_id": decision.decision_id,
        },
        "source_identity": decision.decision_id,
        "role": cloud.target_arn,
        "key_id": "ASIAEXAMPLE",
    }
    assert mint_step._expect_stamped(good, decision, 2, cloud).ok
    assert not mint_step._expect_stamped(good, decision, 1, cloud).ok
    untagged = {**good, "tags": {"env_hash": decision.env_hash}}
    failed = mint_step._expect_stamped(untagged, decision, 2, cloud)
    assert not failed.ok
    assert "policy_id, decision_id" in failed.text
    other = {**good, "source_identity": "dec_other"}
    assert not mint_step._expect_stamped(other, decision, 2, cloud).ok


def test_usable_expectation_needs_all_three_exports() -> None:
    exports = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s"}
    failed = mint_step._expect_usable(exports, {"key_id": "ASIAEXAMPLE"}, _cloud())
    assert not failed.ok
    assert "AWS_SESSION_TOKEN" in failed.text
