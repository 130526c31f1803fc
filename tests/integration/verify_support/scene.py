"""One verify test's world (a clean environment, a tree, keys, an attestation, a policy) and
the checks every bad-input test makes on what `envsecops verify` did.

The contract (issue 4): a bad input ends in exit 1 with a written decision.json whose verdict
is deny and whose reasons carry the right code, or, for a usage error, in exit 2 with a message
naming the file and nothing written; never exit 0 with an allow, never a traceback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from envsecops.attest.binding import Binding
from envsecops.model.bag import Bag
from tests.conftest import CliResult
from tests.integration.verify_support.builder import (
    JOB_ENV,
    NONCE,
    Attested,
    KeyPair,
    attest,
    binding,
    make_tree,
    policy_text,
    take_bag,
    write_policy,
)

RunCli = Callable[..., CliResult]
BASE_ENV = {"PATH": "/usr/bin", "HOME": "/home/runner", "LANG": "C.UTF-8"}


def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp: Path, **extra: str) -> None:
    """Only what a runner step would see: PATH, HOME, LANG, the job's GITHUB_* facts, and
    private sigstore cache directories (verification must never touch the real ones)."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in {**BASE_ENV, **JOB_ENV, **extra}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp / "xdg" / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp / "xdg" / "data"))
    monkeypatch.chdir(tmp)


@dataclass
class Scene:
    """Paths and keys for one test; the bag and attestation are taken on first use, inside the
    test body, so that the environment they record is the one verify will inventory."""

    tmp: Path
    key: KeyPair
    other_key: KeyPair
    claims: dict[str, str] | None = None
    root: Path = field(init=False)
    out: Path = field(init=False)

    def __post_init__(self) -> None:
        self.root = make_tree(self.tmp / "root")
        self.out = self.tmp / "decision"

    @cached_property
    def bag(self) -> Bag:
        """The tree's bag under the current environment."""
        return take_bag(self.root, self.claims)

    @cached_property
    def attested(self) -> Attested:
        """A valid attestation of the bag, bound to this job, signed by the trusted key."""
        return self.attest(self.bind())

    @cached_property
    def policy(self) -> Path:
        """A policy allowing exactly the bag."""
        return write_policy(self.tmp / "workspace", policy_text(self.bag))

    def bind(self, **kwargs: Any) -> Binding:
        """The binding attest would make in this job (see builder.binding), changed by
        ``kwargs``."""
        return binding(claims=self.claims, **kwargs)

    def attest(
        self, bound: Binding, *, key: KeyPair | None = None, name: str = "attest"
    ) -> Attested:
        """Another attestation of the same bag, in ``tmp/name``."""
        return attest(self.tmp / name, self.bag, (key or self.key).signer, bound)

    def args(
        self,
        *extra: str | Path,
        attested: Attested | None = None,
        nonce: str | None = NONCE,
        policy: Path | None = None,
        out: Path | None = None,
        keyless: bool = False,
    ) -> list[str | Path]:
        """`verify` over the tree with a local policy: in key mode with the trusted key, or
        ``keyless`` (sigstore: then the decision cannot be signed here, exit 3)."""
        att = attested or self.attested
        signer: list[str | Path] = ["--signer", "sigstore"]
        if not keyless:
            signer = ["--signer", "key", "--key", self.key.private]
        argv: list[str | Path] = [
            "verify",
            "--attestation", att.attestation_path,
            "--bag", att.bag_path,
            "--policy", policy or self.policy,
            *signer,
            "--root", self.root,
            "--no-syft",
            "--out", out or self.out,
        ]  # fmt: skip
        if nonce is not None:
            argv += ["--nonce", nonce]
        return [*argv, *extra]


@dataclass(frozen=True)
class Outcome:
    """What verify returned, printed and wrote."""

    code: int
    out: str
    err: str
    decision: dict[str, Any] | None

    @property
    def codes(self) -> list[str]:
        """The reason codes of the written decision (empty when none was written)."""
        return [r["code"] for r in (self.decision or {}).get("reasons", [])]

    def reasons(self, codes: Iterable[str]) -> list[dict[str, str]]:
        """The written reasons whose code is one of ``codes``."""
        wanted = set(codes)
        return [r for r in (self.decision or {}).get("reasons", []) if r["code"] in wanted]

    def explain(self) -> str:
        """Everything, for an assertion message."""
        return f"exit {self.code}\nreasons {self.codes}\nstderr:\n{self.err}\nstdout:\n{self.out}"


def run_verify(run_cli: RunCli, argv: list[str | Path], out: Path) -> Outcome:
    """Run `envsecops verify` in-process and read ``out/decision.json`` if it was written."""
    result = run_cli(*argv)
    path = out / "decision.json"
    decision = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    outcome = Outcome(result.code, result.out, result.err, decision)
    assert "Traceback" not in result.err + result.out, outcome.explain()
    assert "internal error" not in result.err, outcome.explain()
    return outcome


def assert_denied(
    outcome: Outcome, *codes: str, contains: str | None = None, exit_code: int = 1
) -> list[dict[str, str]]:
    """Exit 1 (or ``exit_code``), a written deny, and at least one reason with one of
    ``codes`` (whose subject or message, if ``contains`` is given, contains it); returns
    those reasons."""
    assert outcome.code != 0 or exit_code == 0, "a bad input was allowed\n" + outcome.explain()
    assert outcome.code == exit_code, outcome.explain()
    assert outcome.decision is not None, "no decision.json was written\n" + outcome.explain()
    assert outcome.decision["verdict"] == "deny", outcome.explain()
    found = outcome.reasons(codes)
    assert found, f"no reason with code {' or '.join(codes)}\n" + outcome.explain()
    if contains is not None:
        texts = [f"{r['subject']}: {r['message']}" for r in found]
        assert any(contains in t for t in texts), (contains, texts, outcome.explain())
    return found


def assert_usage_error(outcome: Outcome, *mentions: str) -> None:
    """Exit 2, no decision written, and a message naming each of ``mentions``."""
    assert outcome.code == 2, outcome.explain()
    assert outcome.decision is None, "a usage error writes nothing\n" + outcome.explain()
    for text in mentions:
        assert text in outcome.err, (text, outcome.explain())


def assert_allowed(outcome: Outcome) -> None:
    """Exit 0 and a written allow with no reasons."""
    assert outcome.code == 0, outcome.explain()
    assert outcome.decision is not None, outcome.explain()
    assert outcome.decision["verdict"] == "allow", outcome.explain()
    assert outcome.codes == [], outcome.explain()
