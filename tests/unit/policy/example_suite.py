"""The recorded bag of the example policy-test suite (docs/examples/policy-tests/), and its writer.

    .venv/bin/python -m tests.unit.policy.example_suite    # rewrites recorded/bag.json

Regenerating must not change the file: every digest is derived from fixed text.
"""

from __future__ import annotations

from pathlib import Path

from envsecops.canonical import canonical_json, digest_bytes
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "policy-tests"
POLICY = EXAMPLE / "envsecops.yml"
BAG = EXAMPLE / "recorded" / "bag.json"


def fake_digest(label: str) -> str:
    """A stable stand-in digest for the file or tree named ``label``."""
    return digest_bytes(f"envsecops example: {label}".encode())


def example_bag() -> Bag:
    """A small bag as attest would record it on a GitHub-hosted Ubuntu 24.04 runner."""
    facts = {
        "arch": "x86_64",
        "image_os": "ubuntu24",
        "image_version": "20251110.1",
        "os": "ubuntu",
        "os_version": "24.04",
        "runner_environment": "github-hosted",
    }
    components = [
        Component(
            ComponentKind.BINARY,
            "git",
            "path-binaries",
            path="/usr/bin/git",
            digest=fake_digest("/usr/bin/git 2.43.0"),
        ),
        Component(
            ComponentKind.BINARY,
            "python3",
            "path-binaries",
            path="/usr/bin/python3",
            digest=fake_digest("/usr/bin/python3 3.12.3"),
        ),
        Component(
            ComponentKind.PACKAGE,
            "git:amd64",
            "os-packages",
            version="1:2.43.0-1ubuntu7.3",
            path="/var/lib/dpkg/status",
            digest=fake_digest("dpkg stanza git"),
            purl="pkg:deb/ubuntu/git@1:2.43.0-1ubuntu7.3?arch=amd64",
        ),
        Component(
            ComponentKind.PACKAGE,
            "requests",
            "python-packages",
            version="2.32.3",
            path="/usr/lib/python3/dist-packages/requests-2.32.3.dist-info",
            digest=fake_digest("requests 2.32.3 RECORD"),
            purl="pkg:pypi/requests@2.32.3",
        ),
        Component(
            ComponentKind.TOOLCHAIN,
            "Python",
            "tool-cache",
            version="3.12.7",
            path="/opt/hostedtoolcache/Python/3.12.7/x64",
            digest=fake_digest("tool-cache Python 3.12.7 x64"),
            purl="pkg:generic/Python@3.12.7?arch=x64",
            properties=(("arch", "x64"),),
        ),
        Component(
            ComponentKind.CONFIG,
            "/etc/apt/sources.list",
            "configs",
            path="/etc/apt/sources.list",
            digest=fake_digest("/etc/apt/sources.list"),
        ),
        Component(ComponentKind.ENV, "CI", "env", digest=digest_bytes(b"true")),
    ]
    return Bag.build(
        RunnerFacts(
            facts=tuple(sorted(facts.items())),
            origins=tuple(sorted((name, "example") for name in facts)),
        ),
        components,
        created_at="2025-11-12T09:30:00Z",
        tool="envsecops 0.1.0",
    )


def bag_bytes() -> bytes:
    """recorded/bag.json as attest writes it (canonical JSON)."""
    return canonical_json(example_bag().to_json())


def main() -> None:
    """Rewrite recorded/bag.json and print the digests the policy and cases quote."""
    BAG.write_bytes(bag_bytes())
    for label in ("/usr/bin/git 2.43.0", "/usr/bin/python3 3.12.3", "/usr/bin/git rebuilt"):
        print(f"{label}: {fake_digest(label)}")
    for label in ("tool-cache Python 3.12.7 x64", "/etc/apt/sources.list", "/usr/bin/curl"):
        print(f"{label}: {fake_digest(label)}")
    print(f"CI=true: {digest_bytes(b'true')}")


if __name__ == "__main__":
    main()
