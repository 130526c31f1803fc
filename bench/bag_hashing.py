"""Benchmark the bag hashing engine against `openssl dgst` (xargs -P2) and `syft` with digests.

Two runner-like trees are built under bench/.work/bag-hashing/ (gitignored, kept for reuse
unless --clean) by copying real files of this machine (Python installs under ~/.pyenv,
/usr/share, /usr/lib) into a hosted tool-cache layout, ``opt/hostedtoolcache/<tool>/<ver>/x64``.
Every command runs once untimed (warm page cache, and a check that the engine's digests
agree with openssl's), then ``--rounds`` times in alternating order; medians are compared.

    python bench/bag_hashing.py [--rounds 3] [--sizes small,large,xlarge] [--clean]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from measure import Sample, measure, median_seconds, mib

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work" / "bag-hashing"
BIN = Path(sys.executable).parent
GB = 1000**3
PYENV = Path.home() / ".pyenv" / "versions"
SOURCES = [
    *sorted(PYENV.glob("3.12*"))[:1],
    Path("/usr/share"),
    Path("/usr/lib"),
    *sorted(PYENV.glob("*")),
]
SIZES = {"small": (GB // 2, 25_000), "large": (GB, 50_000), "xlarge": (2 * GB, 100_000)}
ENGINE = """
import json, os, sys
from envsecops.bag.hashing import Hasher
from envsecops.bag.merkle import tree_digest
with Hasher(executor=sys.argv[2]) as hasher:
    tree = tree_digest(hasher, os.fsencode(sys.argv[1]))
print(json.dumps({"digest": tree.digest, "files": tree.files, "bytes": tree.nbytes,
                  "problems": tree.problem_count}))
"""
SAMPLE = """
import json, sys
from envsecops.bag.hashing import Hasher
with Hasher() as hasher:
    print(json.dumps([r.digest for r in hasher.hash_many(sys.argv[1:])]))
"""
OPENSSL = 'find "$1" -type f -print0 | xargs -0 -P2 -n500 openssl dgst -sha256 -r >/dev/null'
SYFT_ENV = [
    "SYFT_CHECK_FOR_APP_UPDATE=false",
    "SYFT_FILE_METADATA_SELECTION=all",
    "SYFT_FILE_METADATA_DIGESTS=sha256",
]


def _source_files() -> Iterator[tuple[Path, str]]:
    """(source file, destination under the tree) in a fixed order, regular files and links."""
    for source in SOURCES:
        if not source.is_dir():
            continue
        tool = (
            "Python" if ".pyenv" in source.parts else source.as_posix().strip("/").replace("/", "-")
        )
        version = source.name if tool == "Python" else "1.0.0"
        for directory, dirnames, filenames in os.walk(source):
            dirnames.sort()
            for name in sorted(filenames):
                path = Path(directory, name)
                rel = path.relative_to(source).as_posix()
                yield path, f"opt/hostedtoolcache/{tool}/{version}/x64/{rel}"


def build_tree(dest: Path, min_bytes: int, min_files: int) -> tuple[int, int]:
    """Copy files until the tree holds both ``min_bytes`` and ``min_files``; reuse a built one."""
    stamp = dest / ".built.json"
    wanted = {"min_bytes": min_bytes, "min_files": min_files}
    if stamp.is_file():
        done = json.loads(stamp.read_text(encoding="utf-8"))
        if done["wanted"] == wanted:
            return done["files"], done["bytes"]
    shutil.rmtree(dest, ignore_errors=True)
    files = total = 0
    for source, rel in _source_files():
        if files >= min_files and total >= min_bytes:
            break
        target = dest / "root" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        elif source.is_file():
            try:
                shutil.copy2(source, target)
            except OSError:
                continue
            files += 1
            total += target.stat().st_size
    for arch in (dest / "root/opt/hostedtoolcache").glob("*/*/x64"):
        (arch.parent / "x64.complete").touch()
        files += 1
    stamp.write_text(json.dumps({"wanted": wanted, "files": files, "bytes": total}))
    return files, total


def _engine(tree: Path, executor: str) -> list[str]:
    return [str(BIN / "python"), "-I", "-c", ENGINE, str(tree), executor]


def check_engine(tree: Path) -> dict[str, object]:
    """Run the engine once and check it against openssl on a sample of its files."""
    out = subprocess.run(_engine(tree, "process"), capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout)
    sample = sorted(p for p in tree.rglob("*") if p.is_file() and not p.is_symlink())[::500]
    ours = json.loads(
        subprocess.run(
            [str(BIN / "python"), "-I", "-c", SAMPLE, *map(str, sample)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    theirs = subprocess.run(
        ["openssl", "dgst", "-sha256", "-r", *map(str, sample)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[::2]
    if [d.removeprefix("sha256:") for d in ours] != theirs:
        raise SystemExit("the engine and openssl disagree on a sample of files")
    return result


def _key() -> Path:
    key = WORK / "key.pem"
    if not key.is_file():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key.write_bytes(pem)
    return key


def attest_argv(tree: Path) -> list[str] | None:
    """`envsecops attest` over the tree as its root, when the CLI has the subcommand."""
    help_text = subprocess.run(
        [str(BIN / "envsecops"), "--help"], capture_output=True, text=True, check=False
    ).stdout
    if "attest" not in help_text:
        return None
    out = WORK / "attestation"
    return [
        "env",
        "-i",
        "PATH=/usr/bin:/bin",  # a runner path: read under --root, like everything else
        "HOME=/home/runner",
        str(BIN / "envsecops"),
        "attest",
        "--signer=key",
        f"--key={_key()}",
        "--no-syft",
        f"--root={tree}",
        f"--out={out}",
    ]


def _row(name: str, samples: list[Sample], nbytes: int) -> str:
    median = median_seconds(samples)
    trees = [s.tree_peak_kib for s in samples if s.tree_peak_kib is not None]
    return (
        f"{name:<34}{median:>8.2f}{min(s.seconds for s in samples):>8.2f}"
        f"{max(s.seconds for s in samples):>8.2f}{nbytes / median / GB:>9.2f}"
        f"{mib(max(s.max_rss_kib for s in samples)):>14}{mib(max(trees) if trees else None):>14}"
    )


def run_size(label: str, rounds: int, with_syft: bool) -> dict[str, list[Sample]]:
    """Build one tree, check the engine, time every command on it."""
    min_bytes, min_files = SIZES[label]
    files, nbytes = build_tree(WORK / label, min_bytes, min_files)
    tree = WORK / label / "root"
    checked = check_engine(tree)
    if checked["files"] != files:
        raise SystemExit(f"the engine hashed {checked['files']} files of {files}")
    commands: dict[str, tuple[list[str], frozenset[int]]] = {
        "envsecops engine (processes)": (_engine(tree, "process"), frozenset({0})),
        "envsecops engine (threads)": (_engine(tree, "thread"), frozenset({0})),
        "find | xargs -P2 openssl dgst": (["sh", "-c", OPENSSL, "sh", str(tree)], frozenset({0})),
    }
    attest = attest_argv(tree)
    if attest is not None:
        commands["envsecops attest --signer key"] = (attest, frozenset({0}))
    if with_syft:
        syft = ["env", *SYFT_ENV, str(BIN / "syft"), "scan", f"dir:{tree}", "-q", "-o", "json"]
        commands["syft scan (sha256 digests)"] = (syft, frozenset({0}))
    samples: dict[str, list[Sample]] = {name: [] for name in commands}
    order = list(commands.items())
    for _name, (argv, ok) in order:  # untimed: warm caches, fail early
        measure(argv, ROOT, ok)
    for round_no in range(rounds):
        for name, (argv, ok) in order if round_no % 2 == 0 else order[::-1]:
            samples[name].append(measure(argv, ROOT, ok))
    print(f"\n{label} tree: {files} files, {nbytes / GB:.2f} GB ({tree})")
    print(f"{'':<34}{'median':>8}{'min':>8}{'max':>8}{'GB/s':>9}{'RSS 1 proc':>14}{'RSS tree':>14}")
    for name, runs in samples.items():
        print(_row(name, runs, nbytes))
    return samples


def main(argv: list[str] | None = None) -> int:
    """Build both trees, time every command, print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clean", action="store_true", help="remove the trees afterwards")
    parser.add_argument("--sizes", default="small,large", help="trees to build: " + ",".join(SIZES))
    args = parser.parse_args(argv)
    sizes = args.sizes.split(",")
    if args.rounds < 3:
        parser.error("the comparison needs --rounds >= 3")
    if "large" not in sizes or not set(sizes) <= set(SIZES):
        parser.error(f"--sizes must include large and name only {', '.join(SIZES)}")
    WORK.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}"
    )
    print(f"rounds: {args.rounds}, alternating, after one untimed run of each; times in seconds")
    try:
        runs = {size: run_size(size, args.rounds, with_syft=size == "large") for size in sizes}
    finally:
        if args.clean:
            shutil.rmtree(WORK, ignore_errors=True)
    large = runs["large"]
    ours = median_seconds(large["envsecops engine (processes)"])
    openssl = median_seconds(large["find | xargs -P2 openssl dgst"])
    syft = median_seconds(large["syft scan (sha256 digests)"])
    peaks = {
        size: mib(
            max(s.tree_peak_kib or s.max_rss_kib for s in run["envsecops engine (processes)"])
        )
        for size, run in runs.items()
    }
    print(f"\nengine throughput / openssl: {openssl / ours:.2f}x (target >= 0.90x)")
    print(f"syft time / engine time:     {syft / ours:.1f}x (target >= 6x)")
    shown = ", ".join(f"{size} {peak}" for size, peak in peaks.items())
    print(f"engine peak RSS (all processes; target <= 200 MiB, flat): {shown}")
    if "envsecops attest --signer key" in large:
        attest = median_seconds(large["envsecops attest --signer key"])
        print(f"attest end to end / openssl:  {openssl / attest:.2f}x")
        print(f"syft time / attest time:      {syft / attest:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
