"""Secrets never leave masked form: every byte the full demo writes is searched for them.

The demo (``envsecops demo``, in-process, isolated as in ``test_demo.py``) is observed through
seams of its own objects, without any change to product code:

- the secrets: every JWT the loopback issuer served (``Issuer.token``), the issuer's request
  token (``ACTIONS_ID_TOKEN_REQUEST_TOKEN``), and the secret access key and session token of
  every session moto's STS issued during the run (the gate role's and the target role's);
- the outputs: stdout and stderr (Python-level and file-descriptor-level), log records,
  ``$GITHUB_OUTPUT`` after each record step (the demo empties it before each one),
  ``$GITHUB_ENV``, ``$GITHUB_STEP_SUMMARY``, the file ledger, every object version in the S3
  ledger bucket (read back from moto just before the demo stops it), and in fact every file in
  the demo's temporary job tree at that moment.

The only place a secret may appear is the intended credential hand-over: ``credentials.env``
(the demo's mint runs outside Actions) or ``$GITHUB_ENV`` lines naming the exported variables;
in the printed log a secret may only appear inside an ``::add-mask::`` line, and such a line
must come before any other mention.
"""

from __future__ import annotations

import multiprocessing.util
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envsecops.demo import chain as demo_chain
from envsecops.demo import record_step
from envsecops.demo.cloud import ACCOUNT, Cloud
from envsecops.demo.issuer import Issuer
from envsecops.demo.runner import Runner
from tests.conftest import CliResult

RunCli = Callable[..., CliResult]
CREDENTIAL_EXPORTS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
"""The variables mint hands on: the intended (and only) lines that may carry a secret."""


class Observed:
    """Every secret the demo's services handed out, and every blob the demo wrote."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.request_tokens: list[str] = []
        self.blobs: dict[str, bytes] = {}
        self.sessions_before: set[int] = set()
        self.session_secrets: list[str] = []

    def add(self, where: str, data: bytes) -> None:
        """Keep ``data`` under ``where``; a repeated name gets a numbered suffix."""
        name, n = where, 1
        while name in self.blobs:
            n += 1
            name = f"{where}#{n}"
        self.blobs[name] = data

    def secrets(self) -> dict[str, str]:
        """Every secret value, named for the failure message."""
        found = {f"oidc-jwt-{i}": t for i, t in enumerate(self.tokens)}
        found |= {f"request-token-{i}": t for i, t in enumerate(self.request_tokens)}
        found |= {f"sts-secret-{i}": s for i, s in enumerate(self.session_secrets)}
        return found


def _assumed_roles() -> list[Any]:
    from moto.sts.models import sts_backends

    return list(sts_backends[ACCOUNT]["global"].assumed_roles)


def _snapshot_tree(root: Path, observed: Observed, label: str) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            observed.add(f"{label}:{path.relative_to(root)}", path.read_bytes())


def _read_bucket(cloud: Cloud, observed: Observed) -> None:
    s3 = cloud.client("s3")
    versions = s3.list_object_versions(Bucket=cloud.bucket).get("Versions", [])
    for version in versions:
        key, version_id = version["Key"], version["VersionId"]
        body = s3.get_object(Bucket=cloud.bucket, Key=key, VersionId=version_id)
        observed.add(f"s3:{version['Key']}@{version['VersionId']}", body["Body"].read())


def _observe(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Observed:
    observed = Observed()
    observed.sessions_before = {id(role) for role in _assumed_roles()}
    real_token, real_init = Issuer.token, Issuer.__init__
    real_stop, real_record = Cloud.stop, record_step.record

    def token(self: Issuer, audience: str) -> str:
        value = real_token(self, audience)
        observed.tokens.append(value)
        return value

    def init(self: Issuer) -> None:
        real_init(self)
        observed.request_tokens.append(self.request_token)

    def stop(self: Cloud) -> None:
        for role in _assumed_roles():
            if id(role) not in observed.sessions_before:
                observed.session_secrets += [role.secret_access_key, role.session_token]
        if self.bucket:
            _read_bucket(self, observed)
        _snapshot_tree(tmp_path, observed, "tree")
        real_stop(self)

    def record(runner: Runner, *args: Any, **kwargs: Any) -> Any:
        verdict = real_record(runner, *args, **kwargs)
        observed.add("GITHUB_OUTPUT", runner.file("GITHUB_OUTPUT").read_bytes())
        return verdict

    monkeypatch.setattr(Issuer, "token", token)
    monkeypatch.setattr(Issuer, "__init__", init)
    monkeypatch.setattr(Cloud, "stop", stop)
    monkeypatch.setattr(demo_chain, "record", record)
    return observed


def _unintended(where: str, text: str) -> str:
    """``text`` with the intended credential hand-over blanked (line numbers kept): all of
    credentials.env, and the values of the exported credential variables in $GITHUB_ENV."""
    if where.endswith("/credentials.env"):
        return ""
    if "_runner_file_commands/github_env" not in where:
        return text
    lines, delimiter = text.splitlines(), None
    for index, line in enumerate(lines):
        if delimiter is not None:
            if line == delimiter:
                delimiter = None
            else:
                lines[index] = ""
            continue
        name, heredoc, marker = line.partition("<<")
        if name in CREDENTIAL_EXPORTS and heredoc:
            delimiter = marker
        elif line.partition("=")[0] in CREDENTIAL_EXPORTS:
            lines[index] = ""
    return "\n".join(lines)


def _leaks(observed: Observed, secrets: dict[str, str]) -> list[str]:
    leaks: list[str] = []
    for where, data in observed.blobs.items():
        text = _unintended(where, data.decode("utf-8", errors="replace"))
        for number, line in enumerate(text.splitlines(), start=1):
            leaks += [f"{name} in {where}:{number}" for name, v in secrets.items() if v in line]
    return leaks


def _log_leaks(log: str, secrets: dict[str, str]) -> list[str]:
    """A secret in the log outside an ``::add-mask::`` line, or mentioned before its mask."""
    leaks: list[str] = []
    masked: set[str] = set()
    for number, line in enumerate(log.splitlines(), start=1):
        for name, value in secrets.items():
            if value not in line:
                continue
            if line.startswith("::add-mask::"):
                masked.add(name)
            else:
                state = "after its ::add-mask::" if name in masked else "unmasked"
                leaks.append(f"{name} printed ({state}) on log line {number}")
    return leaks


@pytest.mark.slow
def test_no_secret_leaves_masked_form_during_the_full_demo(
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    multiprocessing.util.get_temp_dir()  # see test_demo: fixed before tempfile moves
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "ci-step-output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "ci-step-summary"))
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://token.invalid/not-used")
    monkeypatch.setenv("AWS_PROFILE", "envsecops-demo-no-such-profile")
    monkeypatch.delenv("ENVSECOPS_AWS_ENDPOINT_URL", raising=False)
    observed = _observe(monkeypatch, tmp_path)

    result = run_cli("demo")

    assert result.code == 0, result.out + result.err
    fd = capfd.readouterr()
    observed.add("stdout", result.out.encode())
    observed.add("stderr", result.err.encode())
    observed.add("fd-stdout", fd.out.encode())
    observed.add("fd-stderr", fd.err.encode())
    observed.add("log-records", caplog.text.encode())
    secrets = observed.secrets()
    # the observation itself worked: tokens were served, both hops issued sessions, and the
    # files of every kind the brief names were read
    assert len(observed.tokens) >= 3, observed.tokens
    assert len(observed.request_tokens) == 1
    assert len(observed.session_secrets) >= 4, "the gate and target sessions' secrets"
    assert all(len(value) >= 16 for value in secrets.values())
    names = list(observed.blobs)
    for wanted in ("github_output", "github_env", "github_step_summary", "ledger.jsonl", "s3:"):
        assert any(wanted in name for name in names), (wanted, names)
    assert sum(name.startswith("GITHUB_OUTPUT") for name in names) == 2, "allow and deny"
    assert any(name.startswith("s3:") and b"mint-issued" in observed.blobs[name] for name in names)
    credentials = [name for name in names if name.endswith("/credentials.env")]
    assert len(credentials) == 1, credentials
    handed = observed.blobs[credentials[0]].decode()
    assert sum(value in handed for value in observed.session_secrets) == 2, (
        "credentials.env holds the target session's secret key and token (the intended lines)"
    )
    assert _leaks(observed, secrets) == []
    for stream in ("stdout", "stderr", "fd-stdout", "fd-stderr"):
        log = observed.blobs[stream].decode("utf-8", errors="replace")
        assert _log_leaks(log, secrets) == [], stream


def test_the_log_check_allows_only_masks_that_come_first() -> None:
    secrets = {"jwt": "eyJ-the-secret-token"}
    assert _log_leaks("::add-mask::eyJ-the-secret-token\nok\n", secrets) == []
    assert _log_leaks("token eyJ-the-secret-token\n", secrets) == [
        "jwt printed (unmasked) on log line 1"
    ]
    early = "x=eyJ-the-secret-token\n::add-mask::eyJ-the-secret-token\n"
    assert _log_leaks(early, secrets) == ["jwt printed (unmasked) on log line 1"]
    late = "::add-mask::eyJ-the-secret-token\nagain eyJ-the-secret-token\n"
    assert _log_leaks(late, secrets) == ["jwt printed (after its ::add-mask::) on log line 2"]


def test_only_the_intended_credential_lines_may_hold_a_secret() -> None:
    observed = Observed()
    env = "AWS_SECRET_ACCESS_KEY<<d1\nsecret-key-value\nd1\nOTHER<<d2\nsecret-key-value\nd2\n"
    observed.add("tree:runner/work/_temp/_runner_file_commands/github_env", env.encode())
    observed.add("tree:runner/work/_temp/mint/credentials.env", b"export K='secret-key-value'\n")
    observed.add("tree:runner/work/_temp/envsecops/ledger.jsonl", b'{"k": "secret-key-value"}\n')
    leaks = _leaks(observed, {"key": "secret-key-value"})
    assert leaks == [
        "key in tree:runner/work/_temp/_runner_file_commands/github_env:5",
        "key in tree:runner/work/_temp/envsecops/ledger.jsonl:1",
    ]
