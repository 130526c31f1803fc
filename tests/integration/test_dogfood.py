"""The project holds itself to its own rules: its workflows, actions and policy are clean.

External checkers (check-jsonschema, zizmor) run as subprocesses with the network shut:
Python children get a ``sitecustomize`` that refuses every non-loopback connection and name
lookup (a positive control proves it is active), and every child gets proxies pointing at a
closed loopback port. check-jsonschema's built-in schemas are package data read through
``importlib.resources`` (``BuiltinSchemaLoader.get_schema_retrieval_uri`` returns None and the
vendored GitHub schemas hold no remote ``$ref``), and zizmor's ``--offline`` disables every
online audit and remote fetch, so neither needs the network; the guard makes sure of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envsecops.pins.registry import RULES
from envsecops.policy.pins import load_pins_policy
from envsecops.syntax.yaml import MappingNode, Node, SequenceNode, compose_documents, items, scalar
from tests.conftest import ROOT, CliResult

RunCli = Callable[..., CliResult]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTIONS = [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]
POLICY = ROOT / ".github" / "envsecops.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
# `bench/pin_check.py` builds a deliberately unpinned corpus there (gitignored); pin-check
# does not read .gitignore, so the self-check leaves it out explicitly.
BENCH_WORK = "bench/.work/*"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
# The only write grants any job holds, each justified in the workflow beside it.
WRITE_GRANTS = {
    ("ci.yml", "pin-check"): {"security-events"},
    # Our own runner's bag: keyless attestation and decision, and the job binding.
    ("ci.yml", "bag"): {"id-token"},
    # The gate's job exchanges its OIDC token for the attestation, the decision and the mint.
    ("gate.yml", "gate"): {"id-token"},
    # The release signs its provenance (Sigstore, stored as an attestation) and publishes to
    # PyPI with trusted publishing: OIDC in both, no stored secret.
    ("release.yml", "attest"): {"id-token", "attestations"},
    ("release.yml", "publish"): {"id-token"},
}

GUARD = '''\
"""Installed by tests/integration/test_dogfood.py: this process may only reach loopback."""
import ipaddress
import socket


def _local(host):
    if host in (None, "", "localhost") or isinstance(host, bytes) and host == b"localhost":
        return True
    try:
        text = host.decode() if isinstance(host, bytes) else str(host)
        return ipaddress.ip_address(text.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(what):
    raise ConnectionRefusedError(f"dogfood guard: {what} is not loopback")


_connect, _connect_ex, _getaddrinfo = (
    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
)


def connect(self, address):
    if isinstance(address, tuple) and not _local(address[0]):
        _refuse(address)
    return _connect(self, address)


def connect_ex(self, address):
    if isinstance(address, tuple) and not _local(address[0]):
        _refuse(address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if not _local(host):
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = (
    connect, connect_ex, getaddrinfo
)
'''


@pytest.fixture(scope="module")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for child processes: the socket guard, and proxies that go nowhere."""
    guard = tmp_path_factory.mktemp("guard")
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    closed = "http://127.0.0.1:9"
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    env.update(
        PYTHONPATH=str(guard),
        HTTP_PROXY=closed,
        HTTPS_PROXY=closed,
        ALL_PROXY=closed,
        ZIZMOR_OFFLINE="1",
        NO_COLOR="1",
    )
    return env


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def _walk(node: Node) -> Iterator[tuple[str, Node]]:
    """Every (key, value) pair in a YAML tree."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, MappingNode):
            for name, _key, value in items(current):
                yield name, value
                stack.append(value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)


def _roots(path: Path) -> list[Node]:
    return compose_documents(path.read_text(encoding="utf-8"))


def test_the_project_has_workflows_and_actions() -> None:
    assert {"ci.yml", "gate.yml", "release.yml"} <= {p.name for p in WORKFLOWS}
    assert DEPENDABOT.is_file()
    names = {p.relative_to(ROOT).as_posix() for p in ACTIONS}
    assert {"action.yml", "actions/pin-check/action.yml"} <= names
    assert all(p.is_file() for p in ACTIONS)


def test_subprocess_guard_refuses_the_network(offline_env: dict[str, str]) -> None:
    probe = "import socket; socket.create_connection(('192.0.2.1', 443), timeout=2)"
    result = _run([sys.executable, "-c", probe], offline_env)
    assert result.returncode != 0
    assert "dogfood guard" in result.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-actions", ACTIONS),
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.dependabot", [DEPENDABOT]),
    ],
    ids=["actions", "workflows", "dependabot"],
)
def test_schemas_accept_our_files(
    offline_env: dict[str, str], schema: str, files: list[Path]
) -> None:
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema]
    result = _run([*argv, *map(str, files)], offline_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_schema_check_rejects_a_broken_action(offline_env: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    broken.write_text("name: x\ndescription: y\nruns:\n  using: composite\n", encoding="utf-8")
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-actions"]
    result = _run([*argv, str(broken)], offline_env)
    assert result.returncode == 1, result.stdout + result.stderr


def _zizmor(env: dict[str, str], *files: Path) -> tuple[int, list[dict[str, object]], str]:
    argv = [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", "--no-config"]
    argv += ["--no-ignores", "--format", "json", "--no-progress", *map(str, files)]
    result = _run(argv, env)
    findings: list[dict[str, object]] = json.loads(result.stdout or "null") or []
    return result.returncode, findings, result.stderr


def test_zizmor_pedantic_finds_nothing(offline_env: dict[str, str]) -> None:
    code, findings, err = _zizmor(offline_env, *WORKFLOWS, *ACTIONS, DEPENDABOT)
    assert findings == [], json.dumps(findings, indent=2)
    assert code == 0, err


def test_zizmor_control_wants_a_dependabot_cooldown(
    offline_env: dict[str, str], tmp_path: Path
) -> None:
    """zizmor really audits dependabot.yml: without our cooldown it reports one."""
    config = tmp_path / ".github" / "dependabot.yml"
    config.parent.mkdir(parents=True)
    text = DEPENDABOT.read_text(encoding="utf-8")
    config.write_text(re.sub(r"(?m)^ +cooldown:\n +default-days: \d+\n", "", text), "utf-8")
    assert "cooldown:" not in config.read_text(encoding="utf-8")
    code, findings, _err = _zizmor(offline_env, config)
    assert code != 0
    assert "dependabot-cooldown" in {f["ident"] for f in findings}


def test_zizmor_control_finds_the_classics(offline_env: dict[str, str], tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "bad.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.issue.title }}"\n',
        encoding="utf-8",
    )
    code, findings, _err = _zizmor(offline_env, workflow)
    assert code != 0
    assert {"unpinned-uses", "template-injection"} <= {f["ident"] for f in findings}


def test_policy_file_loads_with_only_the_fixture_exclusion() -> None:
    policy = load_pins_policy(POLICY, ".github/envsecops.yml", frozenset(RULES))
    assert policy.exclude == ("tests/fixtures/**",)
    assert policy.exceptions == ()


def test_pin_check_finds_nothing_in_the_project(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = run_cli(
        "pin-check", "--format", "json", "--fail-on", "info", "--exclude", BENCH_WORK, "."
    )
    report = json.loads(result.out)
    assert report["findings"] == [], json.dumps(report["findings"], indent=2)
    assert result.code == 0, result.err
    assert report["policy"] == ".github/envsecops.yml"
    checked = {entry["path"] for entry in report["files"]}
    ours = {p.relative_to(ROOT).as_posix() for p in (*WORKFLOWS, *ACTIONS)}
    assert ours <= checked
    for skipped in report["skipped"]:
        if "pins.exclude" in skipped["reason"]:
            assert skipped["path"].startswith("tests/fixtures/"), skipped


@pytest.mark.parametrize("path", [*WORKFLOWS, *ACTIONS], ids=lambda p: p.relative_to(ROOT))
def test_no_expression_inside_run(path: Path) -> None:
    """Inputs and contexts reach scripts only through `env:` (no template injection)."""
    for root in _roots(path):
        for name, value in _walk(root):
            text = scalar(value)
            if name == "run" and text is not None:
                assert "${{" not in text, f"{path.name}: expression in run: {text!r}"


@pytest.mark.parametrize("path", [*WORKFLOWS, *ACTIONS], ids=lambda p: p.relative_to(ROOT))
def test_every_uses_is_a_sha_with_its_version(path: Path) -> None:
    """Independent of pin-check's own rules: full SHA and a `# vX.Y.Z` comment, or local."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for root in _roots(path):
        for name, value in _walk(root):
            text = scalar(value)
            if name != "uses" or text is None or text.startswith("./"):
                continue
            assert SHA_PIN.fullmatch(text), f"{path.name}: {text} is not pinned to a full SHA"
            line = lines[value.start_mark.line]
            assert VERSION_COMMENT.search(line), f"{path.name}: {line.strip()} lacks # vX.Y.Z"


def _mapping(node: Node | None) -> dict[str, Node]:
    return {name: value for name, _key, value in items(node)}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_least_privilege_and_bounded(path: Path) -> None:
    """`permissions: {}` on top, per-job grants, timeouts, concurrency, no persisted token."""
    (root,) = _roots(path)
    top = _mapping(root)
    assert isinstance(top.get("permissions"), MappingNode), "top-level permissions: {}"
    assert top["permissions"].value == [], "top-level permissions must be {}"
    assert scalar(_mapping(top.get("concurrency")).get("group")), "no concurrency group"
    for job_id, job in _mapping(top["jobs"]).items():
        fields = _mapping(job)
        assert scalar(fields.get("timeout-minutes")), f"{job_id}: no timeout-minutes"
        permissions = fields.get("permissions")
        assert isinstance(permissions, MappingNode), f"{job_id}: no job-level permissions"
        grants = {name: scalar(value) for name, value in _mapping(permissions).items()}
        writes = {name for name, level in grants.items() if level != "read"}
        assert writes == WRITE_GRANTS.get((path.name, job_id), set()), job_id
        for step in (_mapping(s) for s in fields["steps"].value):
            if "actions/checkout@" in (scalar(step.get("uses")) or ""):
                options = _mapping(step.get("with"))
                assert scalar(options.get("persist-credentials")) == "false", job_id
                assert grants.get("contents") == "read", f"{job_id}: checkout needs contents"


def test_ci_runs_the_readme_test_command_on_both_pythons() -> None:
    (root,) = _roots(ROOT / ".github" / "workflows" / "ci.yml")
    test_job = _mapping(_mapping(_mapping(root)["jobs"])["test"])
    matrix = _mapping(_mapping(test_job["strategy"])["matrix"])
    assert [scalar(v) for v in matrix["python"].value] == ["3.11", "3.13"]
    runs = [scalar(v) for n, v in _walk(test_job["steps"]) if n == "run"]
    assert runs == ["python3 tools/dev.py test"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python3 tools/dev.py test" in readme
