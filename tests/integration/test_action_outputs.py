"""Every composite action declares exactly the outputs its code sets, and is packaged safely.

What a stage can write to ``$GITHUB_OUTPUT`` comes from the source, not from a list kept here:
pin-check's script sets its outputs itself (``set_output NAME`` in actions/_lib/pin-check.sh);
the other scripts ``exec`` envsecops, whose modules name theirs in constants
(``envsecops.attest.outputs.OUTPUT_NAMES``, ``envsecops.cli.verify.OUTPUT_NAMES``,
``envsecops.cli.record.OUTPUT_NAMES``, ``envsecops.mint.export.OUTPUT_NAMES`` plus each
provider's ``EXPORTS`` as outputs). Each stage's action.yml must declare exactly that set; the
top-level action may re-export a subset, and each of its ``steps.<id>.outputs.<name>`` must exist.
Then the scripts run, chained as the gate chains them, under a simulated runner (the existing
tests' helpers: a ready venv, the GitHub files, a key signer, moto and a loopback issuer for
mint), and what lands in ``$GITHUB_OUTPUT`` must be declared and hold the always-set outputs.
Last, the README's workflow examples: least privilege, pinned as ci.yml pins, declared names.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from envsecops.attest import outputs as attest_outputs
from envsecops.attest.key import generate_key
from envsecops.cli import record as record_cli
from envsecops.cli import verify as verify_cli
from envsecops.creds import aws, gcp, vault
from envsecops.mint import export
from envsecops.model.bag import Bag
from envsecops.policy.render import render_policy
from envsecops.syntax.yaml import Node, compose_documents, scalar, sequence
from tests.conftest import ROOT
from tests.integration.action_runner import ready_venv as _ready_venv
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    MintScene,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.mint_action_support import decide_on_this_machine, through_the_script
from tests.integration.test_action_script import _mapping
from tests.integration.test_verify_action import JOB, NONCE, PINNED, _run, _steps
from tests.unit.gh.runner_model import read_file_commands

LIB = ROOT / "actions" / "_lib"
STAGES = ("pin-check", "attest-runner", "verify-bag", "mint-creds", "record-decision")
ACTIONS = ("action.yml", *(f"actions/{stage}/action.yml" for stage in STAGES))
CREDENTIAL_OUTPUTS = frozenset(
    export.output_name(variable) for module in (aws, gcp, vault) for variable in module.EXPORTS
)
"""mint-creds' outputs with ``output-credentials: true``: each provider's exports, renamed."""
MODULES = {
    "attest/outputs.py": attest_outputs.OUTPUT_NAMES,
    "cli/verify.py": verify_cli.OUTPUT_NAMES,
    "cli/record.py": record_cli.OUTPUT_NAMES,
    "mint/export.py": export.OUTPUT_NAMES,
}
"""Every module of envsecops that sets a step output, and the names it declares."""
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
STEP_OUTPUT = re.compile(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")
RUN = re.compile(r'^bash -- "\$GITHUB_ACTION_PATH/(?:\.\./|actions/)_lib/([a-z-]+\.sh)" ')


def _script_outputs(script: str) -> frozenset[str]:
    """The outputs a script sets itself: its ``set_output NAME`` calls."""
    text = (LIB / script).read_text(encoding="utf-8")
    return frozenset(re.findall(r"^\s*set_output ([a-z-]+) ", text, flags=re.MULTILINE))


WRITES = {
    "pin-check.sh": _script_outputs("pin-check.sh"),
    "attest-runner.sh": frozenset(attest_outputs.OUTPUT_NAMES),
    "verify-bag.sh": frozenset(verify_cli.OUTPUT_NAMES),
    "record-decision.sh": frozenset(record_cli.OUTPUT_NAMES),
    "mint-creds.sh": frozenset(export.OUTPUT_NAMES) | CREDENTIAL_OUTPUTS,
}
"""Every output each stage's step can set."""
ALWAYS = {
    **WRITES,
    "record-decision.sh": frozenset({"ledger-receipts"}),  # digest: once every ledger recorded
    "mint-creds.sh": frozenset(export.OUTPUT_NAMES),  # the credentials: only when asked
}
"""The outputs each stage sets whenever it ran to the end."""


def _script_of(step: dict[str, Node]) -> str:
    match = RUN.match(scalar(step.get("run")) or "")
    assert match, f"step {scalar(step.get('id'))} does not run an actions/_lib script"
    return match.group(1)


def _values(action: dict[str, Node]) -> dict[str, str]:
    return {n: scalar(_mapping(v)["value"]) or "" for n, v in _mapping(action["outputs"]).items()}


def test_the_output_names_come_from_the_source() -> None:
    assert WRITES["pin-check.sh"] == {"findings", "sarif-file", "json-file"}
    assert {"aws-access-key-id", "cloudsdk-auth-access-token", "vault-token"} <= CREDENTIAL_OUTPUTS
    for script in set(WRITES) - {"pin-check.sh"}:
        assert not _script_outputs(script), f"{script} execs envsecops, which sets the outputs"
    for names in WRITES.values():
        assert all(KEBAB.match(name) for name in names), names


def test_every_module_that_sets_an_output_names_it_in_its_constant() -> None:
    package = ROOT / "src" / "envsecops"
    setters = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if rel == "gh/commands.py" or rel.startswith("demo/"):
            continue  # the definition; the demo plays the runner, it is no action step
        calls = [
            node
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "set_output"
        ]
        if not calls:
            continue
        setters.add(rel)
        assert rel in MODULES, f"{rel} sets step outputs without an OUTPUT_NAMES constant"
        for call in calls:
            name = call.args[1]
            if isinstance(name, ast.Constant):
                assert name.value in MODULES[rel], f"{rel}: {name.value!r} is not declared"
    assert setters == set(MODULES)


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_declares_exactly_the_outputs_its_code_sets(stage: str) -> None:
    action, (step,) = _steps(f"actions/{stage}/action.yml")
    step_id = scalar(step["id"])
    script = _script_of(step)
    assert script == f"{stage}.sh"
    for name, value in _values(action).items():
        assert value == f"${{{{ steps.{step_id}.outputs.{name} }}}}", name
    assert set(_values(action)) == WRITES[script]


def test_every_step_output_the_gate_reads_exists() -> None:
    action, steps = _steps("action.yml")
    writes = {scalar(step["id"]): WRITES[_script_of(step)] for step in steps}
    assert list(writes) == ["pin-check", "attest", "verify", "record", "mint"]
    for name, value in _values(action).items():
        match = re.fullmatch(r"\$\{\{ " + STEP_OUTPUT.pattern + r" \}\}", value)
        assert match, f"output {name} is not one step output: {value}"
        step_id, output = match.groups()
        assert output in writes.get(step_id, ()), f"output {name}: {value} is never set"
    # The same for every `steps.<id>.outputs.<name>` in the file: env: and if: included.
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for step_id, output in STEP_OUTPUT.findall(text):
        assert output in writes.get(step_id, ()), f"steps.{step_id}.outputs.{output}"


@pytest.mark.parametrize("rel", ACTIONS)
def test_inputs_are_kebab_case_branding_is_shield_and_uses_are_pinned(rel: str) -> None:
    action, steps = _steps(rel)
    for name in (*_mapping(action["inputs"]), *_mapping(action["outputs"])):
        assert KEBAB.match(name), f"{rel}: {name} is not kebab-case"
    branding = _mapping(action["branding"])
    assert scalar(branding["icon"]) == "shield"
    assert scalar(_mapping(action["runs"])["using"]) == "composite"
    for step in steps:
        uses = scalar(step.get("uses"))
        if uses is not None:
            assert re.search(r"@[0-9a-f]{40}$", uses), f"{rel}: {uses} is not pinned to a SHA"


@pytest.mark.parametrize("rel", ACTIONS)
def test_inputs_reach_run_only_through_env(rel: str) -> None:
    action, steps = _steps(rel)
    used: set[str] = set()
    for step in steps:
        run = scalar(step.get("run")) or ""
        assert "${{" not in run, f"{rel}: an expression inside run: ({run})"
        for key, node in step.items():
            if key == "env":
                values = [scalar(v) or "" for v in _mapping(node).values()]
                used |= {m for v in values for m in re.findall(r"inputs\.([a-z0-9-]+)", v)}
            elif key not in {"if", "name"}:
                assert "inputs." not in (scalar(node) or ""), f"{rel}: inputs in {key}:"
    assert used == set(_mapping(action["inputs"])), f"{rel}: inputs without an env: mapping"


def _written(path: Path, script: str) -> dict[str, str]:
    """The outputs the step wrote; declared, and the always-set ones among them."""
    written = read_file_commands(path.read_text(encoding="utf-8"))
    assert set(written) <= WRITES[script], f"{script} set an undeclared output"
    assert ALWAYS[script] <= set(written), f"{script} left an always-set output unset"
    return written


@pytest.mark.slow
def test_the_stage_scripts_chained_write_only_declared_outputs(tmp_path: Path) -> None:
    """pin-check, attest, verify and record, each by its script, as the gate chains them."""
    key = generate_key(tmp_path / "signing.pem")
    pem = key.private_path.read_text(encoding="utf-8")
    workspace = tmp_path / "workspace"
    (workspace / ".github" / "workflows").mkdir(parents=True)
    (workspace / ".github" / "workflows" / "ci.yml").write_text(PINNED, encoding="utf-8")
    (tmp_path / "action").mkdir()
    _ready_venv(tmp_path / "action")
    job = {**JOB, "GITHUB_WORKSPACE": str(workspace)}

    def step(script: str, inputs: dict[str, str], code: int = 0) -> dict[str, str]:
        output = tmp_path / f"{script}.output"
        result, _action, _ = _run(
            tmp_path, LIB / script, inputs, output=output, extra_env=job, cwd=workspace
        )
        assert result.returncode == code, result.stdout + result.stderr
        return _written(output, script)

    pins = step("pin-check.sh", {"format": "text"})
    assert pins["findings"] == "0"
    attested = step("attest-runner.sh", {"signer": "key", "signing-key": pem, "nonce": NONCE})
    bag = Bag.from_json(json.loads(Path(attested["bag"]).read_bytes()))
    policy = render_policy(bag, name="outputs")
    (workspace / ".github" / "envsecops.yml").write_text(policy, encoding="utf-8")
    shared = {"signer": "key", "signing-key": pem, "syft": "false"}
    verified = step(
        "verify-bag.sh",
        {
            **{name: attested[name] for name in ("attestation", "bag", "nonce")},
            **shared,
            "policy-source": "workspace",
            "pin-report": pins["json-file"],
        },
    )
    assert verified["verdict"] == "allow"
    recorded = step(
        "record-decision.sh",
        {
            "decision": verified["decision"],
            "pin-report": pins["json-file"],
            "policy": verified["policy-file"],
            "ledger": f"file:{tmp_path / 'ledger.jsonl'}",
        },
    )
    assert set(recorded) == WRITES["record-decision.sh"], "every ledger recorded: digest too"


@pytest.mark.slow
def test_the_mint_script_writes_only_declared_outputs(
    scene: MintScene, run_cli: RunCli, tmp_path: Path
) -> None:
    decide_on_this_machine(scene, run_cli, tmp_path)
    inputs = {
        "provider": "aws",
        "decision": str(scene.decision_dir / "decision.json"),
        "signer": "key",
        "signing-key": scene.key.read_text(encoding="utf-8"),
        "oidc-issuer": scene.issuer.url,
        "output-credentials": "true",
    }
    result = through_the_script(scene, tmp_path, inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = scene.outputs()
    assert set(outputs) <= WRITES["mint-creds.sh"]
    assert set(outputs) == set(export.OUTPUT_NAMES) | {
        export.output_name(variable) for variable in aws.EXPORTS
    }


def _readme_jobs() -> list[tuple[str, dict[str, Node]]]:
    """The README's workflow examples: each ``yaml`` block with jobs, as text and parsed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    return [(b, _mapping(compose_documents(b)[0])) for b in blocks if "\njobs:" in f"\n{b}"]


def test_the_readme_examples_are_pinned_least_privilege_and_use_declared_names() -> None:
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    pins = {a: (sha, tag) for a, sha, tag in re.findall(r"uses: (\S+)@([0-9a-f]{40}) # (v\S+)", ci)}
    ours = {"envsecops/envsecops": "action.yml"} | {
        f"envsecops/envsecops/actions/{stage}": f"actions/{stage}/action.yml" for stage in STAGES
    }
    grants = {"contents": "read", "id-token": "write", "security-events": "write"}
    seen: set[str] = set()
    for block, root in _readme_jobs():
        assert not _mapping(root["permissions"]), "every example starts from permissions: {}"
        for job in (_mapping(j) for j in _mapping(root["jobs"]).values()):
            granted = {n: scalar(v) for n, v in _mapping(job["permissions"]).items()}
            assert granted.items() <= grants.items(), granted
            declared: dict[str, frozenset[str]] = {}
            for step in (_mapping(s) for s in sequence(job["steps"])):
                uses = scalar(step.get("uses")) or ""
                action, _, ref = uses.partition("@")
                if action in ours:
                    seen.add(action)
                    assert f"uses: {uses} # vX.Y.Z\n" in block, uses
                    assert ref == "<full commit sha>", uses
                    meta = _steps(ours[action])[0]
                    assert set(_mapping(step.get("with"))) <= set(_mapping(meta["inputs"]))
                    if "id" in step:
                        declared[scalar(step["id"]) or ""] = frozenset(_values(meta))
                elif action in pins:
                    assert ref == pins[action][0], f"{uses}: not the pin of ci.yml"
                    assert f"uses: {uses} # {pins[action][1]}\n" in block, uses
                elif uses:
                    assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{uses} is not pinned"
            for step_id, output in STEP_OUTPUT.findall(block):
                if step_id in declared:
                    assert output in declared[step_id], f"steps.{step_id}.outputs.{output}"
    assert seen == set(ours), f"no README example for {set(ours) - seen}"
