"""`pin-comment`: SHA pins without a version comment, and the reusable comment helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.model import Severity
from envsecops.pins.documents import DOCUMENT_BY_KIND
from envsecops.pins.documents.github import GitHubDocument
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.pin_comment import (
    PIN_COMMENT,
    PinComment,
    comment_version,
    pin_comment_of,
)
from envsecops.pins.source import SourceFile
from tests.conftest import CliResult
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, assert_case, load_cases

CASES = load_cases("pin-comment")
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_case(case, PinComment())


def test_registered_once_as_informational() -> None:
    assert sum(isinstance(check, PinComment) for check in CHECKS) == 1
    assert RULES["pin-comment"] is PIN_COMMENT
    assert PIN_COMMENT.severity is Severity.INFO


def _comments(text: str) -> list[str | None]:
    source = SourceFile.from_text("w.yml", FileKind.WORKFLOW, text)
    document = DOCUMENT_BY_KIND[FileKind.WORKFLOW](source)
    assert isinstance(document, GitHubDocument)
    return [pin_comment_of(source, ref) for ref in document.uses]


def test_pin_comment_of_reads_the_comment_after_the_value() -> None:
    text = (
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        f"      - uses: o/r@{SHA} # v4.2.2\n"
        f"      - uses: o/r@{SHA}\n"
        f'      - uses: "o/r@{SHA}"   #  tag=v1  \n'
        f'      - {{uses: o/r@{SHA}, with: {{a: \' # no\', b: "x\\" # no"}}}}\n'
        f"      - {{uses: o/r@{SHA}, with: {{a: 'it''s # not'}}}} # v2\n"
        f"      - uses: o/r@{SHA}#v9\n"
        "      - uses: >- # v3\n"
        f"          o/r@{SHA}\n"
        "      - uses: o/r@v1 #\n"
    )
    assert _comments(text) == [
        "v4.2.2",
        None,
        "tag=v1",
        None,
        "v2",
        None,
        "v3",
        "",
    ]


@pytest.mark.parametrize(
    ("comment", "version"),
    [
        ("v4.2.2", "v4.2.2"),
        ("v4", "v4"),
        ("4.2.2", "4.2.2"),
        ("tag=v4.2.2", "v4.2.2"),
        ("pin @v2.0.0", "v2.0.0"),
        ("@v1", "v1"),
        ("v2.0.0-rc.1 envsecops: ignore[unpinned-uses] reason", "v2.0.0-rc.1"),
        ("release/v1.12", "release/v1.12"),
        ("codeql-bundle-v2.18.0", "codeql-bundle-v2.18.0"),
        ("v1.2.3,", "v1.2.3"),
        ("main", None),
        ("latest", None),
        ("pinned by the security team", None),
        ("envsecops: ignore[pin-comment] no tags upstream", None),
        ("", None),
        ("v" + "1" * 200, None),
    ],
)
def test_comment_version(comment: str, version: str | None) -> None:
    assert comment_version(comment) == version


def test_hostile_comment_is_cheap() -> None:
    # `1-1-1-…!` makes the version regex backtrack quadratically (8,000 pairs take ~0.4 s,
    # a 4 MiB line hours); the length cap keeps it instant.
    started = time.perf_counter()
    assert comment_version("1-" * 500_000 + "!") is None
    assert time.perf_counter() - started < 1.0


def test_message_and_fix_name_the_tag_lookup() -> None:
    text = f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: o/r/sub@{SHA}\n"
    (finding,) = run_check(PinComment(), FileKind.WORKFLOW, text)
    assert "has no comment" in finding.message
    assert finding.fix is not None
    assert f"`o/r/sub@{SHA} # v<X.Y.Z>`" in finding.fix
    assert f"git ls-remote --tags https://github.com/o/r | grep {SHA}" in finding.fix


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_info_findings_do_not_fail_the_run_unless_asked(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    _write(
        tmp_path,
        ".github/workflows/ci.yml",
        f"on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: o/r@{SHA}\n",
    )
    default = run_cli("pin-check", "--format", "json", tmp_path)
    assert default.code == 0, default.out
    (finding,) = json.loads(default.out)["findings"]
    assert (finding["rule"], finding["severity"]) == ("pin-comment", "info")
    strict = run_cli("pin-check", "--format", "json", "--fail-on", "info", tmp_path)
    assert strict.code == 1


def test_inline_ignore_of_pin_comment(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    _write(
        tmp_path,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        f"      - uses: o/r@{SHA} # envsecops: ignore[pin-comment] upstream has no tags\n",
    )
    result = run_cli("pin-check", "--format", "json", "--fail-on", "info", tmp_path)
    assert result.code == 0, result.out
    (suppressed,) = json.loads(result.out)["suppressed"]
    assert suppressed["reason"] == "upstream has no tags"
