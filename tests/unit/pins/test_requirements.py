"""Requirements files read as pip reads them: joins, comments, options, sources and metrics."""

from __future__ import annotations

from collections import Counter

import pytest

from envsecops.pins.documents.base import DocumentProblem
from envsecops.pins.documents.related import IncludeStatus
from envsecops.pins.documents.requirements import RequirementsDocument, Source
from envsecops.pins.documents.requirements_syntax import (
    break_args_options,
    join_lines,
    logical_lines,
)
from envsecops.pins.kinds import FileKind
from envsecops.pins.rules.requirements_without_hash import RequirementsWithoutHash
from envsecops.pins.source import SourceFile
from tests.conftest import shared_dir
from tests.unit.pins.helpers import run_check

HASH = "sha256:5a1e7645bc0ec61a09e26c36f6106dd4cf40c6db3a1fb6352b0244e7fb057c7b"


def _document(text: str) -> RequirementsDocument:
    return RequirementsDocument(
        SourceFile.from_text("requirements.txt", FileKind.REQUIREMENTS, text)
    )


def _metrics(text: str) -> dict[str, int]:
    counter: Counter[tuple[str, str]] = Counter()
    _document(text).metrics(counter)
    return {metric: count for (_kind, metric), count in counter.items() if count}


def test_join_lines_matches_pip() -> None:
    lines = ["a==1 \\", "  --hash=x \\", "  --hash=y", "# c \\", "b", "c \\"]
    assert join_lines(lines) == [
        (1, "a==1   --hash=x   --hash=y"),
        (4, " # c \\"),
        (5, "b"),
        (6, "c "),
    ]


def test_break_args_options_splits_on_single_spaces() -> None:
    assert break_args_options('x ; python_version < "3.9" --hash=h') == (
        'x ; python_version < "3.9"',
        "--hash=h",
    )
    assert break_args_options("x\t--hash=h") == ("x\t--hash=h", "")


def test_hash_broken_off_by_a_comment_or_blank_line_does_not_count() -> None:
    text = f"a==1 \\\n  # note\n  --hash={HASH}\nb==2\n\n  --hash={HASH}\n"
    document = _document(text)
    assert [(r.line, r.hashed) for r in document.requirements] == [(1, False), (4, False)]


def test_hash_forms_and_abbreviations() -> None:
    text = (
        f"a==1 --hash={HASH}\n"
        f"b==1 --hash {HASH}\n"
        f"c==1 --h={HASH}\n"
        f"d==1 \\\n    --hash={HASH} \\\n    --hash={HASH}\n"
    )
    assert [r.hashed for r in _document(text).requirements] == [True, True, True, True]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a==1 --hash=md5:abc\n", "sha256"),
        ("a==1 --hash=abc\n", "sha256"),
        ("a==1 --re\n", "ambiguous"),
        ("a==1 --frobnicate\n", "--frobnicate"),
        ("-x foo\n", "-x"),
        ("a==1 --hash\n", "needs a value"),
        ("--pre=yes\n", "takes no value"),
        ("idna==3.7 \\ \n", "not a valid requirement"),
        ("-e requests\n", "editable"),
        ("a==1 --hash='unterminated\n", "cannot split"),
    ],
)
def test_lines_pip_rejects_are_parse_errors(text: str, words: str) -> None:
    with pytest.raises(DocumentProblem) as caught:
        _document(text)
    assert caught.value.kind == "parse-error"
    assert caught.value.line == 1
    assert words in caught.value.message


def test_sources() -> None:
    text = (
        "requests\n"
        "pkg @ https://example.com/pkg-1.0.tar.gz\n"
        "pkg@https://example.com/pkg-1.0.tar.gz\n"
        'requests ; platform_release != "a/b\\\\"\n'
        "https://example.com/tool-1.0.whl\n"
        "git+https://github.com/o/r.git@v1#egg=r\n"
        "-e .\n"
        "./wheels/x-1.0-py3-none-any.whl\n"
        "file:///opt/x.whl\n"
        "/abs/x.whl\n"
        "${PKG}\n"
    )
    assert [r.source for r in _document(text).requirements] == [
        Source.INDEX,
        Source.URL,
        Source.URL,
        Source.INDEX,
        Source.URL,
        Source.VCS,
        Source.LOCAL,
        Source.LOCAL,
        Source.OUTSIDE,
        Source.OUTSIDE,
        Source.VARIABLE,
    ]


def test_only_the_first_include_of_a_line_counts_and_requirement_lines_ignore_it() -> None:
    document = _document("-r a.txt -r b.txt\n-c c.txt\nx==1 -r ignored.txt\n-rd.txt\n")
    assert [i.text for i in document.includes] == ["a.txt", "c.txt", "d.txt"]
    assert {i.status for i in document.includes} == {IncludeStatus.MISSING}
    assert [r.text for r in document.requirements] == ["x==1"]


def test_columns_are_those_of_the_written_line() -> None:
    document = _document("   requests  # indented\n\t-e ./pkg\n  -r other.txt\n")
    assert [(r.line, r.column) for r in document.requirements] == [(1, 4), (2, 5)]
    assert [(i.line, i.column) for i in document.includes] == [(3, 6)]


def test_exact_pins() -> None:
    text = "a==1.0\nb===1.0\nc==1.*\nd>=1,<2\ne~=1.0\n"
    assert [r.exact for r in _document(text).requirements] == [True, True, False, False, False]


def test_metrics() -> None:
    assert _metrics("# only comments\n\n--index-url https://x\n") == {
        "files": 1,
        "files_no_requirements": 1,
    }
    assert _metrics(f"a==1 --hash={HASH}\nb==1 --hash={HASH}\n") == {
        "files": 1,
        "requirement_lines": 2,
        "requirement_lines_with_hash": 2,
        "files_fully_hashed": 1,
    }
    assert _metrics(f"a==1 --hash={HASH}\nb\n-e .\n") == {
        "files": 1,
        "requirement_lines": 3,
        "requirement_lines_with_hash": 1,
        "requirement_lines_without_hash": 2,
    }


def test_require_hashes_file_is_still_checked_line_by_line() -> None:
    findings = run_check(
        RequirementsWithoutHash(),
        FileKind.REQUIREMENTS,
        f"--require-hashes\na==1 --hash={HASH}\nb==2\n",
    )
    assert [(f.line, f.column) for f in findings] == [(3, 1)]
    assert "`--require-hashes` makes pip refuse the file" in findings[0].message


def test_logical_line_numbers_are_the_first_physical_line() -> None:
    lines = logical_lines(f"\n\na==1 \\\n  --hash={HASH}\n")
    assert [(line.number, line.args) for line in lines] == [(3, "a==1")]


def test_corpus_sigstore_lock_is_fully_hashed() -> None:
    corpus = shared_dir("corpus")
    path = corpus / "sigstore__sigstore-python" / "install" / "requirements.txt"
    document = RequirementsDocument(SourceFile(path, "requirements.txt", FileKind.REQUIREMENTS))
    assert len(document.requirements) == 32
    assert all(r.hashed for r in document.requirements)
