"""Time what `envsecops verify` adds beyond the re-inventory, for a 10,000-component bag.

A synthetic bag shaped like a hosted runner's (binaries in PATH directories, Debian, PyPI and
npm packages, tool-cache trees, config files, env variables, downloaded actions) and a
2,000-rule policy written as `.github/envsecops.yml` text (a realistic mix: exact binaries plus
directory globs listing digests, a `pkg:deb/ubuntu/*` rule, exact PyPI rules with ranges or
version lists, package globs, deny rules and sbom gates with PEP 440 ranges, configs, env
exceptions, actions). The policy allows the bag except for a few planted defects, so every
section is exercised and a handful of reasons are built.

Parts, each the median of --rounds rounds, run in alternation in one process:

- load: `load_policy_text` of the policy text (YAML with positions, every section validated);
- parse: `Bag.from_json(json.loads(bag.json))` (the env hash recomputed and compared);
- attestation: `verify_attestation` of a key-signed DSSE attestation of that bag.json, given
  the bag already parsed (verify parses bag.json once and hands the result on);
- evaluate: `evaluate(policy, bag)`;
- decision: `build_decision` + its canonical JSON (RFC 8785) + sha256.

The parts run with the cyclic garbage collector disabled, as `envsecops verify` runs them
(it disables it: a short-lived process of acyclic objects); `--gc` measures with it on.

Baseline (the floor any verifier pays, same run): `json.loads` of bag.json plus sha256 of its
bytes. Target: total ≤ 200 ms.

Usage: .venv/bin/python bench/verify.py [--components 10000] [--rounds 15]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from envsecops.attest.binding import Binding
from envsecops.attest.key import KeySigner, KeyVerifier, generate_key
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
from envsecops.model.decision import Mode, Principal
from envsecops.policy.evaluate import evaluate
from envsecops.policy.load import load_policy_text
from envsecops.policy.model import Policy
from envsecops.verify.decision import DecisionFacts, build_decision

SOURCE = ".github/envsecops.yml"
SHA = "8f4b7f84864484a7bf31766abe9204da3cbe65b3"
PATH_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/pipx/bin", "/snap/bin")
GLOB_DIRS = tuple(f"/usr/lib/tools{n}/bin" for n in range(10))
RISKY = ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "PIP_INDEX_URL", "GOFLAGS", "JAVA_TOOL_OPTIONS")
MIX = {  # kind -> count, 10,000 in all
    "binary-exact": 1_000,
    "binary-glob": 4_000,
    "deb": 2_600,
    "pypi": 1_200,
    "npm": 700,
    "tool": 30,
    "config": 150,
    "env": 290,
    "action": 20,
    "other": 10,
}


def _digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def _make(kind: ComponentKind, name: str, source: str, **fields: Any) -> Component:
    fields.setdefault("digest", _digest(f"{kind}:{name}:{fields.get('path')}"))
    return Component(kind, name, source, **fields)


def _binary(path: str) -> Component:
    props = (("path-entry", path.rsplit("/", 1)[0]), ("realpath", path))
    name = path.rsplit("/", 1)[1]
    return _make(ComponentKind.BINARY, name, "path-binaries", path=path, properties=props)


def _package(kind: str, name: str, version: str, namespace: str = "") -> Component:
    where = f"{namespace}/" if namespace else ""
    quals = "?arch=amd64&distro=ubuntu-24.04" if kind == "deb" else ""
    purl = f"pkg:{kind}/{where}{name}@{version.replace(':', '%3A')}{quals}"
    path = f"/var/lib/{kind}/{name}"
    return _make(ComponentKind.PACKAGE, name, kind, version=version, path=path, purl=purl)


def _tool(i: int) -> Component:
    version = f"1.{i}.0"
    return _make(
        ComponentKind.TOOLCHAIN,
        f"tool{i}",
        "tool-cache",
        version=version,
        path=f"/opt/hostedtoolcache/tool{i}/{version}/x64",
        purl=f"pkg:generic/tool{i}@{version}?arch=x64",
        properties=(("arch", "x64"), ("complete", "true")),
    )


def _env(i: int) -> Component:
    if i < len(RISKY):
        props = (("risk", "x"), ("risky", "true"))
        return _make(ComponentKind.ENV, RISKY[i], "env", digest=_digest(RISKY[i]), properties=props)
    return _make(ComponentKind.ENV, f"VAR_{i}", "env")


def _action(repo: str, ref: str, findings: int = 0) -> Component:
    props = (("pin-findings", str(findings)), ("ref-is-sha", str(ref == SHA).lower()))
    return _make(
        ComponentKind.ACTION,
        repo,
        "actions",
        version=ref,
        path=f"/home/runner/work/_actions/{repo}/{ref}",
        purl=f"pkg:github/{repo}@{ref}",
        properties=props,
    )


def synthetic_bag(count: int) -> Bag:
    """A hosted-runner-like bag of ``count`` components in the proportions of `MIX`."""
    scale = count / sum(MIX.values())
    n = {kind: max(1, round(share * scale)) for kind, share in MIX.items()}
    items = [_binary(f"{PATH_DIRS[i % 5]}/tool-{i}") for i in range(n["binary-exact"])]
    items += [_binary(f"{GLOB_DIRS[i % 10]}/cmd-{i}") for i in range(n["binary-glob"])]
    items += [_package("deb", f"lib{i}", f"1:2.{i}.0-1ubuntu1", "ubuntu") for i in range(n["deb"])]
    items += [_package("pypi", f"py-{i}", f"1.{i % 50}.{i % 7}") for i in range(n["pypi"])]
    items += [_package("npm", f"js-{i}", f"{i % 20}.1.0", "%40scope") for i in range(n["npm"])]
    items += [_tool(i) for i in range(n["tool"])]
    for i in range(n["config"]):
        path = f"/etc/apt/sources.list.d/s{i}.list" if i < 20 else f"/etc/conf{i}.conf"
        items.append(_make(ComponentKind.CONFIG, path, "configs", path=path))
    items += [_env(i) for i in range(n["env"])]
    items += [_action(f"org{i}/act{i}", SHA) for i in range(n["action"])]
    # the planted defects: an unlisted binary, a version outside its rules, a forbidden
    # variable, an unlisted action at a tag with pin findings of its own
    items += [_binary("/usr/bin/planted"), _package("pypi", "py-0", "0.0.1")]
    items += [_make(ComponentKind.ENV, "LD_PRELOAD", "env"), _action("evil/thing", "v1", 2)]
    items += [_binary(f"/usr/bin/extra-{i}") for i in range(n["other"] - 4)]
    facts = {"arch": "x86_64", "image_os": "ubuntu24", "os": "ubuntu", "os_version": "24.04"}
    runner = RunnerFacts(tuple(sorted({**facts, "runner_environment": "github-hosted"}.items())))
    return Bag.build(runner, items, created_at=utc_now(), tool="bench")


def _q(text: str) -> str:
    return json.dumps(text)


def policy_text(bag: Bag) -> str:
    """A 2,000-rule policy allowing ``bag`` (but for the planted defects), as YAML text."""
    of = {kind: [c for c in bag.components if c.kind is kind] for kind in ComponentKind}
    out = [
        'version: "1"',
        "name: bench",
        "runner:",
        "  environments: [github-hosted]",
        "  os: [{id: ubuntu, versions: ['24.*']}]",
        "  arch: [x86_64]",
        "binaries:",
    ]
    exact = [c for c in of[ComponentKind.BINARY] if c.path and not c.path.startswith("/usr/lib/")]
    out += [f"  {_q(c.path or '')}: [{c.digest}]" for c in exact if "planted" not in c.name]
    for folder in GLOB_DIRS:
        digests = [c.digest for c in of[ComponentKind.BINARY] if (c.path or "").startswith(folder)]
        out += [f"  {_q(folder + '/*')}:", *(f"    - {d}" for d in digests)]
    out.append("tool-cache:")
    for c in of[ComponentKind.TOOLCHAIN]:
        out += [f"  {c.name}:", f"    {_q(c.version or '')}: [{c.digest}]"]
    out += ["packages:", "  allow:", "    - purl: pkg:deb/ubuntu/*"]
    pypi = [c for c in of[ComponentKind.PACKAGE] if (c.purl or "").startswith("pkg:pypi/")]
    for i, c in enumerate(pypi[:600]):
        versions = _q(">=1.0,<2") if i % 2 else f"[{_q(c.version or '')}]"
        out.append(f"    - {{purl: {_q('pkg:pypi/' + c.name)}, versions: {versions}}}")
    out += [f"    - {{purl: {_q(f'pkg:pypi/py-{d}*')}, versions: {_q('>=1')}}}" for d in range(10)]
    npm = [c for c in of[ComponentKind.PACKAGE] if (c.purl or "").startswith("pkg:npm/")]
    out += [f"    - {{purl: {_q('pkg:npm/%40scope/' + c.name)}}}" for c in npm[:100]]
    out.append(f"    - {{purl: {_q('pkg:npm/%40scope/js-*')}, versions: {_q('>=0')}}}")
    out.append("  deny:")
    for i in range(50):
        target = f"pkg:pypi/py-{i * 7}" if i % 2 else f"pkg:deb/ubuntu/gone{i}"
        versions = _q("<0.1") if i % 2 else f"[{_q('1:0.1-1')}]"
        out.append(f"    - {{purl: {_q(target)}, versions: {versions}, reason: CVE-2025-{i}}}")
    apt = "/etc/apt/sources.list.d/"
    configs = of[ComponentKind.CONFIG]
    out += ["configs:", f"  {_q(apt + '*')}:"]
    out += [f"    - {c.digest}" for c in configs if c.name.startswith(apt)]
    out += [f"  {_q(c.name)}: {c.digest}" for c in configs if not c.name.startswith(apt)]
    out += ["env:", "  forbidden: [default, MY_DEBUG_*]", "  allowed:"]
    out += [f"    {name}: [{_digest(name)}]" for name in RISKY]  # the values the bag has
    out += [f"    MY_DEBUG_{i}: any" for i in range(5)]
    out += ["actions:"]
    out += [f"  {c.name}: [{c.version}]" for c in of[ComponentKind.ACTION] if c.version == SHA]
    out += ["sbom:", "  deny:"]
    for i in range(50):
        target = f"pkg:pypi/py-{i * 11}" if i % 2 else f"pkg:github/bad{i}/*"
        versions = _q("==0.0.1") if i % 2 else f"[{_q('v1')}]"
        out.append(f"    - {{purl: {_q(target)}, versions: {versions}, reason: compromised}}")
    return "\n".join(out) + "\n"


def _median(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    """Build the inputs, check them once, then time every part in alternation."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--gc", action="store_true", help="keep the garbage collector on")
    args = parser.parse_args(argv)
    bag = synthetic_bag(args.components)
    bag_json = canonical_json(bag.to_json())
    text = policy_text(bag)
    binding = Binding.collect(None, {}, nonce=new_nonce(), created_at=utc_now())
    with tempfile.TemporaryDirectory() as tmp:
        made = generate_key(Path(tmp) / "k.pem")
        signer = KeySigner.from_file(made.private_path)
        verifier = KeyVerifier.from_files([made.public_path])
    envelope = signer.sign(
        PAYLOAD_TYPE, statement_bytes(build_statement(bag, bag_json, binding))
    ).content
    policy: Policy = load_policy_text(text, SOURCE)
    parsed = Bag.from_json(json.loads(bag_json))
    reasons = evaluate(policy, bag)
    facts = DecisionFacts(
        mode=Mode.ENFORCE,
        env_hash=bag.env_hash,
        policy_id=policy.policy_id,
        policy_source="local",
        attestation_digest="sha256:" + "0" * 64,
        principal=Principal((), "environment"),
        job="local",
        max_age=policy.max_attestation_age,
    )
    now = datetime.now(UTC)

    def decision() -> object:
        data = canonical_json(build_decision(reasons, facts, now=now).to_json())
        return hashlib.sha256(data).digest()

    steps: dict[str, Callable[[], object]] = {
        "baseline: json.loads + sha256": lambda: (
            json.loads(bag_json),
            hashlib.sha256(bag_json).digest(),
        ),
        "load_policy_text": lambda: load_policy_text(text, SOURCE),
        "Bag.from_json(json.loads)": lambda: Bag.from_json(json.loads(bag_json)),
        "verify_attestation (key, DSSE)": lambda: verify_attestation(
            envelope, bag_json, verifier, parsed=parsed
        ),
        "evaluate": lambda: evaluate(policy, bag),
        "build decision + canonical JSON": decision,
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    if not args.gc:
        gc.disable()
    for step in steps.values():  # one untimed warm-up of each
        step()
    for _ in range(args.rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    base = _median(times["baseline: json.loads + sha256"])
    parts = [name for name in steps if not name.startswith("baseline")]
    total = sum(_median(times[name]) for name in parts)
    fastest = sum(min(times[name]) * 1000 for name in parts)
    out = sys.stdout
    out.write(
        f"{len(bag.components):,} components, bag.json {len(bag_json) / 1e6:.1f} MB; policy "
        f"{policy.rule_count():,} rules, {len(text.splitlines()):,} lines; {len(reasons)} "
        f"reasons ({', '.join(sorted({r.code for r in reasons}))}); {args.rounds} rounds\n"
        f"{'part':<34} {'median':>8}     {'vs floor':>8}  {'min':>8}\n"
    )
    for name in steps:
        median, least = _median(times[name]), min(times[name]) * 1000
        out.write(f"{name:<34} {median:8.1f} ms  {median / base:6.2f}x  {least:8.1f} ms\n")
    out.write(f"{'total (the parts above)':<34} {total:8.1f} ms  {total / base:6.2f}x  ")
    out.write(f"{fastest:8.1f} ms\ntarget ≤ 200 ms (median total): ")
    out.write("met\n" if total <= 200 else "NOT met\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
