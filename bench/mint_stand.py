"""The loopback stand bench/mint.py times against: moto's STS and IAM, an OIDC issuer, a tiny root.

The issuer and moto's roles are the ones `envsecops demo` runs on (``envsecops.demo.issuer``
and ``envsecops.demo.cloud``, built from the runtime's own libraries and moto, never from
tests/, which benchmarks must not depend on):

- :class:`Issuer` — a GitHub-shaped OIDC issuer on 127.0.0.1: discovery document, JWKS, and the
  runner's token endpoint (``GET /token?audience=…`` with the request bearer → ``{"value": JWT}``),
  RS256 tokens whose claims are strings, ``nbf = iat - 600`` and ``exp = iat + 300``;
- :class:`Stand` — moto's ``ThreadedMotoServer`` on 127.0.0.1 with a *gate* role (trusting the
  OIDC provider) and a *target* role (trusting the gate, allowing ``sts:TagSession`` and
  ``sts:SetSourceIdentity``); it puts fake keys in this process's environment;
- :func:`tiny_root` — a runner tree with an os-release and two executables, for ``--root``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from envsecops.demo.cloud import REGION, Cloud
from envsecops.demo.issuer import JOB, REPOSITORY, RUN_ATTEMPT, RUN_ID, SHA, Issuer, github_claims

__all__ = [
    "JOB",
    "REGION",
    "REPOSITORY",
    "RUN_ATTEMPT",
    "RUN_ID",
    "SHA",
    "Issuer",
    "Stand",
    "github_claims",
    "tiny_root",
]
FAKE_KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}  # moto takes any


class Stand(Cloud):
    """moto's server on loopback with a gate role and a target role (no bucket)."""

    def __init__(self) -> None:
        os.environ.update({**FAKE_KEYS, "AWS_EC2_METADATA_DISABLED": "true"})
        super().__init__(suffix="", bucket=False)

    def policy_section(self, *, check_account: bool = False) -> str:
        """The policy's `credentials:` section (no account check: the bench times the bare mint)."""
        return super().policy_section(check_account=check_account)


def tiny_root(root: Path) -> Path:
    """A runner tree for --root: an os-release and two real executables on /usr/bin."""
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\n', encoding="utf-8")
    (root / "usr/bin").mkdir(parents=True)
    for name in ("true", "echo"):
        found = shutil.which(name, path="/usr/bin:/bin")
        if found is None:
            raise SystemExit(f"`{name}` is needed to build the tiny root")
        shutil.copy2(found, root / "usr/bin" / name)
    (root / "home/runner").mkdir(parents=True)
    return root
