"""`envsecops demo`: pin-check, attest, verify (allow, then deny); it checks itself, cleans up."""

from __future__ import annotations

import io
import json
import multiprocessing.util
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.attest.key import GeneratedKey
from envsecops.demo import local_env, verify_step
from envsecops.demo import run as demo_run
from envsecops.demo.attest_step import Attested
from envsecops.demo.sample import CLEAN, EXPECTED, FILES, UPCOMING
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


@pytest.mark.slow
def test_demo_succeeds_and_says_what_is_not_built(
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
    path = os.environ["PATH"]
    result = run_cli("demo")
    assert result.code == 0, result.out + result.err
    assert "[FAIL]" not in result.out
    # one [ok] per pin-check expectation, one for the verified attestation of stage 2, and
    # three for stage 3: the drafted policy, the allow, the deny after the planted binary
    assert result.out.count("[ok]") == len(EXPECTED) + len(CLEAN) + 1 + 3
    assert "attestation signed by key:sha256:" in result.out
    assert "it hides GITHUB_ACTIONS from its own attest and verify" in result.out
    assert "[ok] allow: no drift, every component allowed by envsecops-demo@sha256:" in result.out
    assert "[ok] deny: drift.env-hash with drift.json naming the added binary " in result.out
    assert "planted-bin/git" in result.out
    assert "verify-bag: not in the demo yet" not in result.out
    for name, _explanation in UPCOMING:
        assert f"{name}: not in the demo yet" in result.out
    assert os.environ["PATH"] == path, "the planted PATH entry is gone again"
    assert os.environ["GITHUB_ACTIONS"] == "true", "hidden only during the demo's own runs"
    assert not (tmp_path / "ci-step-output").exists(), "the demo set no step outputs"
    for expected in EXPECTED:
        assert expected.what in result.out
    # `pymp-*` is multiprocessing's own per-process directory (the hashing workers), which
    # it removes when the interpreter exits; everything the demo made must already be gone.
    left = [p for p in tmp_path.iterdir() if not p.name.startswith("pymp-")]
    assert left == [], "the demo left its sample repository behind"


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
    assert text.rstrip().endswith("denied it once a binary was planted on PATH")
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
