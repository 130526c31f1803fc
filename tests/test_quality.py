"""The code-quality gates are part of the suite: ruff, ruff format, mypy --strict, docstrings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOURCES = ["src", "tests", "bench", "tools"]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_check_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "check", "--no-cache", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(str(BIN / "ruff"), "format", "--check", "--no-cache", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean() -> None:
    result = _run(str(BIN / "mypy"), "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_opens_with_a_docstring_and_stays_small() -> None:
    problems = []
    for path in sorted((ROOT / "src").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree)
        rel = path.relative_to(ROOT)
        if not doc:
            problems.append(f"{rel}: no module docstring")
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > 400:
            problems.append(f"{rel}: {lines} lines (split before 400)")
    assert problems == []
