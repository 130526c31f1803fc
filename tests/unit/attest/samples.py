"""A small real bag, its manifest bytes, a binding, and helpers to build signed attestations."""

from __future__ import annotations

import base64
import json
from typing import Any

from envsecops.attest.binding import JOB_FACTS, Binding, Origin
from envsecops.attest.key import KeySigner
from envsecops.attest.statement import PAYLOAD_TYPE, build_statement, statement_bytes
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status

NONCE = "n0nce-0123456789abcdefABCDEF_xyz"
CREATED_AT = "2026-03-01T12:00:00Z"
RUNNER = RunnerFacts(
    (("arch", "x86_64"), ("os", "ubuntu"), ("runner_environment", "github-hosted")),
    (("arch", "file"), ("os", "file"), ("runner_environment", "oidc")),
)


def sample_bag() -> Bag:
    """A bag with a few kinds, one volatile, one digest-only and two problem components."""
    return Bag.build(
        RUNNER,
        [
            Component(
                ComponentKind.BINARY,
                "bash",
                "path",
                path="/usr/bin/bash",
                digest="sha256:" + "a" * 64,
            ),
            Component(
                ComponentKind.BINARY, "gone", "path", path="/usr/bin/gone", status=Status.VANISHED
            ),
            Component(
                ComponentKind.CONFIG,
                ".netrc",
                "configs",
                path="/home/runner/.netrc",
                digest="sha256:" + "b" * 64,
                status=Status.DIGEST_ONLY,
            ),
            Component(
                ComponentKind.CONFIG,
                "pip.conf",
                "configs",
                path="/etc/pip.conf",
                status=Status.UNREADABLE,
            ),
            Component(
                ComponentKind.ENV,
                "GITHUB_RUN_ID",
                "env",
                digest="sha256:" + "c" * 64,
                volatile=True,
            ),
            Component(ComponentKind.PACKAGE, "requests", "python", version="2.32.3"),
        ],
        created_at=CREATED_AT,
        tool="envsecops 0.1.0",
        notes=["skipped /proc"],
    )


def bag_bytes(bag: Bag) -> bytes:
    """The manifest exactly as written to bag.json."""
    return canonical_json(bag.to_json())


def sample_binding(**changes: Any) -> Binding:
    """A binding with OIDC facts, two environment facts and no sha."""
    facts: dict[str, Any] = {
        "repository": "octo-org/octo-repo",
        "repository_id": "74",
        "workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        "job_workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
        "sha": None,
        "run_id": "22259804324",
        "run_attempt": "2",
        "job": "deploy",
        "runner_name": "GitHub Actions 7",
        "nonce": NONCE,
        "created_at": CREATED_AT,
    }
    facts.update(changes)
    origins = tuple(
        (name, Origin.ENVIRONMENT if name in {"job", "runner_name"} else Origin.OIDC)
        for name in JOB_FACTS
        if facts[name] is not None
    )
    return Binding(**facts, origins=origins)


def sample_statement() -> tuple[Bag, bytes, dict[str, Any]]:
    """The sample bag, its bytes and the statement about it."""
    bag = sample_bag()
    raw = bag_bytes(bag)
    return bag, raw, build_statement(bag, raw, sample_binding())


def sign_statement(signer: KeySigner, statement: dict[str, Any]) -> bytes:
    """A DSSE envelope over ``statement`` signed by ``signer``."""
    return signer.sign(PAYLOAD_TYPE, statement_bytes(statement)).content


def envelope_json(content: bytes) -> dict[str, Any]:
    """An envelope as a dict, to tamper with."""
    loaded: dict[str, Any] = json.loads(content)
    return loaded


def b64(data: bytes) -> str:
    """Standard padded base64."""
    return base64.b64encode(data).decode("ascii")
