"""Builders for the evaluator tests: components shaped like attest's, bags, and policies."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status
from envsecops.model.decision import Reason
from envsecops.policy.model import (
    ActionRule,
    DigestRule,
    EnvAllow,
    EnvPolicy,
    PackageRule,
    PackagesPolicy,
    Policy,
    RunnerPolicy,
    ToolRule,
)

SOURCE = ".github/envsecops.yml"
SHA = "3d3c42e5c0da8e96a2c9d2a1d2a9f1e4b0c4d5e6"
OTHER_SHA = "1111111111111111111111111111111111111111"
FACTS = {
    "arch": "x86_64",
    "image_os": "ubuntu24",
    "image_version": "20251110.1.0",
    "os": "ubuntu",
    "os_version": "24.04",
    "runner_environment": "github-hosted",
}


def digest(seed: str) -> str:
    """A stable `sha256:<hex>` for a seed."""
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def binary(path: str, seed: str | None = None, **kw: Any) -> Component:
    """A path-binaries component at a PATH location."""
    name = path.rsplit("/", 1)[1]
    props = (("path-entry", path.rsplit("/", 1)[0]), ("realpath", path))
    values: dict[str, Any] = {"digest": digest(seed or path), "properties": props}
    values.update(kw)
    return Component(ComponentKind.BINARY, name, "path-binaries", path=path, **values)


def path_entry(path: str, state: str = "ok", status: Status = Status.OK) -> Component:
    """A PATH directory record."""
    props = (("path-entry-state", state), ("positions", "0"))
    return Component(
        ComponentKind.BINARY, "path-entry", "path-binaries", path=path, status=status,
        properties=props,
    )  # fmt: skip


def tool(name: str, version: str, seed: str = "tree", arch: str = "x64") -> Component:
    """A tool-cache tree."""
    return Component(
        ComponentKind.TOOLCHAIN,
        name,
        "tool-cache",
        version=version,
        path=f"/opt/hostedtoolcache/{name}/{version}/{arch}",
        digest=digest(seed),
        purl=f"pkg:generic/{name}@{version}?arch={arch}",
        properties=(("arch", arch), ("complete", "true")),
    )


def package(purl: str, version: str, name: str = "", source: str = "os-packages") -> Component:
    """A package with its purl (version and qualifiers included, as the catalogers write)."""
    return Component(
        ComponentKind.PACKAGE,
        name or purl.rsplit("/", 1)[1].split("@", maxsplit=1)[0],
        source,
        version=version,
        path="/var/lib/dpkg/status",
        digest=digest(purl),
        purl=purl,
    )


def config(name: str, seed: str | None = None, *, withheld: bool = False) -> Component:
    """A config file; ``withheld`` is a digest-only credential file."""
    path = name.replace("~/", "/home/runner/")
    if withheld:
        return Component(
            ComponentKind.CONFIG, name, "configs", path=path, status=Status.DIGEST_ONLY,
            properties=(("mode", "600"),),
        )  # fmt: skip
    return Component(ComponentKind.CONFIG, name, "configs", path=path, digest=digest(seed or name))


def env(name: str, seed: str | None = None, **props: str) -> Component:
    """An env variable; ``secret="true"`` records it by presence only."""
    value = None if props.get("secret") else digest(seed or name)
    return Component(
        ComponentKind.ENV, name, "env", digest=value, properties=tuple(sorted(props.items()))
    )


def action(repo: str, ref: str, findings: int = 0, seed: str = "action") -> Component:
    """A downloaded action as the actions cataloger records it."""
    is_sha = len(ref) == 40 and all(c in "0123456789abcdef" for c in ref)
    props = [
        ("complete", "true"),
        ("ref-is-sha", "true" if is_sha else "false"),
        ("pin-findings", str(findings)),
    ]
    if findings:
        props.append(("pin-finding-list", f"action.yml:3 unpinned-uses x/y@v1 ({findings})"))
    return Component(
        ComponentKind.ACTION,
        repo,
        "actions",
        version=ref,
        path=f"/home/runner/work/_actions/{repo}/{ref}",
        digest=digest(seed),
        purl=f"pkg:github/{repo.lower()}@{ref}",
        properties=tuple(sorted(props)),
    )


def runner_record(name: str, status: Status = Status.OK, **props: str) -> Component:
    """A runner-kind component (os-release, mismatch, cataloger failure…)."""
    return Component(
        ComponentKind.RUNNER, name, "runner", status=status, properties=tuple(sorted(props.items()))
    )


def make_bag(*components: Component, facts: dict[str, str] | None = None) -> Bag:
    """A bag with the given components and runner facts (hosted Ubuntu by default)."""
    chosen = FACTS if facts is None else facts
    return Bag.build(RunnerFacts(tuple(sorted(chosen.items()))), components)


def hosted_bag(*extra: Component) -> Bag:
    """A small but complete GitHub-hosted bag: one of every kind, plus ``extra``."""
    return make_bag(
        runner_record("os-release", id="ubuntu"),
        path_entry("/usr/bin"),
        binary("/usr/bin/git"),
        binary("/usr/bin/bash"),
        tool("Python", "3.12.7"),
        package("pkg:deb/ubuntu/git@1%3A2.39.2-1.1?arch=amd64&distro=ubuntu-24.04", "1:2.39.2-1.1"),
        package("pkg:pypi/requests@2.31.0", "2.31.0", "requests", "python-packages"),
        package("pkg:npm/%40angular/core@17.0.0", "17.0.0", "@angular/core", "node-packages"),
        config("/etc/apt/sources.list"),
        config("~/.npmrc", withheld=True),
        env("PATH"),
        env("NODE_EXTRA_CA_CERTS", risky="true", risk="tls-trust"),
        env("GITHUB_TOKEN", secret="true", value="redacted"),
        action("actions/checkout", SHA),
        *extra,
    )


def make_policy(**fields: Any) -> Policy:
    """A policy from sections; any runner environment the tests use is allowed by default."""
    fields.setdefault("runner", RunnerPolicy(environments=("github-hosted",), line=3))
    return Policy(name="test", policy_id="test@sha256:000000000000", source=SOURCE, **fields)


def allowing(bag: Bag, **overrides: Any) -> Policy:
    """A policy that allows exactly ``bag`` (each rule on its own made-up line)."""
    lines = iter(range(10, 100_000))
    binaries = [
        DigestRule(c.path or c.name, (c.digest or "",), next(lines))
        for c in bag.components
        if c.kind is ComponentKind.BINARY and c.name != "path-entry"
    ]
    tools = [
        ToolRule(c.name, c.version or "*", (c.digest or "",), next(lines))
        for c in bag.components
        if c.kind is ComponentKind.TOOLCHAIN
    ]
    packages = [
        PackageRule(c.purl.split("@")[0] if c.purl else "", (c.version or "",), line=next(lines))
        for c in bag.components
        if c.kind is ComponentKind.PACKAGE
    ]
    configs = [
        DigestRule(
            c.name,
            () if c.digest is None else (c.digest,),
            next(lines),
            withheld=c.status is Status.DIGEST_ONLY,
        )
        for c in bag.components
        if c.kind is ComponentKind.CONFIG
    ]
    allowed = [
        EnvAllow(c.name, None if c.digest is None else (c.digest,), next(lines))
        for c in bag.components
        if c.kind is ComponentKind.ENV and c.prop("risky") == "true"
    ]
    actions = [
        ActionRule(c.name, (c.version or "",), line=next(lines))
        for c in bag.components
        if c.kind is ComponentKind.ACTION
    ]
    environment = bag.runner.get("runner_environment") or "unknown"
    fields: dict[str, Any] = {
        "runner": RunnerPolicy(environments=(environment,), line=3),
        "binaries": tuple(binaries),
        "tool_cache": tuple(tools),
        "packages": PackagesPolicy(allow=tuple(packages)),
        "configs": tuple(configs),
        "env": EnvPolicy(allowed=tuple(allowed)),
        "actions": tuple(actions),
    }
    fields.update(overrides)
    return make_policy(**fields)


def codes(reasons: Iterable[Reason]) -> list[tuple[str, str]]:
    """(code, subject) of each reason, in order."""
    return [(r.code, r.subject) for r in reasons]


def with_components(bag: Bag, *components: Component) -> Bag:
    """``bag`` plus ``components``."""
    return make_bag(*bag.components, *components, facts=dict(bag.runner.facts))
