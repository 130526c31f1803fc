"""Benchmark `envsecops pin-check` against `zizmor --offline` on one ≥ 5,000-file corpus.

The corpus is built under bench/.work/ (gitignored) from the workflows and action.yml files
of ../shared/corpus, copied into numbered folders of repository layouts
(``copy-NNNN/<owner__name>/.github/workflows/*.yml``) so that both tools see real
repositories. Each round runs both tools on the same tree, alternating which goes first,
after one untimed warm-up each (which also checks that they read the same number of files).

    python bench/pin_check.py [--rounds 5] [--min-files 5000] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import Sample, measure, median_seconds, mib

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
SOURCE = ROOT.parent / "shared" / "corpus"
BIN = Path(sys.executable).parent
ZIZMOR_OK = frozenset({0, *range(10, 15)})  # zizmor exits 10-14 when it has findings
ENVSECOPS_OK = frozenset({0, 1})  # 1: findings


def source_files(source: Path) -> list[tuple[str, Path]]:
    """(path inside the copy, source file) for every workflow and action.yml in the corpus."""
    found: list[tuple[str, Path]] = []
    for repo in sorted(p for p in source.iterdir() if p.is_dir()):
        for path in sorted(repo.rglob("*")):
            rel = path.relative_to(repo).as_posix()
            workflow = rel.startswith(".github/workflows/") and path.suffix in {".yml", ".yaml"}
            if path.is_file() and (workflow or path.name in {"action.yml", "action.yaml"}):
                found.append((f"{repo.name}/{rel}", path))
    return found


def build_corpus(source: Path, dest: Path, min_files: int) -> int:
    """Copy the corpus into ``dest`` enough times; reuse an identical earlier build."""
    files = source_files(source)
    if not files:
        raise SystemExit(f"no workflows or actions under {source}")
    copies = math.ceil(min_files / len(files))
    digest = hashlib.sha256(f"{copies}".encode())
    for rel, path in files:
        digest.update(rel.encode() + b"\0" + path.read_bytes())
    stamp = dest / ".stamp"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest.hexdigest():
        return copies * len(files)
    shutil.rmtree(dest, ignore_errors=True)
    for index in range(copies):
        for rel, path in files:
            target = dest / f"copy-{index:04d}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    stamp.write_text(digest.hexdigest(), encoding="utf-8")
    return copies * len(files)


def zizmor_argv(corpus: Path) -> list[str]:
    """zizmor with no online audits, no config, every input collected, JSON output."""
    return [
        str(BIN / "zizmor"),
        "--offline",
        "--no-config",
        "--collect=all",
        "--no-progress",
        "--format=json",
        str(corpus),
    ]


def envsecops_argv(corpus: Path, jobs: int, output: str = os.devnull) -> list[str]:
    """pin-check with JSON output, like zizmor's."""
    argv = [str(BIN / "envsecops"), "pin-check", "--format=json", f"--output={output}"]
    return [*argv, f"--jobs={jobs}", str(corpus)]


def files_read(corpus: Path, jobs: int) -> tuple[int, int]:
    """How many files each tool reads (untimed): (zizmor, envsecops)."""
    # zizmor's JSON report on stdout is hundreds of MB here: discard it, so that this process
    # stays small (a child's ru_maxrss starts from its parent's size at fork).
    result = subprocess.run(
        zizmor_argv(corpus),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode not in ZIZMOR_OK:
        raise SystemExit(f"zizmor failed ({result.returncode}):\n{result.stderr[-2000:]}")
    zizmor = sum(1 for line in result.stderr.splitlines() if " completed " in line)
    with tempfile.TemporaryDirectory() as temp:
        report = Path(temp) / "report.json"
        result = subprocess.run(
            envsecops_argv(corpus, jobs, str(report)), capture_output=True, text=True, check=False
        )
        if result.returncode not in ENVSECOPS_OK:
            raise SystemExit(f"envsecops failed ({result.returncode}):\n{result.stderr}")
        envsecops = len(json.loads(report.read_text(encoding="utf-8"))["files"])
    return zizmor, envsecops


def _row(name: str, samples: list[Sample]) -> str:
    times = [s.seconds for s in samples]
    largest = max(s.max_rss_kib for s in samples)
    trees = [s.tree_peak_kib for s in samples if s.tree_peak_kib is not None]
    tree = max(trees) if trees else None
    return (
        f"{name:<22}{median_seconds(samples):>9.3f}{min(times):>9.3f}{max(times):>9.3f}"
        f"{mib(largest):>16}{mib(tree):>16}"
    )


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, time both tools, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-files", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=0, help="envsecops --jobs (0: all CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep bench/.work for reuse")
    args = parser.parse_args(argv)
    if args.rounds < 5 or args.min_files < 5000:
        parser.error("the comparison needs --rounds >= 5 and --min-files >= 5000")
    if not SOURCE.is_dir():
        parser.error(f"{SOURCE} is missing: the benchmark copies ../shared/corpus")
    corpus = WORK / "corpus"
    try:
        count = build_corpus(SOURCE, corpus, args.min_files)
        zizmor_files, envsecops_files = files_read(corpus, args.jobs)
        if zizmor_files != envsecops_files or envsecops_files != count:
            raise SystemExit(
                f"the tools read different inputs: corpus {count}, zizmor {zizmor_files}, "
                f"envsecops {envsecops_files}"
            )
        zizmor: list[Sample] = []
        envsecops: list[Sample] = []
        runs = [
            (zizmor, zizmor_argv(corpus), ZIZMOR_OK),
            (envsecops, envsecops_argv(corpus, args.jobs), ENVSECOPS_OK),
        ]
        for round_no in range(args.rounds):
            for samples, command, ok in runs if round_no % 2 == 0 else runs[::-1]:
                samples.append(measure(command, ROOT, ok))
    finally:
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    version = subprocess.run(
        [str(BIN / "zizmor"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"corpus: {count} files (workflows and action.yml) from {SOURCE}")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"
    )
    print(f"tools: {version}; envsecops --jobs={args.jobs or os.cpu_count()}")
    print(f"rounds: {args.rounds}, alternating, after one untimed run of each\n")
    header = f"{'median s':>9}{'min s':>9}{'max s':>9}{'peak RSS 1 proc':>16}"
    print(f"{'':<22}{header}{'peak RSS tree':>16}")
    print(_row("zizmor --offline", zizmor))
    print(_row("envsecops pin-check", envsecops))
    ratio = median_seconds(envsecops) / median_seconds(zizmor)
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"\nenvsecops/zizmor median wall time: {ratio:.2f}x (target <= 1.00x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
