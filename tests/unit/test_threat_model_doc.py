"""docs/threat-model.md names only tests that exist, and every row of every table names one.

The tables with a `proved by` column are parsed row by row; each cell's
`` `tests/<file>.py::<function>` `` references must point at an existing file holding
`def <function>(`. Row counts are pinned per section so that a row cannot silently vanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.conftest import ROOT

DOC = ROOT / "docs" / "threat-model.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
SECTION = re.compile(r"^## (.+)$")
EXPECTED_ROWS = {
    "pin-check": 10,
    "attest-runner": 11,
    "verify-bag": 13,
    "mint-creds": 13,
    "record-decision": 10,
    "The gate workflow and the trust policy": 11,
    "The actions' packaging": 5,
    "Across every stage: the GitHub runtime": 9,
}


@dataclass(frozen=True)
class Row:
    """One row of a threat table: its section, its id, and the tests it names."""

    section: str
    ident: str
    cells: tuple[str, ...]
    tests: tuple[tuple[str, str], ...]


def _cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


def threat_rows(text: str) -> list[Row]:
    """Every data row of every table whose header ends in `proved by`."""
    rows: list[Row] = []
    section = ""
    in_table = False
    for line in text.splitlines():
        heading = SECTION.match(line)
        if heading:
            section, in_table = heading.group(1), False
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if cells[-1] == "proved by":
            in_table = True
            continue
        if not in_table or set(cells[0]) <= {"-"}:
            continue
        rows.append(Row(section, cells[0], cells, tuple(REFERENCE.findall(cells[-1]))))
    return rows


ROWS = threat_rows(DOC.read_text(encoding="utf-8"))


def test_every_section_keeps_its_rows() -> None:
    counts: dict[str, int] = {}
    for row in ROWS:
        counts[row.section] = counts.get(row.section, 0) + 1
    assert counts == EXPECTED_ROWS
    assert len(ROWS) == sum(EXPECTED_ROWS.values())


def test_rows_have_five_cells_and_unique_ids() -> None:
    assert all(len(row.cells) == 5 for row in ROWS), [r.ident for r in ROWS if len(r.cells) != 5]
    idents = [row.ident for row in ROWS]
    assert len(idents) == len(set(idents))


@pytest.mark.parametrize("row", ROWS, ids=[row.ident for row in ROWS])
def test_every_row_names_tests_that_exist(row: Row) -> None:
    assert row.tests, f"{row.ident} names no test"
    for rel, name in row.tests:
        path = ROOT / rel
        assert path.is_file(), f"{row.ident}: {rel} does not exist"
        source = path.read_text(encoding="utf-8")
        assert re.search(rf"^\s*(async )?def {name}\(", source, re.MULTILINE), (
            f"{row.ident}: {rel} has no `def {name}`"
        )


def test_the_parser_sees_references_and_refuses_rows_without_one() -> None:
    text = (
        "## s\n\n| # | a | b | c | proved by |\n|---|---|---|---|---|\n"
        "| S1 | x | y | z | `tests/a.py::test_b`<br>`tests/c/d.py::test_e` |\n"
        "| S2 | x | y | z | nothing |\n\nprose `tests/x.py::test_y`\n"
    )
    rows = threat_rows(text)
    assert [(r.ident, r.tests) for r in rows] == [
        ("S1", (("tests/a.py", "test_b"), ("tests/c/d.py", "test_e"))),
        ("S2", ()),
    ]
