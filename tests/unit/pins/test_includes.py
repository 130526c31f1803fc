"""Includes through the engine and the CLI: followed inside the repository, reported otherwise."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.pins.engine import PinCheckOptions, PinReport, run_pin_check
from envsecops.policy.pins import PinsPolicy
from tests.conftest import CliResult
from tests.unit.pins.file_fixtures import FIXTURES

TREES = FIXTURES / "missing-include"


def _tree(name: str, tmp_path: Path) -> Path:
    """Copy a fixture tree to ``tmp_path/repo`` (no `.git` above it, so the scan base bounds)."""
    repo = tmp_path / "repo"
    shutil.copytree(TREES / name, repo)
    return repo


def _run(repo: Path, *paths: Path) -> PinReport:
    options = PinCheckOptions(paths=paths or (repo,), base=repo, jobs=1)
    return run_pin_check(options, PinsPolicy(None))


def _by_rule(report: PinReport, rule: str) -> list[tuple[str, int, str]]:
    return sorted((f.path, f.line, f.reference) for f in report.findings if f.rule_id == rule)


def test_requirements_includes_are_followed_and_reported(tmp_path: Path) -> None:
    repo = _tree("requirements-tree", tmp_path)
    (tmp_path / "outside.txt").write_text("evil-package\n", encoding="utf-8")
    report = _run(repo)
    files = {rel for rel, _kind in report.files}
    # The cycle files are reachable only through includes; each is checked exactly once.
    assert {"requirements/cycle-a.in", "requirements/cycle-b.in"} <= files
    assert len(report.files) == len(set(report.files))
    assert _by_rule(report, "missing-include") == [
        ("requirements.txt", 5, "requirements/missing.txt"),
        ("requirements.txt", 6, "https://example.com/shared/requirements.txt"),
        ("requirements.txt", 7, "../outside.txt"),
    ]
    messages = {f.line: f.message for f in report.findings if f.rule_id == "missing-include"}
    assert "(missing;" in messages[5]
    assert "(remote;" in messages[6]
    assert "(outside;" in messages[7]
    # The file outside the repository was never read: nothing from it is reported.
    assert not [f for f in report.findings if "outside" in f.path]
    assert _by_rule(report, "requirements-without-hash") == [
        ("requirements/cycle-a.in", 2, "urllib3==2.2.2"),
        ("requirements/cycle-b.in", 2, "idna==3.7"),
        ("requirements/dev.txt", 1, "pytest>=8"),
    ]
    stats = report.stats()["requirements"]
    assert stats["files"] == 6
    assert stats["requirement_lines"] == 5
    assert stats["requirement_lines_with_hash"] == 2
    assert stats["files_fully_hashed"] == 2


def test_include_cycle_from_one_explicit_file_terminates(tmp_path: Path) -> None:
    (tmp_path / "requirements-a.txt").write_text("-r requirements-b.txt\nsix\n", encoding="utf-8")
    (tmp_path / "requirements-b.txt").write_text("-r requirements-a.txt\nsix\n", encoding="utf-8")
    report = _run(tmp_path, tmp_path / "requirements-a.txt")
    assert [rel for rel, _ in report.files] == ["requirements-a.txt", "requirements-b.txt"]
    assert len(_by_rule(report, "requirements-without-hash")) == 2
    assert not _by_rule(report, "missing-include")


def test_symlinked_include_leaving_the_repository_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("token-value==1\n", encoding="utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.txt").symlink_to(secret)
    (repo / "requirements.txt").write_text("-r link.txt\n", encoding="utf-8")
    report = _run(repo)
    assert [rel for rel, _ in report.files] == ["requirements.txt"]
    (finding,) = report.findings
    assert finding.rule_id == "missing-include"
    assert "token-value" not in finding.message


def test_devcontainer_builds_and_composes_are_scanned(tmp_path: Path) -> None:
    repo = _tree("devcontainer-tree", tmp_path)
    report = _run(repo)
    files = dict(report.files)
    assert str(files["docker/devcontainer.df"]) == "dockerfile"
    assert str(files["docker/services.yml"]) == "compose"
    assert _by_rule(report, "unpinned-dockerfile-from") == [
        ("docker/devcontainer.df", 2, "mcr.microsoft.com/devcontainers/python:3.12-bookworm")
    ]
    assert _by_rule(report, "unpinned-compose-image") == [("docker/services.yml", 3, "postgres:16")]
    assert _by_rule(report, "missing-include") == [
        (".devcontainer/devcontainer.json", 7, "missing-compose.yml")
    ]
    assert not _by_rule(report, "unpinned-devcontainer-feature")  # a local ./feature
    stats = report.stats()
    assert stats["devcontainer"] == {"files": 1, "feature_total": 1}
    assert stats["dockerfile"] == {"files": 1, "from_total": 1, "from_no_digest_via_arg": 1}


def test_compose_builds_and_includes_are_scanned(tmp_path: Path) -> None:
    repo = _tree("compose-tree", tmp_path)
    report = _run(repo)
    assert {"app/build.df", "services/db.yml"} <= {rel for rel, _ in report.files}
    assert _by_rule(report, "unpinned-dockerfile-from") == [("app/build.df", 1, "node:20-alpine")]
    assert _by_rule(report, "unpinned-compose-image") == [("services/db.yml", 3, "postgres:16")]
    assert _by_rule(report, "missing-include") == [
        ("compose.yaml", 3, "services/missing.yml"),
        ("compose.yaml", 11, "https://github.com/example/service.git#main"),
    ]


def test_cli_reports_json_and_fails(
    tmp_path: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _tree("requirements-tree", tmp_path)
    monkeypatch.chdir(repo)
    result = run_cli("pin-check", "--format", "json", ".")
    assert result.code == 1, result.err
    data = json.loads(result.out)
    rules = {f["rule"] for f in data["findings"]}
    assert {"missing-include", "requirements-without-hash"} <= rules
    assert data["stats"]["requirements"]["requirement_lines_without_hash"] == 3
    text = run_cli("pin-check", ".")
    assert text.code == 1
    assert "requirements/cycle-a.in" in text.out
