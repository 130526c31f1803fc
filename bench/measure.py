"""Run a command once and measure it: wall time, its largest process's peak RSS, its tree's peak."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4
SAMPLE_SECONDS = 0.005
GNU_TIME = "/usr/bin/time"


@dataclass(frozen=True, slots=True)
class Sample:
    """One measured run."""

    seconds: float
    code: int
    max_rss_kib: int
    tree_peak_kib: int | None


def _children(pid: int) -> list[int]:
    try:
        text = (PROC / str(pid) / "task" / str(pid) / "children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def _rss_kib(pid: int) -> int:
    try:
        fields = (PROC / str(pid) / "statm").read_text().split()
    except OSError:
        return 0
    return int(fields[1]) * PAGE_KIB


class TreeSampler(threading.Thread):
    """Polls /proc for the summed RSS of a process and its descendants (Linux only)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        """Sample until told to stop."""
        while not self.done.is_set():
            total, stack = 0, [self.pid]
            while stack:
                pid = stack.pop()
                total += _rss_kib(pid)
                stack.extend(_children(pid))
            self.peak = max(self.peak, total)
            self.done.wait(SAMPLE_SECONDS)


def measure(argv: Sequence[str], cwd: Path, ok_codes: frozenset[int]) -> Sample:
    """Run ``argv`` with output discarded; fail loudly on an exit code outside ``ok_codes``.

    A child's ``ru_maxrss`` starts from the size of the process that forked it, so when GNU
    time is installed it does the fork (it is tiny) and reports the largest process's peak;
    otherwise this process's own ``wait4`` figure is used, an upper bound.
    """
    can_sample = (PROC / str(os.getpid()) / "task" / str(os.getpid()) / "children").exists()
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        wrapper = [GNU_TIME, "-f", "%M", "-o", rss_file.name] if Path(GNU_TIME).exists() else []
        sample = _run([*wrapper, *argv], cwd, ok_codes, can_sample)
        # GNU time adds "Command exited with non-zero status N" above the figure.
        lines = rss_file.read().strip().splitlines()
        reported = lines[-1] if lines else ""
    if wrapper and reported.isdigit():
        return Sample(sample.seconds, sample.code, int(reported), sample.tree_peak_kib)
    return sample


def _run(argv: Sequence[str], cwd: Path, ok_codes: frozenset[int], can_sample: bool) -> Sample:
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid) if can_sample else None
    if sampler is not None:
        sampler.start()
    assert proc.stderr is not None
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if sampler is not None:
        sampler.done.set()
        sampler.join()
    if proc.returncode not in ok_codes:
        tail = err.decode("utf-8", "replace")[-2000:]
        raise SystemExit(f"{argv[0]} exited {proc.returncode}:\n{tail}")
    # ru_maxrss is KiB on Linux, bytes on macOS.
    max_rss = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return Sample(seconds, proc.returncode, max_rss, sampler.peak if sampler else None)


def median_seconds(samples: Sequence[Sample]) -> float:
    """Median wall time."""
    return statistics.median(s.seconds for s in samples)


def mib(kib: int | None) -> str:
    """KiB as a MiB string, or n/a."""
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"
