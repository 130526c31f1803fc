"""Every exit path of every command: a fault in any backend ends in exit >= 1, never exit 0.

Each case runs one command in the mint scene's GitHub Actions step (``tests/integration/creds``:
a real runner tree, key, loopback OIDC issuer, moto's STS) with one backend replaced, through a
seam the code already has, by a real subclass of its interface that fails
(:mod:`tests.integration.exit_faults`): the signer, the verifier, a cataloger (mid-iteration),
a ledger (append raising or answering garbage, entries raising mid-iteration, verify raising),
the credential provider, the OIDC token service, the default-branch policy fetch; for the
commands without a backend, the first function of the library they call. The injected
exception is an anticipated one (``RuntimeError``, ``OSError``) or one nothing anticipates
(``ZeroDivisionError``). Every case must end with exit >= 1, a message on stderr and no
traceback; verify must not leave an allow, mint must not hand out a credential. Each case also
checks that the injected fault was reached (``REACHED``), not a usage error before it.

Two outcomes are not "exit >= 1 of the command itself": attest records a failing cataloger in
the bag and exits 0 (by design: the bag is the evidence verify judges), so that case follows
the chain to verify, which must deny.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envsecops.model.bag import Bag
from envsecops.model.decision import Decision, Verdict
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    NONCE,
    MintScene,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.exit_faults import (
    FAULTS,
    GARBAGE,
    REACHED,
    FaultyLedger,
    RaisingCataloger,
    RaisingKeySigner,
    RaisingProvider,
    RaisingVerifier,
    fault,
)
from tests.unit.gh.runner_model import read_file_commands

EXCEPTIONS = tuple(FAULTS)
WITH_GARBAGE = (*EXCEPTIONS, GARBAGE)
BACKEND_CASES = [
    *[("attest", "signer", f) for f in WITH_GARBAGE],
    *[("verify", "verifier", f) for f in WITH_GARBAGE],
    *[("verify", "cataloger", f) for f in WITH_GARBAGE],
    *[("verify", "signer", f) for f in WITH_GARBAGE],
    *[("mint", "verifier", f) for f in WITH_GARBAGE],
    *[("mint", "cataloger", f) for f in WITH_GARBAGE],
    # A ledger answering garbage used to count as a recorded mint-intent (mint then minted and
    # exported before failing); append_all now refuses anything but a Receipt.
    *[("mint", "ledger-append", f) for f in WITH_GARBAGE],
    *[("mint", "provider", f) for f in WITH_GARBAGE],
    *[("mint", "token-request", f) for f in EXCEPTIONS],
    *[("mint", "token-validate", f) for f in EXCEPTIONS],
    *[("record", "ledger-append", f) for f in WITH_GARBAGE],
    *[("audit why", "ledger-entries", f) for f in WITH_GARBAGE],
    *[("audit list", "ledger-entries", f) for f in WITH_GARBAGE],
    *[("audit verify", "ledger-verify", f) for f in WITH_GARBAGE],
]
ATTEST_CATALOGER_CASES = WITH_GARBAGE
"""attest records a failing cataloger in the bag (exit 0, by design: the bag is evidence)."""
DEEP_CASES = [
    (command, f)
    for command in (
        "pin-check",
        "policy init",
        "policy test",
        "policy diff",
        "policy propose",
        "trust-policy",
        "doctor",
    )
    for f in EXCEPTIONS
]


def _raiser(name: str) -> Callable[..., Any]:
    def raising(*_args: Any, **_kwargs: Any) -> Any:
        raise fault(name)

    return raising


def _catalogers(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The built-in catalogers, then one that fails mid-iteration (the inventory's list)."""
    from envsecops.bag import inventory

    real = inventory.default_catalogers

    def catalogers(*args: Any, **kwargs: Any) -> list[Any]:
        return [*real(*args, **kwargs), RaisingCataloger(name)]

    monkeypatch.setattr(inventory, "default_catalogers", catalogers)


def _ledgers(monkeypatch: pytest.MonkeyPatch, where: str, name: str) -> None:
    """Every ledger the registry builds fails at ``where``."""
    from envsecops.ledger import registry

    real = registry.build_ledger
    monkeypatch.setattr(
        registry, "build_ledger", lambda spec: FaultyLedger(real(spec), where, name)
    )


def _mint_collaborators(monkeypatch: pytest.MonkeyPatch, **changes: Callable[..., Any]) -> None:
    """mint's real collaborators (mint/run.py's Collaborators) with ``changes`` made."""
    from envsecops.cli import mint_build

    real = mint_build.collaborators

    def collaborators(*args: Any, **kwargs: Any) -> Any:
        built = real(*args, **kwargs)
        made = {key: change(built) for key, change in changes.items()}
        return dataclasses.replace(built, **made)

    monkeypatch.setattr(mint_build, "collaborators", collaborators)


def _inject(backend: str, name: str, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from envsecops.cli import attest, verify_build

    if backend == "cataloger":
        _catalogers(monkeypatch, name)
    elif backend.startswith("ledger-"):
        _ledgers(monkeypatch, backend.removeprefix("ledger-"), name)
    elif backend == "signer":
        module: Any = attest if command == "attest" else verify_build
        real_signer = module.build_key_signer
        monkeypatch.setattr(
            module, "build_key_signer", lambda *a: RaisingKeySigner(real_signer(*a), name)
        )
    elif backend == "verifier" and command == "verify":
        monkeypatch.setattr(
            verify_build, "verifier_factory", lambda *a: lambda: RaisingVerifier(name)
        )
    elif backend == "verifier":
        _mint_collaborators(monkeypatch, build_verifier=lambda c: lambda _: RaisingVerifier(name))
    elif backend == "provider":
        _mint_collaborators(
            monkeypatch,
            provider_for=lambda c: lambda p: RaisingProvider(c.provider_for(p), name),
        )
    elif backend == "token-request":
        _mint_collaborators(monkeypatch, request_token=lambda c: _raiser(name))
    elif backend == "token-validate":
        _mint_collaborators(monkeypatch, validate_token=lambda c: _raiser(name))
    else:  # pragma: no cover - a case without an injection is a mistake in the table
        raise AssertionError(backend)


def _prepare(command: str, scene: MintScene, run_cli: RunCli) -> None:
    """What must exist before ``command`` runs: an attestation, a policy, a decision, entries."""
    if command == "attest":
        return
    bag = scene.attest(run_cli)
    scene.write_policy(bag)
    if command == "verify":
        return
    assert scene.verify(run_cli).code == 0
    if command.startswith("audit"):
        scene.record(run_cli)


def _run(command: str, scene: MintScene, run_cli: RunCli) -> Any:
    if command == "attest":
        scene.enter_step("attest")
        return run_cli(
            "attest", "--root", scene.root, "--out", scene.attested, "--signer", "key",
            "--key", scene.key, "--no-syft", "--nonce", NONCE, "--oidc-issuer", scene.issuer.url,
        )  # fmt: skip
    if command == "verify":
        return scene.verify(run_cli)
    if command == "mint":
        scene.enter_step("mint")
        return run_cli(
            "mint", "--decision", scene.decision_dir / "decision.json", "--signer", "key",
            "--key", scene.key, "--oidc-issuer", scene.issuer.url, "--root", scene.root,
            "--no-syft", "--out", scene.out,
        )  # fmt: skip
    policy = scene.decision_dir / "policy.yml"
    if command == "record":
        scene.enter_step("record")
        return run_cli(
            "record", "--decision", scene.decision_dir / "decision.json", "--policy", policy
        )
    action = command.split()[1]
    extra = [scene.decision().decision_id] if action == "why" else []
    return run_cli("audit", action, *extra, "--policy", policy)


def _failed_closed(result: Any) -> None:
    assert result.code >= 1, f"exit 0 after an injected fault:\n{result.out}\n{result.err}"
    assert result.err.strip(), "a failure must say why on stderr"
    assert "Traceback" not in result.out + result.err


def _no_allow(scene: MintScene) -> None:
    path = scene.decision_dir / "decision.json"
    if path.exists():
        decision = Decision.from_json(json.loads(path.read_bytes()))
        assert decision.verdict is not Verdict.ALLOW, "verify left an allow behind"
    output = scene.tmp / "verify-github-output"
    if output.exists():
        outputs = read_file_commands(output.read_text(encoding="utf-8"))
        assert outputs.get("verdict") != "allow", "verify's step output says allow"


def _no_credential(scene: MintScene, result: Any) -> None:
    said = f"exit {result.code}: {result.err[-1500:]}"
    assert not (scene.out / "credential.json").exists(), said
    assert not (scene.out / "credentials.env").exists(), said
    assert not any(name.startswith("AWS_") for name in scene.exported()), said
    for secret in ("aws-secret-access-key", "aws-session-token"):
        assert secret not in scene.outputs()


@pytest.mark.parametrize(("command", "backend", "name"), BACKEND_CASES)
def test_a_failing_backend_never_ends_in_exit_0(
    command: str,
    backend: str,
    name: str,
    scene: MintScene,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _prepare(command, scene, run_cli)
    _inject(backend, name, command, monkeypatch)
    REACHED.clear()
    result = _run(command, scene, run_cli)
    assert REACHED, "the injected fault was reached"
    _failed_closed(result)
    if command == "verify":
        _no_allow(scene)
    if command == "mint":
        _no_credential(scene, result)


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_a_failing_default_branch_fetch_is_a_deny_in_verify(
    name: str, scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify's PolicyLoaders fetch (policy/fetch.py) raising: exit >= 1, no allow."""
    from envsecops.policy import fetch

    _prepare("verify", scene, run_cli)
    calls: list[str] = []

    def failing(repository: str, *_args: Any, **_kwargs: Any) -> Any:
        calls.append(repository)
        raise fault(name)

    monkeypatch.setattr(fetch, "fetch_default_branch_policy", failing)
    result = scene.verify(run_cli, "--policy-source", "default-branch")
    assert calls, "the default-branch fetch was asked for the policy"
    _failed_closed(result)
    _no_allow(scene)


@pytest.mark.parametrize("name", ATTEST_CATALOGER_CASES)
def test_a_failing_cataloger_is_evidence_in_the_bag_and_the_chain_denies(
    name: str, scene: MintScene, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """attest records the failure as a component (its exit 0 is the design: the bag is what
    verify judges); verify, drafting nothing from it, must then deny, never allow."""
    _inject("cataloger", name, "attest", monkeypatch)
    REACHED.clear()
    result = _run("attest", scene, run_cli)
    assert REACHED, "the injected fault was reached"
    assert result.code == 0, result.err
    assert "cataloger injected-fault FAILED" in result.err
    assert "Traceback" not in result.out + result.err
    bag = json.loads((scene.attested / "bag.json").read_bytes())
    failed = [c for c in bag["components"] if "cataloger-failed" in json.dumps(c)]
    assert failed, "the failure is a component of the bag"
    scene.write_policy(Bag.from_json(bag))
    verified = scene.verify(run_cli)
    _failed_closed(verified)
    _no_allow(scene)


def _deep(command: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the first library function ``command`` calls raise ``name``."""
    from envsecops.doctor import run as doctor_run
    from envsecops.pins import engine
    from envsecops.policy import fetch, render, replay, testing
    from envsecops.trust import render as trust_render

    target: tuple[Any, str] = {
        "pin-check": (engine, "check_file"),
        "policy init": (render, "draft_policy"),
        "policy test": (testing, "run_policy_tests"),
        "policy diff": (replay, "replay"),
        "policy propose": (fetch, "fetch_default_branch_policy"),
        "trust-policy": (trust_render, "render_aws"),
        "doctor": (doctor_run, "run_doctor"),
    }[command]
    monkeypatch.setattr(*target, _raiser(name))


def _argv(command: str, scene: MintScene, tmp: Path) -> list[str | Path]:
    bag = scene.attested / "bag.json"
    policy = scene.policy_path
    table: dict[str, list[str | Path]] = {
        "pin-check": ["pin-check", tmp],
        "policy init": ["policy", "init", "--from", bag, "--out", tmp / "new.yml"],
        "policy test": ["policy", "test", tmp, "--policy", policy],
        "policy diff": ["policy", "diff", policy, policy, "--bags", scene.attested],
        "policy propose": [
            "policy", "propose", "--from", bag, "--repository", "octo-org/octo-repo",
            "--api-url", "http://127.0.0.1:9", "--dry-run",
        ],
        "trust-policy": [
            "trust-policy", "aws", "--account-id", "123456789012", "--repos", "octo-org/octo-repo",
            "--gate-workflow", f"octo-org/gate/.github/workflows/gate.yml@{'a' * 40}",
        ],
        "doctor": ["doctor", "--repo", "octo-org/octo-repo", "--api-url", "http://127.0.0.1:9"],
    }  # fmt: skip
    return table[command]


@pytest.mark.parametrize(("command", "name"), DEEP_CASES)
def test_a_fault_deep_inside_a_command_without_a_backend_never_ends_in_exit_0(
    command: str,
    name: str,
    scene: MintScene,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    bag = scene.attest(run_cli)
    scene.write_policy(bag)
    work = tmp_path / "work"
    (work / ".github/workflows").mkdir(parents=True)
    (work / ".github/workflows/ci.yml").write_text(
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n",
        encoding="utf-8",
    )
    (work / "case.yml").write_text("name: a case\n", encoding="utf-8")
    _deep(command, name, monkeypatch)
    REACHED.clear()
    result = run_cli(*_argv(command, scene, work))
    assert REACHED, "the injected fault was reached"
    _failed_closed(result)
    assert "injected fault" in result.err, "the fault was reached (not a usage error first)"
