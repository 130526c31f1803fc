"""The runner cataloger and runner facts, on real temporary trees standing for a runner's disk."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pytest

from envsecops.bag.interface import CatalogContext
from envsecops.bag.runner import (
    UNKNOWN_DOCKER_IMAGE,
    FileProblem,
    Runner,
    parse_os_release,
    read_runner_file,
    runner_facts,
)
from envsecops.canonical import digest_bytes
from envsecops.model.bag import Component, Status

OS_RELEASE = 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n'
IMAGEDATA = [
    {"group": "Operating System", "detail": "Ubuntu\n24.04.1\nLTS"},
    {
        "group": "Runner Image",
        "detail": "Image: ubuntu-24.04\nVersion: 20250105.1.0\nIncluded Software: "
        "https://github.com/actions/runner-images/blob/ubuntu24/20250105.1/images/ubuntu/"
        "Ubuntu2404-Readme.md\nImage Release: https://github.com/actions/runner-images/"
        "releases/tag/ubuntu24%2F20250105.1",
    },
]
CLAIMS = {
    "repository": "octo-org/octo-repo",
    "run_id": "22259804324",
    "run_attempt": "2",
    "sha": "c040cae0f0dc81641728557b80f09cfa23b83fe5",
    "ref": "refs/heads/main",
    "workflow_ref": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "runner_environment": "github-hosted",
}
MATCHING_ENV = {
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "GITHUB_RUN_ID": "22259804324",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_SHA": "c040cae0f0dc81641728557b80f09cfa23b83fe5",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_WORKFLOW_REF": "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
    "RUNNER_ENVIRONMENT": "github-hosted",
}


def _write(root: Path, runner_path: str, content: str | bytes) -> Path:
    path = root / runner_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.fixture
def hosted(tmp_path: Path) -> Path:
    """A tree like a GitHub-hosted Ubuntu image: os-release as a relative link, imagedata."""
    _write(tmp_path, "/usr/lib/os-release", OS_RELEASE)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").symlink_to("../usr/lib/os-release")
    _write(tmp_path, "/imagegeneration/imagedata.json", json.dumps(IMAGEDATA))
    return tmp_path


def _context(
    root: Path, environ: dict[str, str], claims: dict[str, str] | None = None
) -> CatalogContext:
    return CatalogContext(environ=environ, root=root, claims=claims or {})


def _by_name(context: CatalogContext) -> dict[str, Component]:
    return {c.name: c for c in Runner().catalog(context)}


def test_os_release_quoting_is_undone() -> None:
    parsed = parse_os_release('ID=ubuntu\nVERSION_ID="24.04"\nNAME=\'A "b"\'\n# x=1\nbad line\n')
    assert parsed == {"ID": "ubuntu", "VERSION_ID": "24.04", "NAME": 'A "b"'}


def test_facts_say_where_each_came_from_without_claims(hosted: Path) -> None:
    env = {
        "ImageOS": "ubuntu24",
        "ImageVersion": "20250105.1.0",
        "RUNNER_ENVIRONMENT": "github-hosted",
    }
    facts = runner_facts(_context(hosted, env))
    assert dict(facts.facts) == {
        "os": "ubuntu",
        "os_version": "24.04",
        "arch": platform.machine(),
        "kernel": platform.release(),
        "image_os": "ubuntu24",
        "image_version": "20250105.1.0",
        "runner_environment": "github-hosted",
    }
    assert dict(facts.origins) == {
        "os": "file",
        "os_version": "file",
        "arch": "platform",
        "kernel": "platform",
        "image_os": "env",
        "image_version": "file",
        "runner_environment": "env",
    }


def test_runner_environment_comes_from_the_claims(hosted: Path) -> None:
    facts = runner_facts(_context(hosted, {"RUNNER_ENVIRONMENT": "self-hosted"}, CLAIMS))
    assert facts.get("runner_environment") == "github-hosted"
    assert dict(facts.origins)["runner_environment"] == "oidc"


def test_no_mismatch_when_env_agrees_with_claims(hosted: Path) -> None:
    names = _by_name(_context(hosted, MATCHING_ENV, CLAIMS))
    assert not [n for n in names if n.startswith("env-claim-mismatch:")]


def test_env_that_disagrees_with_a_claim_is_reported(hosted: Path) -> None:
    env = {
        **MATCHING_ENV,
        "GITHUB_SHA": "0" * 40,
        "RUNNER_ENVIRONMENT": "self-hosted",
        "GITHUB_REPOSITORY": "evil/repo",
    }
    names = _by_name(_context(hosted, env, CLAIMS))
    mismatched = sorted(n for n in names if n.startswith("env-claim-mismatch:"))
    assert mismatched == [
        "env-claim-mismatch:GITHUB_REPOSITORY",
        "env-claim-mismatch:GITHUB_SHA",
        "env-claim-mismatch:RUNNER_ENVIRONMENT",
    ]
    sha = names["env-claim-mismatch:GITHUB_SHA"]
    assert sha.status is Status.OK
    assert sha.prop("mismatch") == "true"
    assert sha.prop("claim") == "sha"
    assert sha.prop("env_digest") == digest_bytes(b"0" * 40)
    assert sha.prop("claim_digest") == digest_bytes(CLAIMS["sha"].encode())
    assert sha.prop("env_value") == "0" * 40
    assert not sha.volatile


def test_an_absent_variable_is_not_a_mismatch(hosted: Path) -> None:
    names = _by_name(_context(hosted, {}, CLAIMS))
    assert not [n for n in names if n.startswith("env-claim-mismatch:")]


def test_evidence_files_are_digested(hosted: Path) -> None:
    names = _by_name(_context(hosted, {"ImageVersion": "20250105.1.0"}))
    release = names["os-release"]
    assert release.digest == digest_bytes(OS_RELEASE.encode())
    assert release.path == "/etc/os-release"
    assert release.version == "24.04"
    image = names["imagedata.json"]
    assert image.prop("image") == "ubuntu-24.04"
    assert image.version == "20250105.1.0"
    assert "env-file-mismatch:ImageVersion" not in names


def test_image_version_env_that_disagrees_with_the_file_is_reported(hosted: Path) -> None:
    context = _context(hosted, {"ImageVersion": "20990101.1.0"})
    mismatch = _by_name(context)["env-file-mismatch:ImageVersion"]
    assert mismatch.prop("mismatch") == "true"
    assert mismatch.prop("file_value") == "20250105.1.0"
    assert runner_facts(context).get("image_version") == "20250105.1.0"


def test_garbage_imagedata_is_unreadable(hosted: Path) -> None:
    _write(hosted, "/imagegeneration/imagedata.json", "{not json")
    image = _by_name(_context(hosted, {}))["imagedata.json"]
    assert image.status is Status.UNREADABLE
    assert image.digest == digest_bytes(b"{not json")


def test_absolute_links_resolve_inside_the_root(tmp_path: Path) -> None:
    _write(tmp_path, "/usr/lib/os-release", "ID=alpine\nVERSION_ID=3.20.3\n")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").symlink_to("/usr/lib/os-release")
    assert runner_facts(_context(tmp_path, {})).get("os") == "alpine"


def test_missing_os_release_is_recorded(tmp_path: Path) -> None:
    release = _by_name(_context(tmp_path, {}))["os-release"]
    assert release.status is Status.UNREADABLE
    assert "os" not in dict(runner_facts(_context(tmp_path, {})).facts)


def test_a_fifo_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    os.mkfifo(tmp_path / "etc/os-release")
    with pytest.raises(FileProblem) as caught:
        read_runner_file(_context(tmp_path, {}), "/etc/os-release")
    assert caught.value.status is Status.SPECIAL


def test_a_link_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").symlink_to("os-release")
    with pytest.raises(FileProblem) as caught:
        read_runner_file(_context(tmp_path, {}), "/etc/os-release")
    assert caught.value.status is Status.LOOP


def test_a_docker_container_says_its_image_is_unknown(hosted: Path) -> None:
    _write(hosted, "/.dockerenv", "")
    context = _context(hosted, {})
    assert runner_facts(context).get("container_image") == UNKNOWN_DOCKER_IMAGE
    assert _by_name(context)["container"].prop("runtime") == "docker"


def test_a_podman_container_names_its_image(hosted: Path) -> None:
    _write(
        hosted,
        "/run/.containerenv",
        'engine="podman-4.9"\nimage="docker.io/library/ubuntu:24.04"\nimageid="abc123"\n',
    )
    facts = runner_facts(_context(hosted, {}))
    assert facts.get("container_image") == "docker.io/library/ubuntu:24.04@abc123"
    assert dict(facts.origins)["container_image"] == "file"


def test_this_machine_has_facts() -> None:
    facts = runner_facts(CatalogContext(environ={}, root=Path("/")))
    assert facts.get("arch") == platform.machine()
    assert facts.get("kernel") == platform.release()
