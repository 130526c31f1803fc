"""`unpinned-container-image`: job containers, services and Docker action images by digest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.model import Confidence, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.container_image import UNPINNED_CONTAINER_IMAGE, UnpinnedContainerImage
from tests.conftest import CliResult
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, assert_case, load_cases

CASES = load_cases("unpinned-container-image")
DIGEST = "beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_case(case, UnpinnedContainerImage())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, UnpinnedContainerImage) for check in CHECKS) == 1
    assert RULES["unpinned-container-image"] is UNPINNED_CONTAINER_IMAGE
    assert UNPINNED_CONTAINER_IMAGE.severity is Severity.HIGH


def test_messages_name_the_role_and_the_place() -> None:
    text = (
        "on: push\njobs:\n  test:\n    runs-on: x\n    container: node:20\n"
        "    services:\n      db:\n        image: postgres:16\n"
    )
    container, service = run_check(UnpinnedContainerImage(), FileKind.WORKFLOW, text)
    assert container.message.startswith("the job container at jobs.test.container is `node:20`")
    assert service.message.startswith(
        "the service container at jobs.test.services.db is `postgres:16`"
    )
    assert container.fix is not None
    assert container.fix.startswith("write `node@sha256:<64-hex digest> # 20`")


def test_docker_action_fix_keeps_the_docker_scheme() -> None:
    text = "name: n\ndescription: d\nruns:\n  using: docker\n  image: docker://alpine\n"
    (finding,) = run_check(UnpinnedContainerImage(), FileKind.ACTION, text)
    assert finding.message.startswith("the Docker action's image at runs.image")
    assert finding.fix is not None
    assert finding.fix.startswith("write `docker://alpine@sha256:<64-hex digest> # latest`")
    assert finding.reference == "docker://alpine"


def test_expressions_are_unverifiable_with_medium_confidence() -> None:
    text = "on: push\njobs:\n  t:\n    runs-on: x\n    container: ${{ matrix.image }}\n"
    (finding,) = run_check(UnpinnedContainerImage(), FileKind.WORKFLOW, text)
    assert finding.confidence is Confidence.MEDIUM
    assert "cannot be verified statically" in finding.message
    assert finding.fix is not None
    assert "pin every value where the matrix lists it" in finding.fix


def test_an_aliased_image_is_reported_once() -> None:
    text = (
        "on: push\njobs:\n"
        "  a:\n    runs-on: x\n    container: &img node:20\n"
        "  b:\n    runs-on: x\n    container: *img\n"
    )
    (finding,) = run_check(UnpinnedContainerImage(), FileKind.WORKFLOW, text)
    assert finding.line == 5


def test_non_github_documents_are_refused_loudly() -> None:
    with pytest.raises(TypeError, match="has no image view"):
        run_check(UnpinnedContainerImage(), FileKind.DEPENDABOT, "version: 2\nupdates: []\n")


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_cli_exit_codes_and_stats(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    dirty, clean = tmp_path / "dirty", tmp_path / "clean"
    _write(
        dirty,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  t:\n    runs-on: x\n    container: node:20\n"
        "    services:\n      db: {image: postgres}\n",
    )
    _write(
        clean,
        ".github/workflows/ci.yml",
        f"on: push\njobs:\n  t:\n    runs-on: x\n    container: node@sha256:{DIGEST} # 20\n",
    )
    failing = run_cli("pin-check", "--format", "json", dirty)
    assert failing.code == 1
    document = json.loads(failing.out)
    assert [(f["rule"], f["line"]) for f in document["findings"]] == [
        ("unpinned-container-image", 5),
        ("unpinned-container-image", 7),
    ]
    stats = document["stats"]["workflow"]
    assert stats["container_image_no_digest_tagged"] == 1
    assert stats["service_image_no_digest_untagged_or_latest"] == 1
    passing = run_cli("pin-check", "--format", "json", clean)
    assert passing.code == 0, passing.out
    assert json.loads(passing.out)["stats"]["workflow"]["container_image_digest"] == 1
