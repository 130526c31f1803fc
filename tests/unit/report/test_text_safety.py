"""The text format never lets untrusted file content become a workflow command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult

HOSTILE = (
    "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
    '      - uses: "evil/act@v1\\n::add-mask::secret\\r::error::pwned"\n'
)


def _repo(tmp_path: Path) -> Path:
    workflow = tmp_path / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(HOSTILE, encoding="utf-8")
    return tmp_path


def test_control_characters_are_escaped(
    tmp_path: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(_repo(tmp_path))
    result = run_cli("pin-check", ".")
    assert result.code == 1
    assert not any(line.startswith("::") for line in result.out.splitlines())
    assert "\\x0a::add-mask::secret\\x0d::error::pwned" in result.out


def test_text_is_wrapped_in_stop_commands_in_actions(
    tmp_path: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.chdir(_repo(tmp_path))
    result = run_cli("pin-check", ".")
    lines = result.out.splitlines()
    assert lines[0].startswith("::stop-commands::")
    token = lines[0].removeprefix("::stop-commands::")
    assert lines[-1] == f"::{token}::"
    assert sum(1 for line in lines if line.startswith("::")) == 2
