"""The demo's verify-bag runs: draft a policy and verify (allow); plant a binary, verify (deny).

The planted file is an inert shell script named ``git`` in a fresh directory of the demo's
temporary tree, put first on PATH for the second verify only, exactly as any earlier step of
a job can do through ``$GITHUB_PATH``. The inventory never executes what it finds, so the
script never runs; nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from envsecops.demo.local_env import changed_environment
from envsecops.demo.outcome import Verdict
from envsecops.errors import EnvsecopsError, ExitCode

if TYPE_CHECKING:
    from envsecops.demo.attest_step import Attested
    from envsecops.model.decision import Decision

POLICY_NAME = "envsecops-demo"
PLANTED_NAME = "git"
PLANTED_TEXT = "#!/bin/sh\n# planted by `envsecops demo` to show drift; never executed\nexit 0\n"
DRIFT_CODE = "drift.env-hash"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One verify run: its exit code, its output directory, and the re-verified decision."""

    code: int
    out: Path
    decision: Decision | None
    problem: str = ""  # why the decision could not be read or re-verified


@dataclass(frozen=True, slots=True)
class Allowed:
    """Stage 3's result: the expectations checked, the policy file, the allow's outcome."""

    verdicts: list[Verdict]
    policy: Path
    outcome: Outcome | None


def run_verify_stage(
    attested: Attested,
    policy: Path,
    out: Path,
    stream: TextIO,
    *,
    sections: str = "",
    issuer: str | None = None,
) -> Allowed:
    """Draft the policy (plus ``sections``, e.g. `credentials:` and `ledger:`), verify (allow)."""
    write = stream.write
    write("\nStage 3, verify-bag: draft a policy from the bag, then check the bag against it\n")
    drafted = _draft_policy(attested, policy, stream, sections)
    if not drafted.ok:
        return Allowed([drafted], policy, None)
    allowed = _verify(attested, policy, out, stream, issuer)
    verdicts = [drafted, _expect_allow(attested, allowed, oidc=issuer is not None)]
    _show(verdicts, "What verify-bag was expected to decide:", stream)
    return Allowed(verdicts, policy, allowed)


@contextmanager
def planted_on_path(directory: Path, stream: TextIO) -> Iterator[Path]:
    """Plant the inert ``git`` first on PATH for the block (as `$GITHUB_PATH` allows)."""
    planted = _plant(directory)
    stream.write(
        f"\nAn earlier step of the job puts its own `{PLANTED_NAME}` first on PATH "
        f"({planted.parent}, as `$GITHUB_PATH` allows); verify runs again:\n"
    )
    path = f"{planted.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with changed_environment({"PATH": path}):
        yield planted


def run_deny_stage(
    attested: Attested,
    policy: Path,
    out: Path,
    planted: Path,
    stream: TextIO,
    issuer: str | None = None,
) -> tuple[Verdict, Outcome]:
    """Verify again with the planted binary on PATH: the expectation (deny) and the outcome."""
    denied = _verify(attested, policy, out, stream, issuer)
    verdict = _expect_deny(attested, denied, planted)
    _show([verdict], "What verify-bag was expected to decide:", stream)
    return verdict, denied


def _show(verdicts: list[Verdict], title: str, stream: TextIO) -> None:
    stream.write(f"\n{title}\n")
    for verdict in verdicts:
        stream.write(f"  [{'ok' if verdict.ok else 'FAIL'}] {verdict.text}\n")


def _draft_policy(attested: Attested, target: Path, stream: TextIO, sections: str = "") -> Verdict:
    """`envsecops policy init --from bag.json`, in-process, plus ``sections``; loaded back."""
    from envsecops.model.bag import Bag
    from envsecops.policy.load import load_policy_text
    from envsecops.policy.render import render_policy

    stream.write(
        f"$ envsecops policy init --from bag.json --name {POLICY_NAME} > .github/envsecops.yml\n"
    )
    if sections:
        stream.write("  and the job's own sections appended:\n")
        stream.write("".join(f"    {line}\n" for line in sections.splitlines()))
    try:
        bag = Bag.from_json(json.loads(attested.bag.read_bytes()))
        text = render_policy(bag, name=POLICY_NAME) + sections
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        policy = load_policy_text(text, ".github/envsecops.yml", root=target.parent.parent)
    except EnvsecopsError as exc:
        return Verdict(False, f"the drafted policy could not be written or loaded: {exc.message}")
    counts = (
        f"{len(policy.binaries)} binaries, {len(policy.packages.allow)} package rules, "
        f"{len(policy.configs)} configs, {len(policy.tool_cache)} tool-cache trees, "
        f"{len(policy.actions)} actions"
    )
    if policy.credentials.providers:
        names = ", ".join(p.provider for p in policy.credentials.providers)
        counts += f"; credentials from {names}"
    stream.write(f"  {len(text.splitlines())} lines, policy id {policy.policy_id}: {counts}\n")
    if policy.empty_allowlist:
        return Verdict(False, "the drafted policy allows nothing (an empty allowlist)")
    return Verdict(True, f"policy {policy.policy_id} drafted from the attested bag ({counts})")


def _plant(directory: Path) -> Path:
    """An inert executable named like a real tool, in a new directory; its path."""
    directory.mkdir(mode=0o700)
    planted = directory / PLANTED_NAME
    planted.write_text(PLANTED_TEXT, encoding="utf-8")
    planted.chmod(stat.S_IRWXU)
    return planted


def _verify(
    attested: Attested, policy: Path, out: Path, stream: TextIO, issuer: str | None = None
) -> Outcome:
    """`envsecops verify` in-process with the demo's key; the decision re-verified."""
    from envsecops.attest.key import KeyVerifier
    from envsecops.cli.main import main
    from envsecops.verify.decision import verify_decision

    stream.write(
        f"$ envsecops verify --attestation {attested.attestation.name} --bag bag.json "
        f"--nonce {attested.nonce} --policy .github/envsecops.yml --signer key "
        f"--key {attested.key.private_path.name} --no-syft"
        + (f" --oidc-issuer {issuer}\n" if issuer else "\n")
    )
    argv = ["verify", "--attestation", str(attested.attestation), "--bag", str(attested.bag)]
    argv += ["--nonce", attested.nonce, "--policy", str(policy), "--signer", "key"]
    argv += ["--key", str(attested.key.private_path), "--no-syft", "--out", str(out)]
    argv += ["--oidc-issuer", issuer] if issuer else []
    with redirect_stdout(stream), redirect_stderr(stream):
        code = main(argv)
    try:
        decision = verify_decision(
            (out / "decision.dsse.json").read_bytes(),
            (out / "decision.json").read_bytes(),
            KeyVerifier.from_files([attested.key.public_path]),
        )
    except OSError as exc:
        return Outcome(code, out, None, f"no signed decision to read ({exc.strerror})")
    except EnvsecopsError as exc:
        return Outcome(code, out, None, f"the signed decision did not verify: {exc.message}")
    stream.write(
        f"  (exit {code}) decision.dsse.json re-verified with the demo's public key: "
        f"{decision.decision_id} says {decision.verdict.value}\n"
    )
    return Outcome(code, out, decision)


def _expect_allow(attested: Attested, outcome: Outcome, *, oidc: bool = False) -> Verdict:
    decision = outcome.decision
    if decision is None:
        return Verdict(False, f"verify of the unchanged machine: {outcome.problem}")
    if outcome.code != ExitCode.OK or decision.verdict.value != "allow" or decision.reasons:
        codes = ", ".join(sorted({r.code for r in decision.reasons})) or "none"
        return Verdict(
            False,
            f"verify of the unchanged machine: expected allow, got {decision.verdict.value} "
            f"(exit {outcome.code}; reasons: {codes})",
        )
    if decision.env_hash != attested.env_hash or (outcome.out / "drift.json").exists():
        return Verdict(False, "verify allowed, but the decision names another env hash or drift")
    bound = ""
    if oidc:
        if decision.principal.origin != "oidc":
            return Verdict(
                False,
                f"verify allowed, but the principal came from the {decision.principal.origin}, "
                "not the issuer's validated token",
            )
        bound = f"; job {decision.job} and principal from the validated OIDC token"
    return Verdict(
        True,
        f"allow: no drift, every component allowed by {decision.policy_id}; the decision is "
        f"signed by the demo key and re-verified (predicate decision/v1, subject decision.json)"
        f"{bound}",
    )


def _expect_deny(attested: Attested, outcome: Outcome, planted: Path) -> Verdict:
    decision = outcome.decision
    if decision is None:
        return Verdict(False, f"verify after planting {planted}: {outcome.problem}")
    codes = sorted({r.code for r in decision.reasons})
    if outcome.code != ExitCode.FINDINGS or decision.verdict.value != "deny":
        return Verdict(
            False,
            f"verify after planting {planted}: expected deny (exit 1), got "
            f"{decision.verdict.value} (exit {outcome.code}; reasons: {', '.join(codes)})",
        )
    if DRIFT_CODE not in codes:
        return Verdict(False, f"deny, but without {DRIFT_CODE} (reasons: {', '.join(codes)})")
    names = {str(planted), str(planted.resolve())}  # /tmp may be a link (macOS)
    if not names & _drift_added(outcome.out / "drift.json"):
        return Verdict(False, f"deny, but drift.json does not list {planted} as added")
    also = [
        r.code
        for r in decision.reasons
        if r.code != DRIFT_CODE and any(name in r.subject for name in names)
    ]
    policy_too = f", and the policy says {', '.join(sorted(set(also)))}" if also else ""
    return Verdict(
        True,
        f"deny: {DRIFT_CODE} with drift.json naming the added binary {planted}{policy_too}; "
        f"the deny decision is signed and re-verified too (attested {attested.env_hash[:19]}…)",
    )


def _drift_added(path: Path) -> set[str]:
    """The paths (or names) of the components drift.json lists as added; empty if unreadable."""
    try:
        data = json.loads(path.read_bytes())
        return {str(c.get("path") or c.get("name")) for c in data["added"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()
