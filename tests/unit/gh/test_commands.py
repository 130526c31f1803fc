"""Workflow commands: escaping, annotations, masks and stop-commands, judged by the runner model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecops.gh.commands import (
    ActionsRuntimeError,
    AnnotationLevel,
    add_mask,
    annotation,
    escape_data,
    escape_property,
    stop_commands,
    workflow_command,
)
from tests.unit.gh import runner_model

HOSTILE = [
    "plain",
    "two\nlines",
    "cr\rlf\r\n",
    "::add-mask::secret",
    "x\n::add-mask::secret",
    "x\r::error file=evil.yml::spoofed",
    "percent %0A stays text %25 %0D %3A %2C %",
    "colon::colon, comma,title=spoof",
    "##[add-mask]legacy",
    "x\n##[error]legacy",
    "::stop-commands::abc\n::abc::\n::error::after",
    "trailing space ",
    "",
]


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("a%b", "a%25b", "a%25b"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("%0A", "%250A", "%250A"),
        ("::", "::", "%3A%3A"),
    ],
)
def test_escaping_matches_the_runner_tables(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


@given(st.text())
def test_escaped_data_round_trips_through_the_runner(text: str) -> None:
    assert runner_model._replace_all(escape_data(text), runner_model.DATA) == text
    assert runner_model._replace_all(escape_property(text), runner_model.PROPERTY) == text
    assert "\n" not in escape_data(text)
    assert "\r" not in escape_data(text)
    assert ":" not in escape_property(text)
    assert "," not in escape_property(text)


@pytest.mark.parametrize("message", HOSTILE)
@pytest.mark.parametrize("path", ["a.yml", "dir, with:colons/x.yml", "x\n::add-mask::p.yml"])
def test_hostile_annotation_is_one_command_with_the_exact_text(message: str, path: str) -> None:
    line = annotation(AnnotationLevel.WARNING, message, file=path, line=3, title=message or "t")
    (command,) = runner_model.process(line + "\n")
    assert command.name == "warning"
    assert command.data == message
    assert command.properties["file"] == path
    assert command.properties["line"] == "3"
    assert set(command.properties) == {"file", "line", "title"}


@given(message=st.text(), path=st.text(min_size=1), title=st.text(min_size=1))
def test_no_text_can_add_a_command_or_a_property(message: str, path: str, title: str) -> None:
    line = annotation(AnnotationLevel.ERROR, message, file=path, line=1, column=2, title=title)
    commands = runner_model.process(line + "\n")
    assert len(commands) == 1
    (command,) = commands
    assert command.name == "error"
    assert command.data == message
    assert set(command.properties) <= {"file", "line", "col", "title"}


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ({}, {}),
        ({"line": 4}, {"line": "4"}),
        ({"column": 2, "end_column": 5}, {}),
        ({"end_line": 5}, {}),
        ({"line": 0, "column": 2}, {}),
        ({"line": 4, "column": 2, "end_column": 7}, {"line": "4", "col": "2", "endColumn": "7"}),
        (
            {"line": 4, "column": 2, "end_line": 4, "end_column": 7},
            {"line": "4", "col": "2", "endLine": "4", "endColumn": "7"},
        ),
        ({"line": 4, "column": 2, "end_line": 6, "end_column": 7}, {"line": "4", "endLine": "6"}),
        ({"line": 4, "end_line": 3}, {"line": "4"}),
        ({"line": 4, "column": 5, "end_column": 3}, {"line": "4", "col": "5"}),
    ],
)
def test_annotation_keeps_only_positions_the_runner_keeps(
    given_: dict[str, Any], expected: dict[str, str]
) -> None:
    line = annotation(AnnotationLevel.NOTICE, "m", **given_)
    (command,) = runner_model.process(line)
    assert command.properties == expected


def test_workflow_command_refuses_bad_names() -> None:
    with pytest.raises(ValueError, match="command name"):
        workflow_command("error::x")
    with pytest.raises(ValueError, match="property name"):
        workflow_command("error", "m", {"file,line": "x"})
    assert workflow_command("error", "m", {"file": None, "title": ""}) == "::error::m"


def test_add_mask_masks_every_line_and_the_exact_value() -> None:
    secret = "first%0A\nsecond\n\n"
    commands = runner_model.process("\n".join(add_mask(secret)) + "\n")
    assert [c.name for c in commands] == ["add-mask"] * 3
    assert [c.data for c in commands] == ["first%0A", "second", secret]
    assert add_mask("one") == ["::add-mask::one"]


@pytest.mark.parametrize("blank", ["", "   ", "\n\t\n"])
def test_add_mask_refuses_blank_values(blank: str) -> None:
    with pytest.raises(ActionsRuntimeError, match="empty or blank"):
        add_mask(blank)


@pytest.mark.parametrize("text", HOSTILE)
def test_stop_commands_make_untrusted_text_inert(text: str) -> None:
    after = annotation(AnnotationLevel.ERROR, "after", file="f.yml", line=1)
    commands = runner_model.process(stop_commands(text) + after + "\n")
    assert [(c.name, c.data) for c in commands] == [("error", "after")]


@given(st.text())
def test_stop_commands_hold_for_any_text(text: str) -> None:
    wrapped = stop_commands(text)
    assert wrapped.endswith("::\n")
    assert runner_model.process(wrapped) == []
    after = runner_model.process(wrapped + "::notice::resumed\n")
    assert [c.data for c in after] == ["resumed"]


def test_stop_tokens_are_random_and_validated() -> None:
    first = stop_commands("x").split("\n", 1)[0]
    second = stop_commands("x").split("\n", 1)[0]
    assert first != second
    assert len(first.removeprefix("::stop-commands::")) == 32
    token = "f" * 32
    assert stop_commands("body", token) == f"::stop-commands::{token}\nbody\n::{token}::\n"
    with pytest.raises(ValueError, match="absent from the text"):
        stop_commands(f"guess {token.upper()}", token)
    with pytest.raises(ValueError, match="long, plain"):
        stop_commands("body", "short")
