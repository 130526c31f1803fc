"""Discovery: which files pin-check reads, what it skips, and that skips are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.pins.discover import Filters, discover
from envsecops.pins.kinds import FileKind, kind_for_path


def _write(root: Path, rel: str, text: str = "x: 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_kind_for_path_follows_the_corpus_rules() -> None:
    cases = {
        ".github/workflows/ci.yml": FileKind.WORKFLOW,
        ".github/workflows/ci.yaml": FileKind.WORKFLOW,
        ".github/workflows/sub/ci.yml": None,
        "repos/a/.github/workflows/ci.yml": FileKind.WORKFLOW,
        "repos/a/.github/dependabot.yml": FileKind.DEPENDABOT,
        "action.yml": FileKind.ACTION,
        ".github/actions/x/action.yaml": FileKind.ACTION,
        ".github/dependabot.yml": FileKind.DEPENDABOT,
        ".devcontainer/devcontainer.json": FileKind.DEVCONTAINER,
        ".devcontainer/py/devcontainer.json": FileKind.DEVCONTAINER,
        ".devcontainer.json": FileKind.DEVCONTAINER,
        "docker-compose.yml": FileKind.COMPOSE,
        "compose.prod.yaml": FileKind.COMPOSE,
        "Dockerfile": FileKind.DOCKERFILE,
        "build/Dockerfile.dev": FileKind.DOCKERFILE,
        "app.Dockerfile": FileKind.DOCKERFILE,
        "Containerfile": FileKind.DOCKERFILE,
        "requirements.txt": FileKind.REQUIREMENTS,
        "requirements-dev.txt": FileKind.REQUIREMENTS,
        "requirements/test.txt": FileKind.REQUIREMENTS,
        "README.md": None,
        "notes.txt": None,
    }
    for rel, kind in cases.items():
        assert kind_for_path(rel) == kind, rel


def test_discover_skips_vcs_and_vendored_trees_and_sniffs_k8s(tmp_path: Path) -> None:
    _write(tmp_path, ".github/workflows/ci.yml")
    _write(tmp_path, "node_modules/x/action.yml")
    _write(tmp_path, ".git/action.yml")
    _write(tmp_path, "vendor/Dockerfile", "FROM x\n")
    _write(
        tmp_path, "deploy/app.yaml", "apiVersion: v1\nkind: Pod\nspec: {containers: [{image: x}]}\n"
    )
    _write(tmp_path, "deploy/values.yaml", "replicas: 2\n")
    found = discover([tmp_path], tmp_path)
    assert [(rel, kind) for _p, rel, kind in found.files] == [
        (".github/workflows/ci.yml", FileKind.WORKFLOW),
        ("deploy/app.yaml", FileKind.K8S),
    ]


def test_symlinks_are_reported_not_followed(tmp_path: Path) -> None:
    target = _write(tmp_path, "real/action.yml")
    (tmp_path / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "action.yml").symlink_to(target)
    found = discover([tmp_path], tmp_path)
    assert [rel for _p, rel, _k in found.files] == ["real/action.yml"]
    reasons = dict(found.skipped)
    assert "symbolic link" in reasons["link"]
    assert "symbolic link" in reasons["other/action.yml"]


def test_include_exclude_and_policy_exclude(tmp_path: Path) -> None:
    _write(tmp_path, "a/action.yml")
    _write(tmp_path, "b/action.yml")
    _write(tmp_path, "tests/fixtures/action.yml")
    only_a = discover([tmp_path], tmp_path, Filters(include=("a/*",)))
    assert [rel for _p, rel, _k in only_a.files] == ["a/action.yml"]
    not_a = discover(
        [tmp_path], tmp_path, Filters(exclude=("a/*",), policy_exclude=("tests/fixtures/**",))
    )
    assert [rel for _p, rel, _k in not_a.files] == ["b/action.yml"]
    assert dict(not_a.skipped)["tests/fixtures/action.yml"].startswith("excluded by `pins.exclude`")


def test_a_single_file_is_classified_from_its_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    workflow = _write(tmp_path, ".github/workflows/ci.yml")
    found = discover([workflow], tmp_path)
    assert [(rel, kind) for _p, rel, kind in found.files] == [
        (".github/workflows/ci.yml", FileKind.WORKFLOW)
    ]


def test_paths_are_relative_to_the_base_whatever_the_spelling_of_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "sub/action.yml")
    monkeypatch.chdir(tmp_path / "sub")
    for root in (Path(), Path("../sub"), tmp_path / "sub"):
        found = discover([root], tmp_path)
        assert [rel for _p, rel, _k in found.files] == ["sub/action.yml"], root
