"""A tiny runner tree, key pairs, signed bag attestations and matching policies, built for real.

Everything goes through the library pieces `envsecops attest` itself uses (the inventory,
`Binding`, `build_statement`, `KeySigner`), so bag.json and the attestation built here are
byte for byte what attest writes (no SBOM: verify does not read it), except for what a test
deliberately changes: the binding's facts and time, the statement, or the DSSE envelope
(payload, type, signatures). The tree has one
binary on PATH and an os-release, so an inventory of it takes milliseconds.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from envsecops.attest.binding import Binding, Origin
from envsecops.attest.key import KeySigner, generate_key
from envsecops.attest.statement import PAYLOAD_TYPE, build_statement, statement_bytes
from envsecops.bag.inventory import context_from_environment, take_inventory
from envsecops.canonical import canonical_json, digest_bytes
from envsecops.model.bag import Bag

REPOSITORY = "octo-org/octo-repo"
"""The job's repository: what the local OIDC issuer's tokens claim, and GITHUB_REPOSITORY."""
RUN_ID = "22259804324"
RUN_ATTEMPT = "2"
JOB = "build"
NONCE = "nonce-verify-0123456789abcdef"
JOB_ENV = {
    "GITHUB_REPOSITORY": REPOSITORY,
    "GITHUB_RUN_ID": RUN_ID,
    "GITHUB_RUN_ATTEMPT": RUN_ATTEMPT,
    "GITHUB_JOB": JOB,
}
"""The job facts a local verify reads from the environment (the same as the OIDC claims)."""
BINARY = "/usr/bin/true"
POLICY_NAME = "verify-bad-input"
ENVIRONMENTS = "[github-hosted, self-hosted, unknown]"


def make_tree(root: Path) -> Path:
    """A runner tree for --root: an os-release and one real executable on /usr/bin."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\nNAME="Ubuntu"\n')
    (root / "usr/bin").mkdir(parents=True)
    real = shutil.which("true", path="/usr/bin:/bin")
    assert real is not None, "`true` is needed to build the test tree"
    shutil.copy2(real, root / BINARY.lstrip("/"))
    (root / "home/runner").mkdir(parents=True)
    return root


@dataclass(frozen=True)
class KeyPair:
    """A private key file, its public key file, and a signer holding the private key."""

    private: Path
    public: Path
    signer: KeySigner


def make_key(path: Path) -> KeyPair:
    """A fresh ECDSA P-256 key pair written to ``path`` and ``path.pub``."""
    generated = generate_key(path)
    return KeyPair(
        generated.private_path,
        generated.public_path,
        KeySigner.from_file(generated.private_path),
    )


def take_bag(root: Path, claims: Mapping[str, str] | None = None) -> Bag:
    """The inventory of ``root`` under the current process environment, as verify takes it."""
    context = context_from_environment(dict(os.environ), root=root, claims=claims or {})
    return take_inventory(context)


def rfc3339(moment: datetime) -> str:
    """A binding time: RFC 3339, UTC, seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**delta: float) -> str:
    """``created_at`` for a moment ``delta`` before now (negative values: the future)."""
    return rfc3339(datetime.now(UTC) - timedelta(**delta))


def binding(
    *,
    nonce: str = NONCE,
    created_at: str | None = None,
    claims: Mapping[str, str] | None = None,
    **facts: str | None,
) -> Binding:
    """The binding attest would make in this environment (from ``claims`` when given, as
    validated OIDC claims, else from the GITHUB_* variables), with ``facts`` changed
    (None: unknown)."""
    base = Binding.collect(
        claims, dict(os.environ), nonce=nonce, created_at=created_at or ago(seconds=5)
    )
    origins = dict(base.origins)
    for name, value in facts.items():
        if value is None:
            origins.pop(name, None)
        else:
            origins.setdefault(name, Origin.ENVIRONMENT)
    return replace(base, origins=tuple(origins.items()), **facts)  # type: ignore[arg-type]


def sign_statement(statement: Mapping[str, Any], signer: KeySigner) -> bytes:
    """A DSSE envelope over the statement's canonical JSON, as attest signs it."""
    return signer.sign(PAYLOAD_TYPE, statement_bytes(statement)).content


@dataclass(frozen=True)
class Attested:
    """What an attest step left behind: bag.json and the attestation, on disk and in memory."""

    bag: Bag
    bag_json: bytes
    statement: dict[str, Any]
    attestation: bytes
    bag_path: Path
    attestation_path: Path

    def with_attestation(self, content: bytes) -> Attested:
        """Replace the attestation file's bytes (a tampered or re-signed one)."""
        self.attestation_path.write_bytes(content)
        return replace(self, attestation=content)

    def with_bag_json(self, content: bytes) -> Attested:
        """Replace bag.json's bytes."""
        self.bag_path.write_bytes(content)
        return replace(self, bag_json=content)


def attest(out: Path, bag: Bag, signer: KeySigner, bound: Binding) -> Attested:
    """Write ``out/bag.json`` and ``out/attestation.dsse.json`` for ``bag`` bound by ``bound``."""
    out.mkdir(parents=True, exist_ok=True)
    bag_json = canonical_json(bag.to_json())
    statement = build_statement(bag, bag_json, bound)
    content = sign_statement(statement, signer)
    bag_path, attestation_path = out / "bag.json", out / "attestation.dsse.json"
    bag_path.write_bytes(bag_json)
    attestation_path.write_bytes(content)
    return Attested(bag, bag_json, statement, content, bag_path, attestation_path)


# --- the DSSE envelope, taken apart -------------------------------------------------------


def envelope(content: bytes) -> dict[str, Any]:
    """The envelope JSON as a dict."""
    data: dict[str, Any] = json.loads(content)
    return data


def payload_of(content: bytes) -> dict[str, Any]:
    """The statement the envelope carries (not verified)."""
    data: dict[str, Any] = json.loads(base64.b64decode(envelope(content)["payload"]))
    return data


def rebuilt(content: bytes, **changes: Any) -> bytes:
    """The envelope with top-level fields replaced (None deletes one), signatures untouched."""
    data = envelope(content)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return json.dumps(data).encode()


def encode_payload(statement: Mapping[str, Any]) -> str:
    """A statement as the envelope's base64 payload field."""
    return base64.b64encode(statement_bytes(statement)).decode("ascii")


# --- the policy ---------------------------------------------------------------------------


def policy_text(bag: Bag, *, name: str = POLICY_NAME, extra: str = "") -> str:
    """A policy that allows exactly the tiny tree's bag: its one binary, any runner kind."""
    digests = sorted(
        c.digest for c in bag.components if c.path == BINARY and c.name != "path-entry" and c.digest
    )
    assert digests, f"the bag has no {BINARY}"
    return (
        f"name: {name}\n"
        "runner:\n"
        f"  environments: {ENVIRONMENTS}\n"
        "binaries:\n"
        f"  {BINARY}: [{', '.join(digests)}]\n"
        f"{extra}"
    )


def write_policy(workspace: Path, text: str) -> Path:
    """Write ``workspace/.github/envsecops.yml``."""
    path = workspace / ".github" / "envsecops.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def binary_digest(root: Path) -> str:
    """The sha256 of the tree's binary, as the bag records it."""
    return digest_bytes((root / BINARY.lstrip("/")).read_bytes())
