"""Benchmark envsecops start-up: `--version` and pin-check on a small repository, plus imports.

Median wall time of N runs (default 20, after two untimed ones) of `envsecops --version`,
`envsecops pin-check` on a three-file repository made from this project's own workflow and
actions, and on the project itself; the bare interpreter is timed too, as the floor. Then
`python -X importtime` shows that pin-check imports none of the heavy libraries that later
stages need (boto3, botocore, sigstore, PyGithub's `github`) and where start-up time goes.

    python bench/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SMALL_REPO_FILES = (".github/workflows/ci.yml", "action.yml", "actions/pin-check/action.yml")
TARGET_SECONDS = 0.150
HEAVY = ("boto3", "botocore", "sigstore", "github", "moto", "cyclonedx")
QUIET = ["--format=json", f"--output={os.devnull}"]


def small_repo(dest: Path) -> Path:
    """Copy this project's workflow and actions into ``dest``: a small, clean repository."""
    for rel in SMALL_REPO_FILES:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / rel, target)
    return dest


def timed(argv: list[str], runs: int, cwd: Path) -> list[float]:
    """Wall times of ``runs`` runs, after two untimed ones; any non-zero exit is an error."""
    times: list[float] = []
    for index in range(runs + 2):
        start = time.perf_counter()
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr}")
        if index >= 2:
            times.append(elapsed)
    return times


def import_times(argv: list[str], cwd: Path) -> dict[str, tuple[int, int]]:
    """Module -> (self us, cumulative us) from `python -X importtime`."""
    command = [sys.executable, "-X", "importtime", *argv]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"importtime run failed:\n{result.stderr[-2000:]}")
    modules: dict[str, tuple[int, int]] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        modules[name] = (int(own), int(cumulative))
    return modules


def main(argv: list[str] | None = None) -> int:
    """Time start-up and report the imports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    if args.runs < 20:
        parser.error("the median needs --runs >= 20")
    envsecops = str(BIN / "envsecops")
    with tempfile.TemporaryDirectory(prefix="envsecops-startup-") as temp:
        repo = small_repo(Path(temp))
        cases = [
            ("python -c pass (floor)", [sys.executable, "-c", "pass"], ROOT, False),
            ("envsecops --version", [envsecops, "--version"], ROOT, True),
            ("pin-check, 3-file repo", [envsecops, "pin-check", *QUIET, str(repo)], ROOT, True),
            (
                "pin-check, this project",
                [envsecops, "pin-check", *QUIET, "--exclude=bench/.work/*", "."],
                ROOT,
                True,
            ),
        ]
        print(f"{args.runs} runs each, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
        print(f"{'':<26}{'median ms':>10}{'min ms':>9}{'max ms':>9}  target 150 ms")
        for name, command, cwd, targeted in cases:
            times = timed(command, args.runs, cwd)
            median = statistics.median(times)
            verdict = ("met" if median <= TARGET_SECONDS else "NOT met") if targeted else ""
            print(
                f"{name:<26}{median * 1000:>10.1f}{min(times) * 1000:>9.1f}"
                f"{max(times) * 1000:>9.1f}  {verdict}"
            )
        modules = import_times(["-m", "envsecops", "pin-check", *QUIET, str(repo)], ROOT)
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    print(f"\npython -X importtime -m envsecops pin-check: {len(modules)} modules imported")
    print(f"heavy libraries imported: {', '.join(heavy) if heavy else 'none'}")
    print(f"  (checked: {', '.join(HEAVY)})")
    # Top-level packages, and envsecops's own modules (which import the rest lazily).
    top = sorted(
        (
            (cumulative, name)
            for name, (_own, cumulative) in modules.items()
            if "." not in name or name.startswith("envsecops.")
        ),
        reverse=True,
    )[:15]
    print("largest imports (cumulative ms; nested ones are counted in their parents too):")
    for cumulative, name in top:
        print(f"  {cumulative / 1000:>7.1f}  {name}")
    return 1 if heavy else 0


if __name__ == "__main__":
    sys.exit(main())
