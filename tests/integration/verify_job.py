"""The `job` fixture of the verify tests: a tiny runner tree, a key pair, attest and verify.

The tree (``--root``) has an os-release and two real executables on PATH; the key is freshly
generated; the policy is drafted from the attested bag by `policy init`'s renderer, so an
unchanged tree is allowed and any change is a reason.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsecops.attest.key import generate_key
from envsecops.model.bag import Bag
from envsecops.model.decision import Decision
from envsecops.policy.render import render_policy
from tests.conftest import CliResult

RunCli = Callable[..., CliResult]
NONCE = "nonce-0123456789abcdef"


@dataclass(frozen=True)
class Job:
    """A runner tree, a key pair, and where attest and verify write."""

    tmp: Path
    root: Path
    key: Path
    public: Path
    attested: Path
    out: Path

    def attest(self, run_cli: RunCli, *extra: str) -> CliResult:
        result = run_cli(
            "attest", "--root", self.root, "--out", self.attested, "--signer", "key",
            "--key", self.key, "--no-syft", "--nonce", NONCE, *extra,
        )  # fmt: skip
        assert result.code == 0, result.err
        return result

    def policy(self, path: Path | None = None, *, mode: str = "enforce") -> Path:
        bag = Bag.from_json(json.loads((self.attested / "bag.json").read_bytes()))
        text = render_policy(bag, name="verify-test").replace("mode: enforce", f"mode: {mode}")
        target = path or self.tmp / "policy.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def verify(self, run_cli: RunCli, *extra: str | Path, policy: Path | None = None) -> CliResult:
        return run_cli(
            "verify", "--root", self.root, "--attestation", self.attested / "attestation.dsse.json",
            "--bag", self.attested / "bag.json", "--key", self.key, "--no-syft", "--out", self.out,
            *(["--policy", str(policy)] if policy is not None else []), *extra,
        )  # fmt: skip

    def decision(self) -> Decision:
        return Decision.from_json(json.loads((self.out / "decision.json").read_bytes()))


def _real(name: str) -> Path:
    found = shutil.which(name, path="/usr/bin:/bin")
    assert found is not None, f"{name} is needed to build the test tree"
    return Path(found)


@pytest.fixture(name="job")
def job_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Job:
    """A clean environment as a runner step sees it, and a tiny runner tree as --root."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\n')
    (root / "usr/bin").mkdir(parents=True)
    for name in ("true", "echo"):
        shutil.copy2(_real(name), root / "usr/bin" / name)
    (root / "home/runner").mkdir(parents=True)
    key = generate_key(tmp_path / "signing.pem")
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("HOME", "/home/runner")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.chdir(tmp_path)
    return Job(
        tmp_path, root, key.private_path, key.public_path, tmp_path / "att", tmp_path / "dec"
    )
