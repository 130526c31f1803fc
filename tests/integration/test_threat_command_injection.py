"""Workflow-command injection through the real CLIs: hostile text never becomes a command.

Untrusted text reaches the log through component names (any earlier step can create a file
on `PATH`), deny reasons and findings. Each case runs the real command in a simulated
GitHub Actions step with names and messages carrying `::error::`, `::add-mask::`,
`::stop-commands::`, `%0A` and `\\r`, and parses stdout with the runner model
(tests/unit/gh/runner_model.py, which splits lines on CR, LF and CRLF like the runner): the
only commands the runner would act on are ours (the JWT mask, `envsecops` annotations), and
the hostile text stays data inside them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from envsecops.model.decision import Mode, Reason, Verdict
from tests.integration.oidc_issuer.server import LocalIssuer
from tests.integration.test_record_cli import RunCli, write_json
from tests.integration.verify_job import NONCE, Job, job_fixture  # noqa: F401 - fixture
from tests.unit.gh.runner_model import Command, process
from tests.unit.ledger.test_audit import decision

HOSTILE = (
    "evil\n::error::forged-by-newline",
    "evil\r::add-mask::forged-by-cr",
    "evil%0A::warning::forged-by-percent",
    "::stop-commands::forgedtoken",
    "::add-mask::forged-mask",
    "::error file=x,line=1::forged-error",
)


def _forged(commands: list[Command]) -> list[Command]:
    """Every command that is not one envsecops meant to issue."""
    forged = []
    for command in commands:
        jwt = command.data.count(".") == 2 and "::" not in command.data
        if command.name == "add-mask" and jwt:
            continue  # the OIDC JWT, masked before anything prints
        title = command.properties.get("title", "")
        if command.name in {"error", "warning", "notice"} and title.startswith("envsecops"):
            continue
        forged.append(command)
    return forged


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A record step's runtime files in ``tmp_path`` (as in test_record_cli.py)."""
    files = {"summary": tmp_path / "step-summary.md", "output": tmp_path / "github-output"}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return files


@pytest.fixture
def hostile_step(
    job: Job, monkeypatch: pytest.MonkeyPatch, oidc_issuer: LocalIssuer
) -> LocalIssuer:
    """An Actions step of the `job` fixture, with the local issuer as the token service."""
    for name, value in oidc_issuer.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(job.tmp / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(job.tmp / "step_summary.md"))
    monkeypatch.setenv("GITHUB_JOB", "deploy")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(job.tmp / "workspace"))
    return oidc_issuer


def test_hostile_binary_names_on_path_reach_verify_as_data_only(
    job: Job, run_cli: RunCli, hostile_step: LocalIssuer
) -> None:
    job.attest(run_cli, "--oidc-issuer", hostile_step.url)
    job.policy(job.tmp / "workspace/.github/envsecops.yml")
    for name in HOSTILE:
        planted = job.root / "usr/bin" / name.replace("/", "_")
        planted.write_bytes(b"#!/bin/sh\n")
        planted.chmod(0o755)
    result = job.verify(
        run_cli, "--signer", "key", "--oidc-issuer", hostile_step.url, "--nonce", NONCE,
        "--policy-source", "workspace",
    )  # fmt: skip
    assert result.code == 1, result.out + result.err
    made = job.decision()
    assert made.verdict is Verdict.DENY
    assert any("forged-by-newline" in r.message + r.subject for r in made.reasons)
    commands = process(result.out)
    assert _forged(commands) == [], [(c.name, c.data) for c in _forged(commands)]
    assert [c.name for c in commands].count("add-mask") <= 1
    assert _forged(process(result.err)) == []


@pytest.mark.parametrize("mode", [Mode.ENFORCE, Mode.AUDIT])
def test_hostile_reasons_reach_record_annotations_and_summary_as_data_only(
    tmp_path: Path, run_cli: RunCli, actions: dict[str, Path], mode: Mode
) -> None:
    reasons = (
        *(
            Reason("binary-not-allowed", f"binary:/usr/bin/{text}", f"not allowed: {text}")
            for text in HOSTILE
        ),
        Reason("policy.invalid", "policy", "reason\r\n::add-mask::forged %0D %25"),
    )
    made = replace(decision(Verdict.DENY), reasons=reasons, mode=mode)
    path = write_json(tmp_path / "d.json", made.to_json())
    result = run_cli("record", "--decision", path, "--ledger", f"file:{tmp_path / 'l.jsonl'}")
    assert result.code == (1 if mode is Mode.ENFORCE else 0), result.out + result.err
    commands = process(result.out)
    assert _forged(commands) == [], [(c.name, c.data) for c in _forged(commands)]
    level = "error" if mode is Mode.ENFORCE else "warning"
    annotations = [c for c in commands if c.name == level]
    assert 1 <= len(annotations) <= 11, "at most ten a level, then one aggregate line"
    texts = "\n".join(c.data for c in annotations)
    assert "::error::forged-by-newline" in texts, "the text survives, escaped, as data"
    summary = actions["summary"].read_text(encoding="utf-8")
    assert "evil ::error::forged\\-by\\-newline |" in summary, "one cell, one line"
    assert not any(line.startswith("::") for line in summary.splitlines())
    assert "\r" not in summary
    assert _forged(process(result.err)) == []
