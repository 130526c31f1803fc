"""The job summary: table structure as GitHub renders it, hostile text, and the 1 MiB cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from envsecops.gh.commands import STEP_SUMMARY_LIMIT
from envsecops.model import Severity
from envsecops.pins.suppress import Suppressed
from envsecops.report import pins_summary
from envsecops.report.pins_summary import (
    MAX_FINDING_ROWS,
    append_summary,
    markdown_escape,
    render_summary_with,
)
from tests.unit.report.reports import (
    CONTEXT,
    POLICY_CONTEXT,
    RULES,
    UNPINNED,
    finding,
    many_findings,
    small_report,
)

FINDINGS_HEADER = ["Severity", "Rule", "Location", "Reference", "Message"]
SUPPRESSED_HEADER = ["Rule", "Location", "Reference", "By", "Reason", "Expires"]


class _Tables(HTMLParser):
    """Collects every table as header cells and body rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[list[str]]]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr":
            self._row = []
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            head, body = self.tables[-1]
            if self._in_head:
                head.extend(self._row)
            else:
                body.append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html(markdown: str) -> str:
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return str(renderer.render(markdown))


def _tables(markdown: str) -> _Tables:
    parser = _Tables()
    parser.feed(_html(markdown))
    return parser


def _table(parsed: _Tables, header: list[str]) -> list[list[str]]:
    (body,) = [body for head, body in parsed.tables if head == header]
    return body


def test_small_summary_has_every_section() -> None:
    markdown = render_summary_with(small_report(), POLICY_CONTEXT, RULES)
    assert "**❌ Failed**: 3 findings at or above `low` (1 below it); 2 suppressed" in markdown
    parsed = _tables(markdown)
    headers = [head for head, _ in parsed.tables]
    assert headers == [
        ["Severity", "Findings", "Suppressed"],
        ["Rule", "Title", "Severity", "Findings", "Suppressed"],
        FINDINGS_HEADER,
        SUPPRESSED_HEADER,
        ["File kind", "Metric", "Count"],
    ]
    rows = _table(parsed, FINDINGS_HEADER)
    assert [row[0] for row in rows] == ["high", "high", "medium", "info"]
    assert rows[0][2] == ".github/workflows/ci.yml:12:15"
    suppressed = _table(parsed, SUPPRESSED_HEADER)
    assert suppressed == [
        [
            "unpinned-uses",
            ".github/workflows/ci.yml:30:15",
            "example/vendored@main",
            "inline",
            "fork under review, tracked in #12",
            "never (inline)",
        ],
        [
            "unpinned-uses",
            ".github/workflows/publish.yml:18:15",
            "pypa/gh-action-pypi-publish@release/v1",
            "policy",
            "publisher requires its release branch",
            "2027-01-31",
        ],
    ]
    assert "vendor-link: symbolic link to a directory" in _html(markdown)
    by_severity = _table(parsed, ["Severity", "Findings", "Suppressed"])
    assert by_severity == [
        ["high", "2", "2"],
        ["medium", "1", "0"],
        ["low", "0", "0"],
        ["info", "1", "0"],
    ]
    stats = _table(parsed, ["File kind", "Metric", "Count"])
    assert ["workflow", "files_unparseable", "1"] in stats


def test_passing_verdict_counts_findings_below_the_threshold() -> None:
    report = small_report()
    info_only = replace(
        report, findings=[f for f in report.findings if f.severity is Severity.INFO]
    )
    markdown = render_summary_with(info_only, CONTEXT, RULES)
    assert "**✅ Passed**: no findings at or above `low` (1 below it)" in markdown
    assert "policy: none" in markdown


HOSTILE_PATH = ".github/workflows/a|b`c`<script>alert(1)</script>\n| x | y |.yml"
HOSTILE_MESSAGE = (
    "pwn | <img src=x onerror=alert(1)> `code` **bold** [link](http://evil) $x$ &amp;"
    "\n\n# heading\r\n- list \u202etxt.exe\x1b[31m"
)


def test_hostile_text_stays_text_in_its_own_cell() -> None:
    hostile = finding(UNPINNED, HOSTILE_PATH, 5, 7, "r|`e`<f>", HOSTILE_MESSAGE)
    held = Suppressed(replace(hostile, line=6), "policy", "because | <b>x</b>\n|", date(2030, 1, 1))
    skipped = [(HOSTILE_PATH, "why\n# not")]
    report = replace(small_report(), findings=[hostile], suppressed=[held], skipped=skipped)
    markdown = render_summary_with(report, CONTEXT, RULES)
    html = _html(markdown)
    parsed = _tables(markdown)
    assert not {"script", "img", "b", "em", "h1"} & set(parsed.tags)
    assert "http://evil" not in html.replace("(http://evil)", "")
    assert "<code>code</code>" not in html
    assert "<strong>bold</strong>" not in html
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    (row,) = _table(parsed, FINDINGS_HEADER)
    assert len(row) == 5
    assert row[2] == HOSTILE_PATH.replace("\n", " ") + ":5:7"
    assert row[3] == "r|`e`<f>"
    expected = HOSTILE_MESSAGE.replace("\r", " ").replace("\n", " ")
    expected = expected.replace("\u202e", "⟨U+202E⟩").replace("\x1b", "⟨U+001B⟩")
    assert row[4] == expected
    (held_row,) = _table(parsed, SUPPRESSED_HEADER)
    assert held_row[4] == "because | <b>x</b> |"
    assert "\u202e" not in markdown
    assert html.count("<table>") == 5


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("<x>", "\\<x\\>"),
        ("`c`", "\\`c\\`"),
        ("*_~#", "\\*\\_\\~\\#"),
        ("[l](u)", "\\[l\\]\\(u\\)"),
        ("1. x", "1\\. x"),
        ("a\\", "a\\\\"),
        ("&amp;", "\\&amp;"),
        ("$x$ @me", "\\$x\\$ \\@me"),
        ("l1\nl2\r\nl3\tx", "l1 l2  l3 x"),
        ("\u200b\u2066\x00", "⟨U+200B⟩⟨U+2066⟩⟨U+0000⟩"),
        ("caf\udce9", "caf⟨U+DCE9⟩"),
        ("plain text/path_", "plain text/path\\_"),
    ],
)
def test_markdown_escape(raw: str, escaped: str) -> None:
    assert markdown_escape(raw) == escaped


def test_markdown_escape_clips_before_escaping() -> None:
    assert markdown_escape("abcdef", 4) == "abc…"
    assert markdown_escape("||||||", 3) == "\\|\\|…"
    assert markdown_escape("abc", 3) == "abc"


def test_fifty_thousand_findings_stay_under_one_mib() -> None:
    report = many_findings(50_000)
    markdown = render_summary_with(report, CONTEXT, RULES)
    assert len(markdown.encode("utf-8")) < STEP_SUMMARY_LIMIT
    rows = _table(_tables(markdown), FINDINGS_HEADER)
    assert len(rows) == MAX_FINDING_ROWS
    assert all(len(row) == 5 for row in rows)
    assert {row[0] for row in rows} == {"high"}
    assert f"…and {50_000 - MAX_FINDING_ROWS} more findings not listed here" in markdown


def test_huge_cells_shrink_the_table_until_it_fits() -> None:
    report = many_findings(50_000, message="|<>`" * 5000, path_len=3000)
    markdown = render_summary_with(report, CONTEXT, RULES)
    size = len(markdown.encode("utf-8"))
    assert size <= pins_summary.BUDGET
    rows = _table(_tables(markdown), FINDINGS_HEADER)
    assert 0 < len(rows) <= MAX_FINDING_ROWS
    assert all(len(row) == 5 for row in rows)
    assert f"…and {50_000 - len(rows)} more findings" in markdown


def test_budget_too_small_for_any_row_still_renders_the_verdict() -> None:
    markdown = render_summary_with(many_findings(1000), CONTEXT, RULES, budget=100)
    assert "**❌ Failed**" in markdown
    assert _table(_tables(markdown), ["Severity", "Findings", "Suppressed"])
    assert "…and 1000 more findings" in markdown


def test_append_summary_never_makes_the_file_exceed_the_cap(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_bytes(b"# earlier step\n" + b"x" * (STEP_SUMMARY_LIMIT - 50_000) + b"\n")
    result = append_summary(target, many_findings(50_000, message="m" * 300), CONTEXT)
    assert target.stat().st_size <= STEP_SUMMARY_LIMIT
    assert result.truncated
    assert target.read_text(encoding="utf-8").rstrip().endswith("SARIF or JSON report.")


def test_append_summary_to_an_empty_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    result = append_summary(target, small_report(), CONTEXT)
    assert not result.truncated
    assert target.read_text(encoding="utf-8") == pins_summary.render_summary(
        small_report(), CONTEXT
    )
