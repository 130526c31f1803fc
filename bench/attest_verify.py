"""Time building, signing and verifying a bag attestation against the floor of reading bag.json.

The floor (baseline) is what any verifier of a bag must do at least: parse bag.json with the
standard library and hash its bytes. Against it, in the same run and process, in
alternation, median of --rounds rounds:

- build: `build_statement` (which re-canonicalises the bag to check the bytes) + sign (key);
- verify: `verify_attestation` with a key (DSSE, statement, subject, strict bag parse,
  summary recomputed and compared);
- the summary alone, and the canonical JSON (RFC 8785) of the bag alone, to show where
  the time goes.

Usage: .venv/bin/python bench/attest_verify.py [--components 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from envsecops.attest.binding import Binding
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key
from envsecops.attest.predicate import BagSummary
from envsecops.attest.statement import (
    PAYLOAD_TYPE,
    build_statement,
    new_nonce,
    statement_bytes,
    utc_now,
)
from envsecops.attest.verify import verify_attestation
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts

KINDS = (ComponentKind.BINARY, ComponentKind.PACKAGE, ComponentKind.CONFIG, ComponentKind.ENV)


def synthetic_bag(count: int) -> Bag:
    """A bag shaped like a hosted runner's: paths, digests, versions, a few properties."""
    components = []
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        digest = "sha256:" + hashlib.sha256(str(index).encode()).hexdigest()
        components.append(
            Component(
                kind,
                f"item-{index}",
                kind.value,
                version=f"1.{index % 97}.{index % 13}" if kind is ComponentKind.PACKAGE else None,
                path=f"/usr/lib/x86_64-linux-gnu/dir{index % 500}/item-{index}",
                digest=digest,
                properties=(("size", str(index * 7)),),
            )
        )
    runner = RunnerFacts((("os", "ubuntu"), ("arch", "x86_64")), (("os", "file"),))
    return Bag.build(runner, components, created_at=utc_now(), tool="bench")


def _median(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of medians and ratios to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    bag = synthetic_bag(args.components)
    bag_json = canonical_json(bag.to_json())
    binding = Binding.collect(None, {}, nonce=new_nonce(), created_at=utc_now())
    with tempfile.TemporaryDirectory() as tmp:
        made = generate_key(Path(tmp) / "k.pem")
        signer = KeySigner.from_file(made.private_path)
        verifier = KeyVerifier.from_files([made.public_path])
    content = signer.sign(PAYLOAD_TYPE, statement_bytes(build_statement(bag, bag_json, binding)))

    steps: dict[str, Callable[[], object]] = {
        "baseline: json.loads + sha256": lambda: (
            json.loads(bag_json),
            hashlib.sha256(bag_json).digest(),
        ),
        "build statement + sign": lambda: signer.sign(
            PAYLOAD_TYPE, statement_bytes(build_statement(bag, bag_json, binding))
        ),
        "verify_attestation": lambda: verify_attestation(content.content, bag_json, verifier),
        "  of which: env_hash (in the summary)": lambda: BagSummary.of(bag),
        "  of which: canonical JSON of the bag": lambda: canonical_json(bag.to_json()),
    }
    medians = {name: [] for name in steps}  # type: dict[str, list[float]]
    for _ in range(args.rounds):  # alternate: one round of every step, then again
        for name, fn in steps.items():
            medians[name].append(_median(fn, 1))
    base = statistics.median(medians["baseline: json.loads + sha256"])
    out = sys.stdout
    out.write(
        f"{args.components:,} components, bag.json {len(bag_json) / 1e6:.1f} MB, "
        f"median of {args.rounds} rounds\n"
    )
    for name, times in medians.items():
        median = statistics.median(times)
        out.write(f"{name:<40} {median * 1000:9.1f} ms  {median / base:6.2f}x baseline\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
