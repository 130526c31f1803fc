"""Our own release and repository hygiene: release.yml, dependabot.yml, CODEOWNERS, SECURITY.md.

test_dogfood.py runs zizmor (pedantic), check-jsonschema and the shared workflow invariants over
these files; the tests here pin what is specific to each: who may publish, with which grants,
from which job, and that the build is the one tools/dev.py performs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from envsecops.syntax.yaml import MappingNode, Node, SequenceNode, compose_documents, items, scalar
from tests.conftest import ROOT

RELEASE = ROOT / ".github" / "workflows" / "release.yml"
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
CODEOWNERS = ROOT / ".github" / "CODEOWNERS"
SECURITY = ROOT / "SECURITY.md"
ATTEST = "actions/attest-build-provenance@"
PUBLISH = "pypa/gh-action-pypi-publish@"
OWNER = "@envsecops/maintainers"


def _map(node: Node | None) -> dict[str, Node]:
    return {name: value for name, _key, value in items(node)}


def _load(path: Path) -> dict[str, Node]:
    (root,) = compose_documents(path.read_text(encoding="utf-8"))
    return _map(root)


def _grants(job: dict[str, Node]) -> dict[str, str | None]:
    return {name: scalar(value) for name, value in _map(job.get("permissions")).items()}


def _steps(job: dict[str, Node]) -> list[dict[str, Node]]:
    steps = job["steps"]
    assert isinstance(steps, SequenceNode)
    return [_map(step) for step in steps.value]


def _uses(job: dict[str, Node]) -> list[str]:
    return [scalar(step["uses"]) or "" for step in _steps(job) if "uses" in step]


@pytest.fixture(scope="module")
def release() -> dict[str, Node]:
    return _load(RELEASE)


@pytest.fixture(scope="module")
def jobs(release: dict[str, Node]) -> dict[str, dict[str, Node]]:
    return {name: _map(job) for name, job in _map(release["jobs"]).items()}


def test_release_runs_on_version_tags_and_by_hand(release: dict[str, Node]) -> None:
    triggers = _map(release["on"])
    assert set(triggers) == {"push", "workflow_dispatch"}
    push = _map(triggers["push"])
    assert set(push) == {"tags"}
    tags = push["tags"]
    assert isinstance(tags, SequenceNode)
    assert [scalar(t) for t in tags.value] == ["v*"]


def test_release_grants_nothing_by_default(release: dict[str, Node]) -> None:
    top = release["permissions"]
    assert isinstance(top, MappingNode)
    assert top.value == []


def test_release_jobs_and_their_exact_grants(jobs: dict[str, dict[str, Node]]) -> None:
    assert set(jobs) == {"build", "attest", "publish"}
    assert _grants(jobs["build"]) == {"contents": "read"}
    assert _grants(jobs["attest"]) == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    assert _grants(jobs["publish"]) == {"id-token": "write"}


def test_only_tags_are_attested_and_published(jobs: dict[str, dict[str, Node]]) -> None:
    assert "if" not in jobs["build"]
    for name in ("attest", "publish"):
        condition = scalar(jobs[name]["if"]) or ""
        assert "startsWith(github.ref, 'refs/tags/v')" in condition, name
    assert scalar(jobs["attest"]["needs"]) == "build"
    needs = jobs["publish"]["needs"]
    assert isinstance(needs, SequenceNode)
    assert {scalar(n) for n in needs.value} == {"build", "attest"}


def test_publish_is_environment_gated_trusted_publishing(
    jobs: dict[str, dict[str, Node]],
) -> None:
    publish = jobs["publish"]
    environment = _map(publish["environment"])
    assert scalar(environment["name"]) == "pypi"
    assert scalar(environment["url"]) == "https://pypi.org/p/envsecops"
    (step,) = (s for s in _steps(publish) if (scalar(s.get("uses")) or "").startswith(PUBLISH))
    options = _map(step.get("with"))
    # Trusted publishing: no password, no token, no repository override.
    assert set(options) == {"packages-dir"}
    for name, job in jobs.items():
        if name != "publish":
            assert "environment" not in job, name
            assert not any(u.startswith(PUBLISH) for u in _uses(job)), name


def test_attest_covers_every_distribution(jobs: dict[str, dict[str, Node]]) -> None:
    attest = jobs["attest"]
    (step,) = (s for s in _steps(attest) if (scalar(s.get("uses")) or "").startswith(ATTEST))
    assert scalar(_map(step["with"])["subject-path"]) == "dist/*"
    assert not any(u.startswith(ATTEST) for u in _uses(jobs["build"]) + _uses(jobs["publish"]))


def test_no_secrets_anywhere_in_the_release() -> None:
    text = RELEASE.read_text(encoding="utf-8")
    assert not re.search(r"\bsecrets\s*\.", text)
    assert "secrets[" not in text
    assert "github.token" not in text
    assert "GITHUB_TOKEN" not in text


def test_the_build_is_dev_py_build_and_its_artifact_flows_on(
    jobs: dict[str, dict[str, Node]],
) -> None:
    build = jobs["build"]
    runs = [scalar(s["run"]) for s in _steps(build) if "run" in s]
    assert runs == ["python3 tools/dev.py build dist"]
    uploads = [s for s in _steps(build) if "upload-artifact@" in (scalar(s.get("uses")) or "")]
    (upload,) = uploads
    assert scalar(_map(upload["with"])["name"]) == "dist"
    assert scalar(_map(upload["with"])["if-no-files-found"]) == "error"
    for name in ("attest", "publish"):
        (download,) = (
            s for s in _steps(jobs[name]) if "download-artifact@" in (scalar(s.get("uses")) or "")
        )
        assert scalar(_map(download["with"])["name"]) == "dist", name
        assert not any("checkout@" in u for u in _uses(jobs[name])), name


def test_dev_py_build_makes_an_sdist_and_a_wheel_from_it(tmp_path: Path) -> None:
    """The release's build step for real: the venv's setuptools, no network, no `build`."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "dev.py"), "build", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sdist, wheel = sorted(tmp_path.glob("envsecops-*.tar.gz")), sorted(tmp_path.glob("*.whl"))
    assert len(sdist) == 1, result.stdout
    assert len(wheel) == 1, result.stdout
    with zipfile.ZipFile(wheel[0]) as archive:
        names = set(archive.namelist())
    assert "envsecops/schemas/policy.v1.json" in names
    assert "envsecops/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)
    with tarfile.open(sdist[0]) as archive:
        members = {m.split("/", 1)[-1] for m in archive.getnames()}
    assert {"pyproject.toml", "LICENSE", "src/envsecops/__init__.py"} <= members


def test_dependabot_covers_pip_and_actions_weekly_with_a_cooldown() -> None:
    config = _load(DEPENDABOT)
    assert scalar(config["version"]) == "2"
    updates = config["updates"]
    assert isinstance(updates, SequenceNode)
    seen = {}
    for node in updates.value:
        update = _map(node)
        ecosystem = scalar(update["package-ecosystem"])
        seen[ecosystem] = update
        assert scalar(_map(update["schedule"])["interval"]) == "weekly", ecosystem
        days = scalar(_map(update["cooldown"])["default-days"])
        assert days is not None
        assert int(days) >= 7, ecosystem
        assert "insecure-external-code-execution" not in update, ecosystem
    assert set(seen) == {"pip", "github-actions"}
    directories = seen["github-actions"]["directories"]
    assert isinstance(directories, SequenceNode)
    assert {scalar(d) for d in directories.value} == {"/", "/actions/*"}


def _codeowners() -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {}
    for line in CODEOWNERS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *owners = line.split()
            rules[pattern] = owners
    return rules


@pytest.mark.parametrize(
    "path",
    [
        "/src/envsecops/schemas/",
        "/actions/",
        "/action.yml",
        "/.github/workflows/",
        "/requirements/",
        "/.github/CODEOWNERS",
        "/.github/dependabot.yml",
        "/SECURITY.md",
    ],
)
def test_codeowners_guards_the_trust_paths(path: str) -> None:
    assert _codeowners().get(path) == [OWNER]


def test_codeowners_names_only_paths_that_exist() -> None:
    rules = _codeowners()
    assert rules
    for pattern, owners in rules.items():
        assert pattern.startswith("/"), pattern
        assert "*" not in pattern, pattern
        assert (ROOT / pattern.strip("/")).exists(), f"CODEOWNERS names a missing {pattern}"
        assert owners == [OWNER], pattern


@pytest.mark.parametrize(
    "needle",
    [
        "private vulnerability reporting",
        "/security/advisories/new",
        "## Scope",
        "Out of scope",
        "## Supported versions",
        "gh attestation verify dist/*.whl --repo envsecops/envsecops",
        ".github/workflows/gate.yml",
        "envsecops trust-policy aws|gcp",
        "`pin-check`",
        "`attest-runner`",
        "`verify-bag`",
        "`record-decision`",
        "`mint-creds`",
        ".github/workflows/release.yml",
    ],
)
def test_security_policy_says(needle: str) -> None:
    assert needle in SECURITY.read_text(encoding="utf-8")


def test_security_policy_names_files_that_exist() -> None:
    text = SECURITY.read_text(encoding="utf-8")
    named = re.findall(r"`((?:\.github|schemas|requirements|docs)/[\w./-]+\.\w+)`", text)
    assert ".github/workflows/gate.yml" in named
    for path in named:
        assert (ROOT / path).exists(), path
