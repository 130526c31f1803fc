"""`unpinned-docker-run`: images run or pulled in scripts, option parsing, local builds."""

from __future__ import annotations

import pytest

from envsecops.model import Confidence, Finding
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.unpinned_docker_run import UNPINNED_DOCKER_RUN, UnpinnedDockerRun
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, load_cases
from tests.unit.pins.script_fixtures import assert_script_case

CASES = load_cases("unpinned-docker-run")
DIGEST = "beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d"


def _run(*lines: str) -> list[Finding]:
    body = "".join(f"          {line}\n" for line in lines)
    text = f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n      - run: |\n{body}"
    return run_check(UnpinnedDockerRun(), FileKind.WORKFLOW, text)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_script_case(case, UnpinnedDockerRun())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, UnpinnedDockerRun) for check in CHECKS) == 1
    assert RULES["unpinned-docker-run"] is UNPINNED_DOCKER_RUN


@pytest.mark.parametrize(
    ("command", "image"),
    [
        ("docker run -d -i -t --rm --privileged --init -P --read-only alpine:1 sh", "alpine:1"),
        ("docker run -dit alpine:2", "alpine:2"),
        ("docker run -e A=1 -v /a:/b -p 1:2 -w /w -u 0 --name n alpine:3 id", "alpine:3"),
        ("docker run --env=A=1 --network=host alpine:4", "alpine:4"),
        ("docker run --gpus all --shm-size 1g alpine:5", "alpine:5"),
        ("docker -H tcp://x:2375 --context ci run alpine:6", "alpine:6"),
        ("docker run -- alpine:7", "alpine:7"),
        ("nerdctl pull alpine:8", "alpine:8"),
        ("docker pull --platform linux/arm64 alpine:9", "alpine:9"),
    ],
)
def test_the_image_is_the_first_word_after_options(command: str, image: str) -> None:
    (finding,) = _run(command)
    assert f"image `{image}`" in finding.message
    assert finding.fix is not None
    assert f"{image.split(':', maxsplit=1)[0]}@sha256:<digest>" in finding.fix


def test_variable_images_are_unverifiable() -> None:
    (finding,) = _run('docker run "$IMAGE"')
    assert finding.confidence is Confidence.LOW
    assert "shell variable" in finding.message


def test_a_pulled_image_is_reported_even_when_built_with_that_name() -> None:
    assert len(_run("docker build -t app .", "docker pull app")) == 1


def test_built_images_match_by_tag_not_by_name() -> None:
    assert _run("docker build -t app .", "docker run app:latest") == []
    assert len(_run("docker build -t app:dev .", "docker run app:latest")) == 1


@pytest.mark.parametrize(
    "command",
    [
        f"docker run alpine@sha256:{DIGEST}",
        f"docker pull ghcr.io/o/i:1@sha256:{DIGEST}",
        "docker run --pull=never img:1",
        "docker ps -a",
        "docker",
        "docker run",
        "docker compose run web",
    ],
)
def test_not_findings(command: str) -> None:
    assert _run(command) == []


def test_podman_rootfs_runs_a_directory_not_an_image() -> None:
    assert _run("podman run --rootfs ./rootfs /bin/sh") == []
