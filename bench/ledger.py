"""Benchmark the ledgers: file appends with fsync, and S3 appends against moto on loopback.

Each figure comes with a baseline measured in the same run, on the same bytes:

- file ledger (lock, tail read, chain, canonical JSON, write, fsync) against a raw
  `write` + `fsync` of the same lines to an already-open file;
- the file ledger with 8 writer processes at once (throughput of the whole group);
- S3 ledger (create-only PUT with SHA-256 checksum and COMPLIANCE retention) against a raw
  `put_object` of the same bytes (no condition, no checksum, no lock), both through boto3 to
  moto's server on 127.0.0.1 — which measures our overhead on top of boto3 + moto, not S3.

    python bench/ledger.py [--appends 2000] [--s3-appends 300] [--rounds 3] [--dir PATH]

Rounds alternate which side goes first; the median round is reported.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from envsecops.ledger.codec import encode, timestamp
from envsecops.ledger.file import FileLedger
from envsecops.ledger.s3 import S3Ledger
from envsecops.model.ledger import EntryKind

WRITERS = 8
BODY: dict[str, Any] = {
    "decision_id": "0f0e0d0c-0b0a-4908-8706-050403020100",
    "verdict": "deny",
    "mode": "enforce",
    "env_hash": "sha256:" + "ab" * 32,
    "policy_id": "org-gate@sha256:0123456789ab",
    "principal": {
        "claims": {
            "repository": "octo-org/octo-repo",
            "repository_id": "123456789",
            "run_id": "9876543210",
            "run_attempt": "1",
            "job_workflow_ref": "octo-org/gate/.github/workflows/gate.yml@refs/heads/main",
        },
        "origin": "oidc",
    },
    "reasons": [
        {"code": "binary-not-allowed", "subject": f"/usr/local/bin/tool{n}", "message": "x" * 80}
        for n in range(5)
    ],
}


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _time(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _lines(count: int) -> list[bytes]:
    now = timestamp(datetime.now(UTC))
    return [
        encode("bench", EntryKind.DECISION, {**BODY, "n": n}, now, n, None).data + b"\n"
        for n in range(count)
    ]


def raw_file(path: Path, lines: list[bytes]) -> None:
    """The floor: write and fsync each line to an open file, nothing else."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        for line in lines:
            os.write(fd, line)
            os.fsync(fd)
    finally:
        os.close(fd)


def ledger_file(path: Path, count: int) -> None:
    """What record-decision does: one FileLedger append per entry."""
    ledger = FileLedger(path)
    for n in range(count):
        ledger.append(EntryKind.DECISION, {**BODY, "n": n})


def _writer(path: str, count: int) -> None:
    ledger_file(Path(path), count)


def _ready(_: int) -> int:
    return os.getpid()


def ledger_file_parallel(pool: Any, path: Path, count: int) -> None:
    """WRITERS warm worker processes sharing ``count`` appends to one ledger."""
    pool.starmap(_writer, [(str(path), count // WRITERS)] * WRITERS)


def bench_file(work: Path, count: int, rounds: int) -> list[tuple[str, int, float]]:
    """Median seconds per side over ``rounds`` rounds."""
    lines = _lines(count)
    times: dict[str, list[float]] = {"raw": [], "ledger": [], "parallel": []}
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        pool.map(_ready, range(WRITERS * 4))  # start and import in every worker, untimed
        for index in range(rounds):
            runs = {
                "raw": partial(raw_file, work / f"raw{index}", lines),
                "ledger": partial(ledger_file, work / f"ledger{index}", count),
                "parallel": partial(ledger_file_parallel, pool, work / f"par{index}", count),
            }
            order = ("raw", "ledger", "parallel")
            for side in order if index % 2 == 0 else reversed(order):
                times[side].append(_time(runs[side]))
            if FileLedger(work / f"par{index}").verify():
                raise SystemExit("the parallel ledger does not verify")
    raw_times, ledger_times, parallel_times = times["raw"], times["ledger"], times["parallel"]
    return [
        ("raw write+fsync (baseline)", count, statistics.median(raw_times)),
        ("FileLedger.append, 1 process", count, statistics.median(ledger_times)),
        (
            f"FileLedger.append, {WRITERS} processes",
            count // WRITERS * WRITERS,
            statistics.median(parallel_times),
        ),
    ]


def bench_s3(count: int, rounds: int) -> list[tuple[str, int, float]]:
    """Raw put_object against S3Ledger.append, both to moto on loopback."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}  # moto takes any
    os.environ.update({**fake, "AWS_EC2_METADATA_DISABLED": "true"})
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.session.Session().client(
            "s3", region_name="us-east-1", endpoint_url=endpoint
        )
        client.create_bucket(Bucket="bench-raw")
        client.create_bucket(Bucket="bench-locked", ObjectLockEnabledForBucket=True)
        data = [line.rstrip(b"\n") for line in _lines(count)]
        ledger = S3Ledger(
            "bench-locked", retention_days=1, region="us-east-1", endpoint_url=endpoint
        )
        ledger.client()  # created outside the timing, as the raw client is
        times: dict[str, list[float]] = {"raw": [], "ledger": []}

        def raw(index: int) -> None:
            for n, body in enumerate(data):
                client.put_object(Bucket="bench-raw", Key=f"r{index}/{n}.json", Body=body)

        def locked() -> None:
            for n in range(count):
                ledger.append(EntryKind.DECISION, {**BODY, "n": n})

        for index in range(rounds):
            runs: dict[str, Callable[[], None]] = {"raw": partial(raw, index), "ledger": locked}
            for side in ("raw", "ledger") if index % 2 == 0 else ("ledger", "raw"):
                times[side].append(_time(runs[side]))
        raw_times, ledger_times = times["raw"], times["ledger"]
        return [
            ("raw put_object (baseline)", count, statistics.median(raw_times)),
            ("S3Ledger.append", count, statistics.median(ledger_times)),
        ]
    finally:
        server.stop()


def report(title: str, rows: list[tuple[str, int, float]]) -> None:
    """Print a table: appends/s, ms per append, and throughput relative to the first row."""
    base = _rate(rows[0][1], rows[0][2])
    print(f"\n{title}")
    print(f"  {'':40} {'appends/s':>10} {'ms/append':>10} {'vs baseline':>12}")
    for name, count, seconds in rows:
        rate = _rate(count, seconds)
        print(f"  {name:40} {rate:10.0f} {1000 / rate:10.3f} {rate / base:11.2f}x")


def main() -> None:
    """Run both benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--s3-appends", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the file ledgers go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="envsecops-bench-") as work:
        where = Path(work)
        print(f"file ledgers in {where} ({_filesystem(where)}), {os.cpu_count()} CPUs")
        report(
            f"file ledger, {args.appends} appends, fsync each",
            bench_file(where, args.appends, args.rounds),
        )
    report(
        f"S3 ledger on moto (loopback), {args.s3_appends} appends",
        bench_s3(args.s3_appends, args.rounds),
    )


def _filesystem(path: Path) -> str:
    """The filesystem type holding ``path`` (Linux /proc/mounts; 'unknown' elsewhere)."""
    best, kind = "", "unknown"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    resolved = str(path.resolve())
    for line in mounts:
        fields = line.split()
        if len(fields) > 2 and resolved.startswith(fields[1]) and len(fields[1]) > len(best):
            best, kind = fields[1], fields[2]
    return kind


if __name__ == "__main__":
    main()
