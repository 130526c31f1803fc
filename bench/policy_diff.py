"""Benchmark `policy diff` (replay): many recorded bags judged by an old and a new policy.

Writes ``--bags`` bag.json files of ``--components`` components each (binaries, OS and
Python packages, configs, env, tool-cache, actions; every 10th bag has one rebuilt binary)
into a temporary folder, and two policies that differ by one binary digest, then times:

- the floor: reading every file and ``json.loads`` of it;
- parsing: :func:`envsecops.policy.outcome.read_bag` (strict JSON, component records, the
  env hash recomputed and checked) of every bag;
- evaluating: :func:`envsecops.policy.outcome.policy_reasons` under both policies, bags
  already parsed;
- the whole :func:`envsecops.policy.replay.replay`, as `policy diff` runs it.

    python bench/policy_diff.py [--bags 200] [--components 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from envsecops.canonical import canonical_json, digest_bytes
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts
from envsecops.policy.load import load_policy_text
from envsecops.policy.outcome import policy_reasons, read_bag
from envsecops.policy.replay import find_bags, replay

FACTS = {
    "arch": "x86_64",
    "os": "ubuntu",
    "os_version": "24.04",
    "runner_environment": "github-hosted",
}


def _d(label: str) -> str:
    return digest_bytes(label.encode())


def components(count: int, variant: int) -> list[Component]:
    """``count`` components shaped like a hosted runner's; ``variant`` rebuilds one binary."""
    out: list[Component] = []
    binaries, packages = count // 4, count // 2
    for i in range(binaries):
        label = f"bin{i}" + ("-rebuilt" if i == 0 and variant % 10 == 9 else "")
        out.append(
            Component(
                ComponentKind.BINARY, f"tool{i}", "path", path=f"/usr/bin/tool{i}", digest=_d(label)
            )
        )
    for i in range(packages):
        kind, name = ("deb", f"lib{i}") if i % 3 else ("pypi", f"py{i}")
        ns = "ubuntu/" if kind == "deb" else ""
        out.append(
            Component(
                ComponentKind.PACKAGE,
                name,
                "packages",
                version=f"1.{i % 40}.0",
                purl=f"pkg:{kind}/{ns}{name}@1.{i % 40}.0",
                digest=_d(f"pkg{i}"),
            )
        )
    rest = count - binaries - packages
    for i in range(rest):
        if i % 4 == 0:
            out.append(
                Component(
                    ComponentKind.CONFIG,
                    f"/etc/c{i}",
                    "configs",
                    path=f"/etc/c{i}",
                    digest=_d(f"c{i}"),
                )
            )
        elif i % 4 == 1:
            out.append(Component(ComponentKind.ENV, f"VAR_{i}", "env", digest=_d(f"v{i}")))
        elif i % 4 == 2:
            out.append(
                Component(
                    ComponentKind.TOOLCHAIN,
                    f"Tool{i}",
                    "tool-cache",
                    version="1.0.0",
                    path=f"/opt/t/{i}",
                    digest=_d(f"t{i}"),
                )
            )
        else:
            out.append(
                Component(
                    ComponentKind.ACTION,
                    f"org/action{i}",
                    "actions",
                    version="a" * 40,
                    digest=_d(f"a{i}"),
                    properties=(("pin-findings", "0"), ("ref-is-sha", "true")),
                )
            )
    return out


def policy_text(count: int, *, allow_rebuilt: bool) -> str:
    """A policy listing everything in the bags (and the rebuilt binary's digest when asked)."""
    binaries, packages = count // 4, count // 2
    lines = ["name: bench", "binaries:"]
    for i in range(binaries):
        digests = [_d(f"bin{i}")] + ([_d(f"bin{i}-rebuilt")] if i == 0 and allow_rebuilt else [])
        lines.append(f"  /usr/bin/tool{i}: [{', '.join(digests)}]")
    lines += ["packages:", "  allow:", "    - purl: pkg:deb/ubuntu/*", "    - purl: pkg:pypi/*"]
    rest = count - binaries - packages
    lines.append("configs:")
    lines += [f"  /etc/c{i}: {_d(f'c{i}')}" for i in range(rest) if i % 4 == 0]
    lines.append("tool-cache:")
    for i in range(rest):
        if i % 4 == 2:
            lines += [f"  Tool{i}:", f"    1.0.0: [{_d(f't{i}')}]"]
    lines += ["actions:", "  org/*: any-sha"]
    return "\n".join(lines) + "\n"


def _time(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median (CPU seconds of this process, wall seconds) over ``rounds`` runs."""
    cpu, wall = [], []
    for _ in range(rounds):
        gc.collect()
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        action()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return statistics.median(cpu), statistics.median(wall)


def _line(label: str, figures: tuple[float, float], extra: str = "") -> str:
    return f"  {label:<30} {figures[0]:7.2f} s CPU {figures[1]:7.2f} s wall{extra}"


def main() -> None:
    """Write the bags, time each stage, print medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bags", type=int, default=200)
    parser.add_argument("--components", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    old = load_policy_text(policy_text(args.components, allow_rebuilt=True), "old.yml")
    new = load_policy_text(policy_text(args.components, allow_rebuilt=False), "new.yml")
    runner = RunnerFacts(facts=tuple(sorted(FACTS.items())))
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        size = 0
        for n in range(args.bags):
            bag = Bag.build(runner, components(args.components, n))
            data = canonical_json(bag.to_json())
            size += len(data)
            (root / f"run-{n:04d}").mkdir()
            (root / f"run-{n:04d}" / "bag.json").write_bytes(data)
        files = find_bags(root)
        warm = replay(old, new, root)
        assert len(warm.flips) == args.bags // 10, warm.summary()
        whole = _time(lambda: replay(old, new, root), args.rounds)
        floor = _time(lambda: [json.loads(f.read_bytes()) for f in files], args.rounds)
        parse = _time(lambda: [read_bag(f, str(f)) for f in files], args.rounds)
        bags = [read_bag(f, str(f)) for f in files]
        judge = _time(
            lambda: [(policy_reasons(old, b), policy_reasons(new, b)) for b in bags], args.rounds
        )
    print(
        f"{args.bags} bags x {args.components} components ({size / 1e6:.1f} MB), "
        f"policies of {old.rule_count()} rules; median of {args.rounds} rounds"
    )
    print(_line("floor (read + json.loads)", floor))
    print(_line("parse (read_bag)", parse, f"  ({parse[0] / floor[0]:.1f}x the floor, CPU)"))
    print(_line("evaluate under both policies", judge))
    print(_line("replay, end to end", whole, f"  ({whole[0] / args.bags * 1000:.1f} ms CPU/bag)"))
    print(f"  {warm.summary()}")


if __name__ == "__main__":
    main()
