"""FileLedger on a real filesystem: chaining, torn tails, tampering, refusals, snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from envsecops.canonical import canonical_json, digest
from envsecops.ledger.codec import MAX_ENTRY_BYTES
from envsecops.ledger.file import FileLedger
from envsecops.ledger.interface import LedgerError, Problem
from envsecops.model.ledger import EntryKind

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _clock() -> Callable[[], datetime]:
    ticks = iter(range(10_000))
    return lambda: START + timedelta(seconds=next(ticks))


def _ledger(tmp_path: Path, count: int = 0) -> FileLedger:
    ledger = FileLedger(tmp_path / "ledger.jsonl", clock=_clock())
    for n in range(count):
        ledger.append(EntryKind.DECISION, {"n": n})
    return ledger


def _lines(ledger: FileLedger) -> list[bytes]:
    return ledger.path.read_bytes().split(b"\n")


def _messages(problems: list[Problem]) -> list[str]:
    return [f"{p.where.rsplit('/', 1)[-1]}: {p.message}" for p in problems]


def test_appends_chain_with_seq_and_prev_in_canonical_lines(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "deep" / "dir" / "ledger.jsonl", clock=_clock())
    receipts = [ledger.append(EntryKind.DECISION, {"n": n}) for n in range(3)]
    assert [r.seq for r in receipts] == [0, 1, 2]
    assert {r.location for r in receipts} == {str(ledger.path)}
    assert receipts[0].ledger == f"file:{ledger.path}"
    entries = list(ledger.entries())
    assert [e.prev for e in entries] == [None, receipts[0].digest, receipts[1].digest]
    assert [e.digest for e in entries] == [r.digest for r in receipts]
    assert entries[1].recorded_at == "2026-01-02T03:04:06.000000Z"
    raw = ledger.path.read_bytes()
    assert raw.endswith(b"\n")
    for line, entry in zip(raw.splitlines(), entries, strict=True):
        assert line == canonical_json(entry.to_json())
        assert digest(entry.content()) == entry.digest
    assert ledger.verify() == []


def test_an_empty_file_starts_at_seq_zero(tmp_path: Path) -> None:
    (tmp_path / "ledger.jsonl").touch()
    ledger = _ledger(tmp_path)
    assert ledger.verify() == []
    assert ledger.append(EntryKind.DRIFT, {}).seq == 0


def test_a_torn_tail_is_reported_and_the_next_append_steps_over_it(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 3)
    whole = ledger.path.read_bytes()
    torn = _ledger(tmp_path / "other", 1).path.read_bytes()[:40]
    with ledger.path.open("ab") as crashed_writer:
        crashed_writer.write(torn)
    assert _messages(ledger.verify()) == [
        "ledger.jsonl:4: torn last line (40 bytes, no newline): a writer stopped mid-append; "
        "that entry was never acknowledged, and the entries before it are intact"
    ]
    with pytest.raises(LedgerError, match=r"ledger.jsonl:4: torn last line"):
        list(ledger.entries())

    receipt = ledger.append(EntryKind.MINT_INTENT, {"after": "crash"})
    assert receipt.seq == 3
    raw = ledger.path.read_bytes()
    assert raw.startswith(whole + torn + b"\n")  # nothing before it moved or changed
    (problem,) = ledger.verify()
    assert problem.where.endswith("ledger.jsonl:4")
    assert "a torn write that a later append stepped over" in problem.message
    records = list(ledger.records())
    assert [r.entry.seq if r.entry else None for r in records] == [0, 1, 2, None, 3]
    assert records[3].problem is not None
    assert records[4].entry is not None
    assert records[2].entry is not None
    assert records[4].entry.prev == records[2].entry.digest


def test_a_torn_first_line_leaves_seq_zero_for_the_next_append(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.path.write_bytes(b'{"body":{"n"')
    assert ledger.append(EntryKind.DECISION, {"n": 0}).seq == 0
    assert _messages(ledger.verify())[0].startswith("ledger.jsonl:1: not a valid entry")
    assert len(ledger.verify()) == 1


def test_a_complete_entry_missing_only_its_newline_is_finished_and_chained(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 2)
    ledger.path.write_bytes(ledger.path.read_bytes()[:-1])
    assert ledger.verify() == []
    assert ledger.append(EntryKind.DECISION, {"n": 2}).seq == 2
    assert ledger.verify() == []
    assert len(_lines(ledger)) == 4  # three lines and the final newline


def test_a_damaged_complete_last_line_refuses_appends_and_changes_nothing(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 3)
    lines = _lines(ledger)
    lines[2] = lines[2].replace(b'"n":2', b'"n":7')
    ledger.path.write_bytes(b"\n".join(lines))
    before = ledger.path.read_bytes()
    with pytest.raises(LedgerError) as raised:
        ledger.append(EntryKind.DECISION, {"n": 3})
    assert "ledger.jsonl:3: the last complete line is not a valid entry" in raised.value.message
    assert "does not match its digest" in raised.value.message
    assert "audit verify" in (raised.value.fix or "")
    assert ledger.path.read_bytes() == before


def _rewrite(ledger: FileLedger, edit: object) -> None:
    lines = [json.loads(line) for line in ledger.path.read_bytes().splitlines()]
    edited = edit(lines)  # type: ignore[operator]
    ledger.path.write_bytes(b"".join(canonical_json(line) + b"\n" for line in edited))


def _redigest(line: dict[str, object]) -> dict[str, object]:
    content = {k: v for k, v in line.items() if k != "digest"}
    return {**content, "digest": digest(content)}


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda ls: ls[:2] + ls[3:],
            ["ledger.jsonl:3 (seq 3): gap: seq 2 missing after seq 1", "`prev`"],
        ),
        (
            lambda ls: [*ls[:3], ls[2], *ls[3:]],
            ["ledger.jsonl:4 (seq 2): duplicate or reordered seq 2", "`prev`"],
        ),
        (
            lambda ls: [ls[1], ls[0], *ls[2:]],
            [
                "seq 1): gap: seq 0 missing at the start",
                "`prev`",
                "duplicate or reordered seq 0",
                "`prev`",
                "gap: seq 1 missing after seq 0",
                "`prev`",
            ],
        ),
        (
            lambda ls: [*ls[:1], _redigest({**ls[1], "body": {"n": 99}}), *ls[2:]],
            ["ledger.jsonl:3 (seq 2): `prev`"],
        ),
        (
            lambda ls: [*ls[:1], {**ls[1], "body": {"n": 99}}, *ls[2:]],
            ["ledger.jsonl:2: not a valid entry: ledger entry 1 does not match its digest"],
        ),
        (
            lambda ls: ls[1:],
            ["ledger.jsonl:1 (seq 1): gap: seq 0 missing at the start of the ledger", "`prev`"],
        ),
        (
            lambda ls: [*ls[:3], {k: v for k, v in ls[3].items() if k != "digest"}],
            ["ledger.jsonl:4: not a valid entry: not a ledger entry"],
        ),
        (
            lambda ls: [*ls[:3], _redigest({**ls[3], "seq": None})],
            ["ledger.jsonl:4: entry has no `seq`"],
        ),
    ],
    ids=[
        "deleted",
        "duplicated",
        "swapped",
        "altered-and-redigested",
        "altered",
        "head-cut",
        "no-digest",
        "no-seq",
    ],
)
def test_verify_names_tampering(tmp_path: Path, edit: object, expected: list[str]) -> None:
    ledger = _ledger(tmp_path, 4)
    _rewrite(ledger, edit)
    found = _messages(ledger.verify())
    assert len(found) == len(expected), found
    for message, fragment in zip(found, expected, strict=True):
        assert fragment in message


@pytest.mark.parametrize(
    ("mangle", "why"),
    [
        (lambda line: line.replace(b":", b": ", 1), "not in canonical form"),
        (lambda line: line[:-1] + b',"version":"1"}', "not in canonical form"),
        (lambda line: line[:-1] + b',"kind":"drift"}', "does not match its digest"),
        (lambda line: b"\xff" + line, "not UTF-8"),
        (lambda _line: b"", "empty line"),
        (lambda _line: b"[1,2]", "not a ledger entry"),
    ],
    ids=["spaces", "duplicate-key", "duplicate-key-new-value", "binary", "empty", "array"],
)
def test_verify_rejects_lines_that_are_not_exactly_what_was_written(
    tmp_path: Path, mangle: object, why: str
) -> None:
    ledger = _ledger(tmp_path, 3)
    lines = _lines(ledger)
    lines[1] = mangle(lines[1])  # type: ignore[operator]
    ledger.path.write_bytes(b"\n".join(lines))
    found = _messages(ledger.verify())
    assert len(found) == 1  # seq 2 takes the damaged line's place: nothing else to report
    assert found[0].startswith("ledger.jsonl:2:")
    assert why in found[0]


def test_an_overlong_line_is_reported_and_stepped_over_like_a_torn_one(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 1)
    with ledger.path.open("ab") as handle:
        handle.write(b"x" * (MAX_ENTRY_BYTES + 10))
    assert ledger.append(EntryKind.DECISION, {"n": 1}).seq == 1
    found = _messages(ledger.verify())
    assert found == [f"ledger.jsonl:2: line longer than {MAX_ENTRY_BYTES:,} bytes"]


def test_a_tail_longer_than_any_entry_refuses_appends(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 1)
    with ledger.path.open("ab") as handle:
        handle.write(b"x" * (MAX_ENTRY_BYTES + 128 * 1024))
    size = ledger.path.stat().st_size
    with pytest.raises(LedgerError, match="longer than any entry"):
        ledger.append(EntryKind.DECISION, {"n": 1})
    assert ledger.path.stat().st_size == size


def test_readers_see_the_file_as_it_was_when_they_started(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path, 2)
    reader = ledger.records()
    first = next(reader)
    ledger.append(EntryKind.DECISION, {"n": 2})
    assert [first.line] + [r.line for r in reader] == [1, 2]
    assert len(list(ledger.records())) == 3


@pytest.mark.parametrize(
    ("body", "kind", "why"),
    [
        ({"x": float("nan")}, EntryKind.DECISION, "cannot be written as canonical JSON"),
        ({"x": 2**60}, EntryKind.DECISION, "cannot be written as canonical JSON"),
        ({"x": "y" * MAX_ENTRY_BYTES}, EntryKind.DECISION, "over the 16,777,216-byte limit"),
        ({"x": 1}, "approval", "is not one of decision, mint-intent"),
    ],
    ids=["nan", "big-int", "oversize", "bad-kind"],
)
def test_unrecordable_entries_are_refused_and_nothing_is_written(
    tmp_path: Path, body: dict[str, object], kind: object, why: str
) -> None:
    ledger = _ledger(tmp_path, 1)
    before = ledger.path.read_bytes()
    with pytest.raises(LedgerError, match=why):
        ledger.append(kind, body)  # type: ignore[arg-type]
    assert ledger.path.read_bytes() == before


def test_a_naive_clock_is_refused(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "l.jsonl", clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(LedgerError, match="naive datetime"):
        ledger.append(EntryKind.DECISION, {})


def test_unusable_paths_fail_closed_with_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(LedgerError, match="cannot open the ledger for appending") as raised:
        FileLedger(blocker / "ledger.jsonl").append(EntryKind.DECISION, {})
    assert str(blocker) in raised.value.message
    assert "nothing was recorded" in raised.value.message
    with pytest.raises(LedgerError, match="cannot open"):
        FileLedger(tmp_path).append(EntryKind.DECISION, {})
    missing = FileLedger(tmp_path / "missing.jsonl")
    with pytest.raises(LedgerError, match="no such ledger file"):
        missing.verify()
    with pytest.raises(LedgerError, match="no such ledger file"):
        list(missing.entries())
