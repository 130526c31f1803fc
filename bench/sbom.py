"""SBOM build and validation time against the library's plain use, on bags of growing size.

For each size, a synthetic runner-like bag (binaries with digests, packages with purls,
configs, environment variables) is turned into CycloneDX 1.6 JSON two ways, in alternation,
``--rounds`` times:

- **plain**: cyclonedx-python-lib as documented: ``Bom.register_dependency`` for the root,
  ``JsonV1Dot6.output_as_string``, then ``JsonStrictValidator.validate_str`` on the whole
  document (both scale quadratically with the number of components);
- **envsecops**: :func:`envsecops.bag.sbom.build_sbom` (pre-sorted components, indexed
  dependencies, duplicate check plus sliced strict validation).

Both must produce the same bytes and both must validate. Reported: median seconds, the
ratio envsecops/plain (lower is better), and the cost relative to the floor measured in the
same run: writing ``bag.json`` (canonical JSON of the bag).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from envsecops.bag import sbom
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts


def synthetic_bag(count: int) -> Bag:
    """A bag of ``count`` components in a runner's proportions."""
    facts = RunnerFacts((("arch", "x86_64"), ("os", "ubuntu"), ("os_version", "24.04")))
    parts: list[Component] = []
    for i in range(count):
        hexdigest = f"sha256:{i:064x}"
        kind = i % 10
        if kind < 4:
            parts.append(
                Component(
                    ComponentKind.BINARY, f"tool{i}", "path-binaries",
                    path=f"/usr/bin/tool{i}", digest=hexdigest,
                )
            )  # fmt: skip
        elif kind < 8:
            parts.append(
                Component(
                    ComponentKind.PACKAGE, f"pkg{i}", "os-packages", version=f"1.{i}",
                    purl=f"pkg:deb/ubuntu/pkg{i}@1.{i}?arch=amd64", digest=hexdigest,
                    properties=(("manager", "dpkg"),),
                )
            )  # fmt: skip
        elif kind == 8:
            parts.append(
                Component(
                    ComponentKind.CONFIG, f"/etc/conf{i}", "configs",
                    path=f"/etc/conf{i}", digest=hexdigest,
                )
            )  # fmt: skip
        else:
            parts.append(Component(ComponentKind.ENV, f"VAR_{i}", "env", digest=hexdigest))
    return Bag.build(facts, parts, created_at="2026-01-01T00:00:00Z", tool="envsecops bench")


def plain(bag: Bag) -> str:
    """The library used as documented, same model objects as envsecops builds."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    bom = Bom(serial_number=sbom.serial_number(bag))
    bom.metadata.timestamp = sbom._timestamp(bag.created_at)  # the same inputs as ours
    bom.metadata.tools.components.add(sbom._tool())
    root = sbom._root(bag)
    bom.metadata.component = root
    refs: set[str] = set()
    parts = [sbom._component(c, refs) for c in bag.components]
    bom.components.update(parts)
    bom.register_dependency(root, parts)
    text = JsonV1Dot6(bom).output_as_string(indent=None)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if errors is not None:
        raise SystemExit(f"plain SBOM does not validate: {errors}")
    return text


def ours(bag: Bag) -> str:
    """envsecops's build and validation."""
    result = sbom.build_sbom(bag)
    if not result.validated:
        raise SystemExit("jsonschema is not installed: run with the dev venv")
    return result.text


def floor(bag: Bag) -> str:
    """Writing bag.json: the canonical JSON of the bag."""
    return canonical_json(bag.to_json()).decode("utf-8")


def timed(fn: Callable[[Bag], str], bag: Bag) -> tuple[float, str]:
    start = time.perf_counter()
    text = fn(bag)
    return time.perf_counter() - start, text


def main() -> None:
    """Run the comparison and print one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'components':>10} {'plain s':>9} {'envsecops s':>12} {'ratio':>7} {'bag.json s':>11}")
    for size in args.sizes:
        bag = synthetic_bag(size)
        times: dict[str, list[float]] = {"plain": [], "ours": [], "floor": []}
        for index in range(args.rounds):
            order = [("plain", plain), ("ours", ours)]
            if index % 2:
                order.reverse()
            texts = {}
            for name, fn in [*order, ("floor", floor)]:
                seconds, texts[name] = timed(fn, bag)
                times[name].append(seconds)
            if texts["plain"] != texts["ours"]:
                raise SystemExit(f"{size}: the two SBOMs differ")
        med = {name: statistics.median(values) for name, values in times.items()}
        print(
            f"{size:>10} {med['plain']:>9.2f} {med['ours']:>12.2f} "
            f"{med['ours'] / med['plain']:>6.2f}x {med['floor']:>11.3f}"
            f"   (envsecops = {med['ours'] / med['floor']:.0f}x bag.json)"
        )


if __name__ == "__main__":
    main()
