"""Real files for the policy test and replay tests: policies, bag.json files, case files."""

from __future__ import annotations

from pathlib import Path

from envsecops.canonical import canonical_json, digest_bytes
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts

GIT = digest_bytes(b"git 2.43.0")
GIT_REBUILT = digest_bytes(b"git 2.43.0, rebuilt")
CURL = digest_bytes(b"curl 8.5.0")
FACTS = {"runner_environment": "github-hosted"}
RUNNER_LINE = "runner: {runner_environment: github-hosted}"


def policy_text(name: str = "unit", *, git: tuple[str, ...] = (GIT,), curl: bool = False) -> str:
    """A policy allowing /usr/bin/git at ``git`` digests (and curl when asked)."""
    lines = [f"name: {name}", "binaries:", f"  /usr/bin/git: [{', '.join(git)}]"]
    if curl:
        lines.append(f"  /usr/bin/curl: [{CURL}]")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def binary(name: str, digest: str) -> Component:
    """A binary on PATH in /usr/bin."""
    return Component(
        ComponentKind.BINARY, name, "path-binaries", path=f"/usr/bin/{name}", digest=digest
    )


def bag_of(*components: Component, facts: dict[str, str] | None = None) -> Bag:
    """A bag on a GitHub-hosted runner (or with the ``facts`` given)."""
    runner = RunnerFacts(facts=tuple(sorted((facts if facts is not None else FACTS).items())))
    return Bag.build(runner, components, created_at="2025-11-12T09:30:00Z", tool="envsecops test")


def write_bag(path: Path, *components: Component, facts: dict[str, str] | None = None) -> Path:
    """Write a bag.json as attest does (canonical JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_json(bag_of(*components, facts=facts).to_json()))
    return path


def inline_case(name: str, components: str, expect: str, *, extra: str = "") -> str:
    """One case document with inline components (YAML flow lines) and an `expect:` block."""
    return f"name: {name}\n{extra}{RUNNER_LINE}\ncomponents:\n{components}\nexpect:\n{expect}\n"


def git_component(digest: str = GIT) -> str:
    """The YAML of an inline /usr/bin/git component."""
    return f"  - {{kind: binary, name: git, path: /usr/bin/git, digest: '{digest}'}}"


def curl_component() -> str:
    """The YAML of an inline /usr/bin/curl component."""
    return f"  - {{kind: binary, name: curl, path: /usr/bin/curl, digest: '{CURL}'}}"
