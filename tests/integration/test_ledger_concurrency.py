"""Concurrent writers and killed writers: real processes against real file and S3 ledgers."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from envsecops.ledger.file import FileLedger
from envsecops.ledger.s3 import S3Ledger
from envsecops.ledger.s3_retry import RetryPolicy
from envsecops.model.ledger import EntryKind
from tests.integration.moto_s3 import REGION, MotoS3

WRITERS = 8
FILE_APPENDS = 200
S3_APPENDS = 25
ROOT = Path(__file__).resolve().parents[2]


def _file_writer(path: str, writer: int, count: int) -> list[str]:
    ledger = FileLedger(path)
    return [
        ledger.append(EntryKind.DECISION, {"writer": writer, "n": n}).digest for n in range(count)
    ]


def _s3_writer(endpoint: str, bucket: str, writer: int, count: int) -> list[str]:
    retry = RetryPolicy(attempts=6, base_delay=0.01, max_delay=0.2)
    ledger = S3Ledger(bucket, retention_days=1, region=REGION, endpoint_url=endpoint, retry=retry)
    body = {"writer": writer, "principal": {"claims": {"repository_id": str(100 + writer % 2)}}}
    return [ledger.append(EntryKind.DECISION, {**body, "n": n}).digest for n in range(count)]


def _spawn() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")  # no fork with moto's server threads alive


def test_eight_processes_append_to_one_file_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    with _spawn().Pool(WRITERS) as pool:
        jobs = [
            pool.apply_async(_file_writer, (str(path), w, FILE_APPENDS)) for w in range(WRITERS)
        ]
        acknowledged = [digest for job in jobs for digest in job.get(timeout=300)]
    ledger = FileLedger(path)
    entries = list(ledger.entries())
    assert len(entries) == WRITERS * FILE_APPENDS == len(acknowledged)
    assert [e.seq for e in entries] == list(range(WRITERS * FILE_APPENDS))
    assert sorted(e.digest for e in entries) == sorted(acknowledged)
    assert ledger.verify() == []
    per_writer = Counter(e.body["writer"] for e in entries)
    assert per_writer == dict.fromkeys(range(WRITERS), FILE_APPENDS)
    for writer in range(WRITERS):  # each writer's own appends stay in its order
        mine = [e.body["n"] for e in entries if e.body["writer"] == writer]
        assert mine == list(range(FILE_APPENDS))


def test_eight_processes_append_to_one_s3_ledger(moto_s3: MotoS3) -> None:
    with _spawn().Pool(WRITERS) as pool:
        jobs = [
            pool.apply_async(_s3_writer, (moto_s3.endpoint, moto_s3.locked_bucket, w, S3_APPENDS))
            for w in range(WRITERS)
        ]
        acknowledged = [digest for job in jobs for digest in job.get(timeout=300)]
    ledger = moto_s3.ledger(retention_days=1)
    entries = list(ledger.entries())
    assert len(acknowledged) == len(set(acknowledged)) == WRITERS * S3_APPENDS
    assert sorted(e.digest for e in entries) == sorted(acknowledged)
    assert len(moto_s3.versions()) == WRITERS * S3_APPENDS
    assert ledger.verify() == []


def test_threads_writing_the_same_entry_leave_one_object(moto_s3: MotoS3) -> None:
    """Identical bytes from many writers at once: every one succeeds, one entry exists."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import UTC, datetime

    moment = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    ledger = moto_s3.ledger(clock=lambda: moment)
    with ThreadPoolExecutor(WRITERS) as pool:
        receipts = list(
            pool.map(lambda _: ledger.append(EntryKind.DECISION, {"same": True}), range(WRITERS))
        )
    assert len({r.digest for r in receipts}) == 1
    assert [e.digest for e in ledger.entries()] == [receipts[0].digest]
    keys = {v["Key"] for v in moto_s3.versions()}
    assert len(keys) == 1


KILLED_WRITER = """
import sys
from envsecops.ledger.file import FileLedger
from envsecops.model.ledger import EntryKind
ledger = FileLedger(sys.argv[1])
blob = "x" * int(sys.argv[2])
n = 0
while True:
    receipt = ledger.append(EntryKind.MINT_INTENT, {"n": n, "blob": blob})
    print(receipt.seq, receipt.digest, flush=True)
    n += 1
"""


def test_writers_killed_mid_append_lose_nothing_acknowledged(tmp_path: Path) -> None:
    """SIGKILL a writer of multi-MiB entries at random moments, again and again.

    Most kills land outside the write() call (encoding takes longer than copying into the
    page cache); one that lands inside may stop a large write between pages and leave a
    torn line. Whatever happens, every entry a writer acknowledged is there, and
    `verify()` reports nothing but torn lines. The next test tears a write for certain.
    """
    path = tmp_path / "ledger.jsonl"
    rng = random.Random(5)  # noqa: S311 - timing jitter for the test, not secrecy
    acknowledged: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for _round in range(8):
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                KILLED_WRITER,
                str(path),
                str(rng.choice([1, 2, 3]) * 1024 * 1024),
            ],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # at least one acknowledged append per round
        time.sleep(rng.uniform(0.0, 0.15))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait(timeout=30)
        *complete, _partial = (first + rest).split(b"\n")  # a print cut short is not counted
        acknowledged.extend(line.split()[1].decode() for line in complete)
    ledger = FileLedger(path)
    records = list(ledger.records())
    stored = {r.entry.digest for r in records if r.entry is not None}
    assert set(acknowledged) <= stored
    assert len(acknowledged) >= 8
    for problem in ledger.verify():
        assert "torn" in problem.message, problem
    receipt = ledger.append(EntryKind.DECISION, {"after": "the kills"})
    assert receipt.seq == max(r.entry.seq or 0 for r in records if r.entry is not None) + 1
    assert all("torn" in p.message for p in ledger.verify())


FULL_DISK_WRITER = """
import resource, signal, sys
from envsecops.ledger.file import FileLedger
from envsecops.ledger.interface import LedgerError
from envsecops.model.ledger import EntryKind
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
ledger = FileLedger(sys.argv[1])
try:
    for n in range(1000):
        print(ledger.append(EntryKind.DECISION, {"n": n, "pad": "p" * 300}).digest, flush=True)
except LedgerError as exc:
    print("refused:", exc.message, flush=True)
"""


def test_a_write_the_kernel_cuts_short_is_a_torn_line_and_an_error(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the kernel stop a write part-way, as a full disk would."""
    path = tmp_path / "ledger.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    limit = 10_000
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK_WRITER, str(path), str(limit)],
        capture_output=True,
        env=env,
        check=True,
        timeout=60,
    )
    *acknowledged, refusal, _ = run.stdout.decode().split("\n")
    assert refusal.startswith(f"refused: {path}: could not append (File too large)")
    assert "the entry is not recorded" in refusal
    assert path.stat().st_size == limit  # the last line is cut where the kernel stopped
    ledger = FileLedger(path)
    (problem,) = ledger.verify()
    assert problem.message.startswith("torn last line")
    assert [r.entry.digest for r in ledger.records() if r.entry is not None] == acknowledged
    assert ledger.append(EntryKind.DECISION, {"n": "next"}).seq == len(acknowledged)
    assert len(ledger.verify()) == 1


@pytest.mark.parametrize("cut", [1, 57, -2])
def test_a_crash_at_any_byte_of_an_append_is_detected_and_survived(
    tmp_path: Path, cut: int
) -> None:
    """Simulate the crashed writer byte-exactly: a prefix of the line it was writing."""
    ledger = FileLedger(tmp_path / "ledger.jsonl")
    for n in range(3):
        ledger.append(EntryKind.DECISION, {"n": n})
    complete = ledger.path.read_bytes()
    scratch = FileLedger(tmp_path / "scratch.jsonl")
    scratch.append(EntryKind.DECISION, {"n": 3})
    line = scratch.path.read_bytes()
    ledger.path.write_bytes(complete + line[:cut])
    (problem,) = ledger.verify()
    assert problem.where.endswith("ledger.jsonl:4")
    assert problem.message.startswith("torn last line")
    assert [e.seq for e in (r.entry for r in ledger.records()) if e is not None] == [0, 1, 2]
    assert ledger.append(EntryKind.DECISION, {"n": 3}).seq == 3
    assert ledger.path.read_bytes().startswith(complete + line[:cut] + b"\n")
    assert len(ledger.verify()) == 1
