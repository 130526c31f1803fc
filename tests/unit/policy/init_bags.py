"""Bags for the `policy init` and `policy propose` tests: every component kind, and YAML traps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status
from tests.unit.policy.evaluate_support import FACTS, SHA, digest

OTHER_SHA = "0123456789abcdef0123456789abcdef01234567"
ORIGINS = {"runner_environment": "oidc", "os": "file", "os_version": "file", "arch": "platform"}
BLOCKED_CODES = frozenset(
    {
        "action.pin-findings",
        "action.unlisted",
        "action.unpinned",
        "binary.path-entry",
        "cataloger.failed",
        "component.problem",
        "package.unlisted",
        "runner.mismatch",
    }
)
"""The codes no policy entry can clear in a bag of `blocked_components()` and an action with
pin findings (as in `allowable_components()`)."""


def c(kind: str, name: str, source: str, **fields: Any) -> Component:
    """A component from keyword fields (``properties`` as a dict)."""
    props = tuple(sorted(fields.pop("properties", {}).items()))
    return Component(ComponentKind(kind), name, source, properties=props, **fields)


def binary(path: str, seed: str | None = None, **props: str) -> Component:
    """An executable on PATH."""
    entry, name = path.rsplit("/", 1)
    properties = {"path-entry": entry, "realpath": path, **props}
    return c("binary", name, "path-binaries", path=path, digest=digest(seed or path),
             properties=properties)  # fmt: skip


def path_entry(path: str, positions: str, state: str = "ok", **props: str) -> Component:
    """A PATH directory record."""
    properties = {"path-entry-state": state, "positions": positions, **props}
    return c("binary", "path-entry", "path-binaries", path=path, properties=properties)


def action(repo: str, ref: str, findings: int = 0) -> Component:
    """A downloaded action."""
    props = {"complete": "true", "ref-is-sha": "true" if len(ref) == 40 else "false"}
    props["pin-findings"] = str(findings)
    if findings:
        props["unpinned-uses"] = "actions/cache@v4"
    return c("action", repo, "actions", version=ref, digest=digest(repo + ref),
             path=f"/home/runner/work/_actions/{repo}/{ref}",
             purl=f"pkg:github/{repo}@{ref}", properties=props)  # fmt: skip


def env(name: str, content: str | None = None, **props: str) -> Component:
    """An environment variable (risky ones carry the attest properties)."""
    return c("env", name, "env", digest=digest(content) if content is not None else None,
             properties=props)  # fmt: skip


def package(purl: str, version: str | None, source: str = "os-packages") -> Component:
    """A package component."""
    name = purl.rsplit("/", 1)[1].split("@", maxsplit=1)[0].split("?", maxsplit=1)[0]
    return c("package", name, source, version=version, purl=purl, digest=digest(purl))


def allowable_components() -> list[Component]:
    """Components a policy can allow: one or more of every kind, with YAML traps in them."""
    return [
        path_entry("/usr/local/bin", "0"),
        path_entry("/usr/bin", "1"),
        path_entry("/bin", "2", **{"same-directory-as": "/usr/bin"}),
        binary("/usr/local/bin/git", "git-local"),
        binary("/usr/bin/git", "git", **{"shadowed-by": "/usr/local/bin/git"}),
        binary("/usr/bin/[", "bracket"),
        binary("/usr/bin/a*b?c", "globby"),
        binary("/usr/bin/yes", "yes"),
        binary("/usr/bin/sudo", "sudo", setuid="true", aliases="/bin/sudo"),
        c("toolchain", "Python", "tool-cache", version="3.10", digest=digest("py310-x64"),
          path="/opt/hostedtoolcache/Python/3.10/x64", properties={"arch": "x64"}),
        c("toolchain", "Python", "tool-cache", version="3.10", digest=digest("py310-arm"),
          path="/opt/hostedtoolcache/Python/3.10/arm64", properties={"arch": "arm64"}),
        c("toolchain", "on", "tool-cache", version="1.0", digest=digest("on"),
          path="/opt/hostedtoolcache/on/1.0/x64", properties={"arch": "x64"}),
        c("toolchain", "node", "tool-cache", digest=digest("stray"),
          path="/opt/hostedtoolcache/node/stray", properties={"layout": "unexpected"}),
        package("pkg:deb/ubuntu/git@1:2.43.0-1ubuntu7?arch=amd64&distro=ubuntu-24.04",
                "1:2.43.0-1ubuntu7"),
        package("pkg:deb/ubuntu/no@3.10?arch=amd64", "3.10"),
        package("pkg:pypi/pyyaml@6.0.1", "6.0.1", "python-packages"),
        package("pkg:pypi/cryptography@41.0.7", "41.0.7", "python-packages"),
        package("pkg:pypi/cryptography@43.0.0", "43.0.0", "python-packages"),
        package("pkg:npm/%40actions/core@1.10.1", "1.10.1", "node-packages"),
        package("pkg:npm/left-pad", None, "node-packages"),
        c("config", "/etc/apt/sources.list", "configs", path="/etc/apt/sources.list",
          digest=digest("sources")),
        c("config", "~/.npmrc", "configs", path="/home/runner/.npmrc", status=Status.DIGEST_ONLY,
          properties={"withheld": "may hold credentials"}),
        c("config", "~/.gitconfig", "configs", path="/home/runner/.gitconfig",
          digest=digest("gitconfig")),
        env("NODE_EXTRA_CA_CERTS", "/etc/ssl/ca.pem", risky="true", risk="tls-trust"),
        env("ld_preload", "/lib/x.so", risky="true", risk="loader"),
        env("NPM_CONFIG__AUTH", None, risky="true", risk="package-source", secret="true",
            value="redacted"),
        env("PYTHONPATH", None, risky="true", risk="interpreter-startup",
            **{"hmac-sha256": "ab" * 32}),
        env("HOME", "/home/runner"),
        action("actions/checkout", SHA),
        action("some-org/composite", OTHER_SHA, findings=2),
        c("runner", "os-release", "runner", path="/etc/os-release", digest=digest("osr"),
          version="24.04", properties={"id": "ubuntu"}),
    ]  # fmt: skip


def blocked_components() -> list[Component]:
    """Components no policy can allow."""
    return [
        path_entry("", "3", "relative", detail="the current directory: not listed"),
        action("actions/setup-node", "v4"),
        c("action", "_actions-entry", "actions", path="/home/runner/work/_actions/stray",
          properties={"detail": "unexpected entry"}),
        c("binary", "broken", "path-binaries", path="/usr/bin/broken", status=Status.UNREADABLE,
          properties={"detail": "permission denied", "path-entry": "/usr/bin"}),
        c("runner", "env-claim-mismatch:GITHUB_REPOSITORY", "runner",
          properties={"variable": "GITHUB_REPOSITORY", "mismatch": "true"}),
        c("runner", "cataloger-failed:syft", "inventory", status=Status.UNREADABLE,
          properties={"error": "boom\nsecond line", "partial_components": "0"}),
        c("package", "mystery", "syft", version="1.0"),
    ]  # fmt: skip


def make_bag(components: list[Component], facts: dict[str, str] | None = None) -> Bag:
    """A bag from components and runner facts."""
    facts = FACTS if facts is None else facts
    runner = RunnerFacts(
        tuple(sorted(facts.items())),
        tuple(sorted((k, v) for k, v in ORIGINS.items() if k in facts)),
    )
    return Bag.build(runner, components, created_at="2026-11-22T20:54:06Z", tool="envsecops 0.1.0")


def write_bag(bag: Bag, path: Path) -> Path:
    """Write bag.json (as attest does) and return its path."""
    path.write_text(json.dumps(bag.to_json(), indent=2, sort_keys=True), encoding="utf-8")
    return path
