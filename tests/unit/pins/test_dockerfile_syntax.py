"""The BuildKit-faithful Dockerfile reader: continuations, directives, flags, words, FROM shapes.

Several cases are regressions for ways to hide a `FROM` from a reader that does not follow
BuildKit exactly (dockerfile-parse continues a line after `\\` plus a no-break space, and
ignores `# escape=` after `# check=`).
"""

from __future__ import annotations

from collections import Counter

import pytest

from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.dockerfile import DockerfileDocument
from envsecops.pins.documents.dockerfile_model import FromClass, parse_dockerfile
from envsecops.pins.documents.dockerfile_syntax import (
    parse_words,
    physical_lines,
    read_dockerfile,
    split_flags,
    unquote,
)
from envsecops.pins.kinds import FileKind
from envsecops.pins.source import SourceFile

DIGEST = "sha256:" + "0f3c6b2ad7a3a7f0e4b9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c"


def _froms(text: str) -> list[tuple[int, str | None, FromClass]]:
    return [(u.line, u.resolved, u.klass) for u in parse_dockerfile(text).froms]


def test_crlf_and_final_line_without_newline() -> None:
    assert physical_lines("FROM a\r\nRUN b\r\nFROM c") == ["FROM a", "RUN b", "FROM c"]
    assert _froms("FROM a:1\r\nFROM b:2") == [
        (1, "a:1", FromClass.NO_DIGEST),
        (2, "b:2", FromClass.NO_DIGEST),
    ]


@pytest.mark.parametrize("space", ["\u00a0", "\f", "\v", "\u2003"])
def test_backslash_then_unicode_space_does_not_continue(space: str) -> None:
    text = f"FROM alpine@{DIGEST}\nRUN echo hi \\{space}\nFROM evil:latest\n"
    assert _froms(text)[-1] == (3, "evil:latest", FromClass.NO_DIGEST)


def test_backslash_then_spaces_and_tabs_continues() -> None:
    text = f"FROM alpine@{DIGEST}\nRUN echo hi \\ \t\nFROM evil:latest\n"
    assert len(_froms(text)) == 1


def test_empty_and_comment_lines_inside_a_continuation_are_skipped() -> None:
    text = f"FROM alpine@{DIGEST}\nRUN echo \\\n\n   \n# note\nFROM not-a-stage\n"
    assert len(_froms(text)) == 1  # BuildKit appends `FROM not-a-stage` to the RUN


def test_escape_after_check_directive_is_refused() -> None:
    text = "# check=skip=all\n# escape=`\nFROM alpine:3.19\n"
    with pytest.raises(DocumentProblem) as caught:
        parse_dockerfile(text)
    assert caught.value.kind == "parse-error"
    assert caught.value.line == 2


def test_escape_after_a_comment_is_not_a_directive() -> None:
    text = f"# hello\n# escape=`\nFROM alpine@{DIGEST}\nRUN echo \\\nFROM hidden:1\n"
    assert read_dockerfile(text).escape == "\\"
    assert len(_froms(text)) == 1


def test_backtick_escape_directive() -> None:
    text = "# escape=`\nFROM alpine:3.19 `\n  AS base\nRUN dir C:\\\nFROM evil:1\n"
    reader = read_dockerfile(text)
    assert reader.escape == "`"
    assert _froms(text) == [
        (2, "alpine:3.19", FromClass.NO_DIGEST),
        (5, "evil:1", FromClass.NO_DIGEST),
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# escape=x\nFROM a\n", 1),
        ("# syntax=a\n# syntax=b\nFROM a\n", 2),
        ("FROM a b\n", 1),
        ("FROM a AS\n", 1),
        ("FROM a IS b\n", 1),
        ("RUN x\nFROM --pull=always a\n", 2),
        ("FROM\n", 1),
        ('ARG BASE="alpine\nFROM $BASE\n', 1),
    ],
)
def test_malformed_instructions_are_parse_errors(text: str, line: int) -> None:
    with pytest.raises(DocumentProblem) as caught:
        parse_dockerfile(text)
    assert caught.value.kind == "parse-error"
    assert caught.value.line == line


def test_split_flags_follows_buildkit() -> None:
    assert split_flags('--platform=$X --chown="a b" image AS x') == (
        ("--platform=$X", "--chown=a b"),
        "image AS x",
    )
    assert split_flags("-- --not-a-flag") == ((), " --not-a-flag")
    assert split_flags("plain") == ((), "plain")


def test_parse_words_and_unquote() -> None:
    assert parse_words('A=1 B="two words" C', "\\") == ["A=1", 'B="two words"', "C"]
    assert unquote('"two words"', "\\") == "two words"
    assert unquote("'$literal'", "\\") == "$literal"
    with pytest.raises(ValueError, match="unterminated"):
        unquote('"open', "\\")


def test_arg_resolution_scopes_and_chains() -> None:
    text = (
        "ARG REG=docker.io\n"
        "ARG IMG=${REG}/library/python\n"
        "ARG TAG\n"
        f"FROM $IMG:3.12@{DIGEST} AS a\n"
        "ARG LATE=alpine:3\n"
        "FROM ${IMG}:${TAG:-3.11}\n"
        "FROM ${LATE}\n"
        "FROM A\n"
        "FROM scratch\n"
    )
    assert _froms(text) == [
        (4, f"docker.io/library/python:3.12@{DIGEST}", FromClass.DIGEST),
        (6, "docker.io/library/python:3.11", FromClass.NO_DIGEST_VIA_ARG),
        (7, None, FromClass.VARIABLE_UNRESOLVED),
        (8, "A", FromClass.STAGE_REF),
        (9, "scratch", FromClass.SCRATCH),
    ]


def test_onbuild_sources_and_json_syntax_directive() -> None:
    model = parse_dockerfile(f"FROM a@{DIGEST}\nONBUILD COPY --from=tools:1 /t /t\n")
    assert [(s.where, s.resolved) for s in model.sources] == [("COPY --from", "tools:1")]
    json_model = parse_dockerfile('{"syntax": "example.com/frontend:2"}')
    assert json_model.syntax is not None
    assert json_model.syntax.written == "example.com/frontend:2"


def test_document_metrics() -> None:
    text = (
        "ARG BASE=python:3.12\n"
        f"FROM golang:1.22@{DIGEST} AS build\n"
        "FROM ${BASE} AS app\n"
        "FROM ubuntu\n"
        "FROM ${NOPE}\n"
        "FROM build\n"
        "FROM scratch\n"
    )
    document = DockerfileDocument(SourceFile.from_text("Dockerfile", FileKind.DOCKERFILE, text))
    counter: Counter[tuple[str, str]] = Counter()
    document.metrics(counter)
    assert dict(counter) == {
        ("dockerfile", "files"): 1,
        ("dockerfile", "from_total"): 6,
        ("dockerfile", "from_digest"): 1,
        ("dockerfile", "from_no_digest_via_arg"): 1,
        ("dockerfile", "from_no_digest"): 1,
        ("dockerfile", "from_variable_unresolved"): 1,
        ("dockerfile", "from_stage_ref"): 1,
        ("dockerfile", "from_scratch"): 1,
    }
