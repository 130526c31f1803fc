"""The engine: unreadable and untrustworthy files become findings; parallel equals serial."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.pins.engine import PinCheckOptions, run_pin_check
from envsecops.policy.pins import PinsPolicy


def _write(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def _run(root: Path, jobs: int = 1):  # type: ignore[no-untyped-def]
    return run_pin_check(PinCheckOptions(paths=(root,), base=root, jobs=jobs), PinsPolicy(None))


def test_broken_files_are_findings_with_positions(tmp_path: Path) -> None:
    _write(tmp_path, ".github/workflows/syntax.yml", "on: push\njobs: [\n")
    _write(tmp_path, ".github/workflows/dup.yml", "on: push\njobs:\n  a: {}\n  a: {}\n")
    _write(tmp_path, ".github/workflows/latin1.yml", b"on: push\nname: caf\xe9\n")
    _write(tmp_path, ".github/workflows/list.yml", "- just\n- a list\n")
    _write(tmp_path, "action.yml", "")
    report = _run(tmp_path)
    got = {(f.path, f.rule_id, f.line) for f in report.findings}
    assert (".github/workflows/dup.yml", "duplicate-key", 4) in got
    assert (".github/workflows/latin1.yml", "parse-error", 1) in got
    assert (".github/workflows/list.yml", "parse-error", 1) in got
    assert ("action.yml", "parse-error", 1) in got
    syntax = [f for f in report.findings if f.path.endswith("syntax.yml")]
    assert syntax[0].rule_id == "parse-error"
    assert syntax[0].line == 3
    assert all("nothing in this" in f.message for f in report.findings)
    assert report.stats()["workflow"]["files_unparseable"] == 4


def test_oversized_file_is_a_finding(tmp_path: Path) -> None:
    _write(tmp_path, ".github/workflows/big.yml", "a: b\n" * (1024 * 1024))
    (finding,) = _run(tmp_path).findings
    assert finding.rule_id == "input-too-large"


def test_parallel_run_equals_serial_run(tmp_path: Path) -> None:
    for i in range(300):
        _write(
            tmp_path,
            f"r{i}/action.yml",
            "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@v4\n"
            if i % 3
            else "runs: [\n",
        )
    serial = _run(tmp_path, jobs=1)
    parallel = _run(tmp_path, jobs=2)
    assert serial.findings == parallel.findings
    assert serial.metrics == parallel.metrics
    assert serial.files == parallel.files
    assert len(serial.files) == 300


def test_policy_globs_are_relative_to_the_policy_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _write(
        repo,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
    )
    _write(repo, "fixtures/action.yml", "runs: [\n")
    _write(
        repo,
        ".github/envsecops.yml",
        "pins:\n  exceptions:\n    - rule: unpinned-uses\n      path: .github/workflows/ci.yml\n"
        "      reason: mirror\n      expires: 2999-01-01\n  exclude:\n    - fixtures/**\n",
    )
    from envsecops.pins.registry import RULES
    from envsecops.policy.pins import load_pins_policy

    policy = load_pins_policy(repo / ".github/envsecops.yml", "p", frozenset(RULES))
    report = run_pin_check(PinCheckOptions(paths=(repo,), base=tmp_path), policy)
    assert report.findings == []
    assert [s.finding.path for s in report.suppressed] == ["repo/.github/workflows/ci.yml"]
    assert report.skipped == [("repo/fixtures/action.yml", report.skipped[0][1])]


def test_a_kind_without_a_reader_is_a_finding_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envsecops.pins import engine
    from envsecops.pins.documents import DOCUMENT_BY_KIND
    from envsecops.pins.kinds import FileKind

    _write(tmp_path, "requirements.txt", "requests==2.32.3\n")
    readers = {k: v for k, v in DOCUMENT_BY_KIND.items() if k != FileKind.REQUIREMENTS}
    monkeypatch.setattr(engine, "DOCUMENT_BY_KIND", readers)
    (finding,) = _run(tmp_path).findings
    assert finding.rule_id == "parse-error"
    assert "no reader for requirements files" in finding.message
