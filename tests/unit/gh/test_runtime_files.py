"""$GITHUB_OUTPUT, $GITHUB_ENV and $GITHUB_STEP_SUMMARY: what the runner reads back, and caps."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsecops.gh.commands import (
    OUTPUTS_LIMIT,
    STEP_SUMMARY_LIMIT,
    ActionsRuntimeError,
    InvalidNameError,
    append_step_summary,
    file_command_entry,
    set_env,
    set_output,
    truncation_marker,
)
from tests.unit.gh import runner_model

VALUES = [
    "",
    "plain",
    "multi\nline\nvalue",
    "looks<<LIKE_A_HEREDOC",
    "NAME=injected",
    "x\nOTHER=injected\n",
    "tail newline\n",
    "unicode ✓ and %0A",
]


@pytest.mark.parametrize("value", VALUES)
def test_outputs_read_back_exactly(tmp_path: Path, value: str) -> None:
    target = tmp_path / "output"
    set_output(target, "sarif-file", value)
    set_output(target, "findings", "3")
    assert runner_model.read_file_commands(target.read_text()) == {
        "sarif-file": value,
        "findings": "3",
    }


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(blacklist_characters="\r", codec="utf-8")))
def test_any_value_reads_back_and_injects_nothing(value: str) -> None:
    entry = file_command_entry("NAME", value, "d" * 32)
    assert runner_model.read_file_commands(entry) == {"NAME": value}


def test_a_value_holding_the_delimiter_is_refused() -> None:
    delimiter = "0123456789abcdef" * 2
    with pytest.raises(ActionsRuntimeError, match="heredoc delimiter"):
        file_command_entry("NAME", f"x\n{delimiter}\nEVIL=1", delimiter)
    with pytest.raises(ValueError, match="long and plain"):
        file_command_entry("NAME", "x", "EOF")


def test_each_entry_gets_a_fresh_random_delimiter(tmp_path: Path) -> None:
    target = tmp_path / "output"
    set_output(target, "a", "1")
    set_output(target, "b", "2")
    headers = [line for line in target.read_text().splitlines() if "<<" in line]
    delimiters = {line.split("<<", 1)[1] for line in headers}
    assert len(delimiters) == 2
    assert all(len(d) == 32 for d in delimiters)


def test_an_unterminated_previous_line_cannot_swallow_our_entry(tmp_path: Path) -> None:
    target = tmp_path / "env"
    target.write_text("EARLIER=1")
    set_env(target, "AWS_REGION", "eu-west-1")
    assert runner_model.read_file_commands(target.read_text()) == {
        "EARLIER": "1",
        "AWS_REGION": "eu-west-1",
    }


@pytest.mark.parametrize("name", ["", "1abc", "a b", "a=b", "a<<b", "a\nb", "a.b", "ä"])
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidNameError):
        set_output(tmp_path / "out", name, "v")
    with pytest.raises(InvalidNameError):
        set_env(tmp_path / "env", name, "v")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "env").exists()


@pytest.mark.parametrize(
    "name", ["PATH", "LD_PRELOAD", "bash_env", "NODE_OPTIONS", "GITHUB_TOKEN", "RUNNER_TEMP"]
)
def test_variables_that_change_later_steps_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidNameError, match="later step"):
        set_env(tmp_path / "env", name, "x")


def test_output_names_may_hold_dashes_but_env_names_may_not(tmp_path: Path) -> None:
    set_output(tmp_path / "out", "env-hash", "sha256:00")
    with pytest.raises(InvalidNameError):
        set_env(tmp_path / "env", "ENV-HASH", "x")


def test_an_output_larger_than_a_job_may_hold_is_refused(tmp_path: Path) -> None:
    set_output(tmp_path / "out", "big", "x" * OUTPUTS_LIMIT)
    with pytest.raises(ActionsRuntimeError, match="1 MiB"):
        set_output(tmp_path / "out2", "big", "x" * OUTPUTS_LIMIT + "y")
    assert not (tmp_path / "out2").exists()


def test_unwritable_runtime_file_is_an_infrastructure_error(tmp_path: Path) -> None:
    with pytest.raises(ActionsRuntimeError, match="cannot open"):
        set_output(tmp_path / "missing-dir" / "out", "a", "1")


def test_summary_that_fits_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    result = append_step_summary(target, "# one\n")
    result2 = append_step_summary(target, "# two\n")
    assert target.read_text() == "# one\n# two\n"
    assert (result.written, result.omitted, result2.truncated) == (6, 0, False)


def test_summary_after_unterminated_content_starts_on_a_new_line(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_text("earlier step")
    append_step_summary(target, "| a |\n")
    assert target.read_text() == "earlier step\n| a |\n"


@pytest.mark.parametrize("already", [0, 1000, STEP_SUMMARY_LIMIT - 5000])
def test_oversized_summary_is_cut_at_a_line_with_a_marker(tmp_path: Path, already: int) -> None:
    target = tmp_path / "summary.md"
    target.write_bytes(b"x" * (already - 1) + b"\n" if already else b"")
    rows = "".join(f"| row {i} | ✓ |\n" for i in range(200_000))
    result = append_step_summary(target, rows)
    data = target.read_bytes()
    assert len(data) <= STEP_SUMMARY_LIMIT
    assert result.truncated
    text = data.decode("utf-8")
    appended = text[already:]
    head, _, marker = appended.partition("\n\n---\n")
    assert head.endswith("|\n")
    assert all(line.startswith("| row ") and line.endswith("|") for line in head.splitlines())
    assert "Summary truncated" in marker
    assert result.omitted == len(rows.encode()) - len(head.encode())
    assert f"{result.omitted:,} bytes" in marker


def test_summary_with_no_room_left_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 10) + b"\n")
    result = append_step_summary(target, "# more\n" * 10)
    assert result.written == 0
    assert result.omitted == len("# more\n" * 10)
    assert target.stat().st_size == STEP_SUMMARY_LIMIT - 9


def test_summary_cut_without_newlines_keeps_utf8_whole(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    limit = 2000
    append_step_summary(target, "✓" * 5000, limit=limit)
    data = target.read_bytes()
    assert len(data) <= limit
    text = data.decode("utf-8")  # strict: no character was split
    kept = text.index("\n")
    assert kept > 0
    assert text == "✓" * kept + truncation_marker(3 * (5000 - kept))


def test_unwritable_summary_is_an_infrastructure_error(tmp_path: Path) -> None:
    with pytest.raises(ActionsRuntimeError, match="step summary"):
        append_step_summary(tmp_path / "no" / "summary.md", "x")
