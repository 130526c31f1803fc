"""`envsecops demo`: runs pin-check on its generated sample, checks itself, and cleans up."""

from __future__ import annotations

import io
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.demo import run as demo_run
from envsecops.demo.sample import CLEAN, EXPECTED, FILES, UPCOMING
from envsecops.model import Confidence, Finding, Severity
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


def test_demo_succeeds_and_says_what_is_not_built(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_cli("demo")
    assert result.code == 0, result.out + result.err
    assert "[FAIL]" not in result.out
    # one [ok] per pin-check expectation, and one for the verified attestation of stage 2
    assert result.out.count("[ok]") == len(EXPECTED) + len(CLEAN) + 1
    assert "attestation signed by key:sha256:" in result.out
    for name, _explanation in UPCOMING:
        assert f"{name}: not built yet" in result.out
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


def test_run_demo_writes_only_to_the_given_stream(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    code = demo_run.run_demo(stream)
    text = stream.getvalue()
    assert code == 0, text
    assert "$ envsecops pin-check ." in text
    assert text.rstrip().endswith("attested and verified")
    assert capsys.readouterr() == ("", "")
