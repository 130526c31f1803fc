"""`unpinned-docker-uses`: `uses: docker://` without a digest, through fixtures and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.model import Confidence, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.registry import CHECKS, RULES
from envsecops.pins.rules.docker_uses import (
    UNPINNED_DOCKER_USES,
    UnpinnedDockerUses,
    image_name,
)
from envsecops.pins.rules.unpinned_uses import UnpinnedUses
from tests.conftest import CliResult
from tests.unit.pins.helpers import run_check
from tests.unit.pins.pin_fixtures import Case, assert_case, load_cases

CASES = load_cases("unpinned-docker-uses")
DIGEST = "beefdbd8a1da6d2915566fde36db9db0b524eb737fc57cd1367effd16dc0d06d"


def _workflow(*uses: str) -> str:
    steps = "".join(f"      - uses: {value}\n" for value in uses)
    return f"on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case) -> None:
    assert_case(case, UnpinnedDockerUses())


def test_registered_once_with_its_rule() -> None:
    assert sum(isinstance(check, UnpinnedDockerUses) for check in CHECKS) == 1
    assert RULES["unpinned-docker-uses"] is UNPINNED_DOCKER_USES
    assert UNPINNED_DOCKER_USES.severity is Severity.HIGH


def test_fix_names_the_image_digest_and_keeps_the_tag_as_comment() -> None:
    (finding,) = run_check(
        UnpinnedDockerUses(), FileKind.WORKFLOW, _workflow("docker://ghcr.io/o/tool:1.2")
    )
    assert finding.fix is not None
    assert finding.fix.startswith("write `docker://ghcr.io/o/tool@sha256:<64-hex digest> # 1.2`")
    assert "crane digest" in finding.fix
    assert finding.confidence is Confidence.HIGH


def test_expression_is_unverifiable_with_medium_confidence() -> None:
    (finding,) = run_check(
        UnpinnedDockerUses(), FileKind.WORKFLOW, _workflow("docker://${{ matrix.image }}")
    )
    assert finding.confidence is Confidence.MEDIUM
    assert "cannot be verified statically" in finding.message


def test_docker_uses_is_not_double_reported_by_unpinned_uses() -> None:
    text = _workflow("docker://alpine:3.20", f"docker://alpine@sha256:{DIGEST}")
    assert run_check(UnpinnedUses(), FileKind.WORKFLOW, text) == []
    assert len(run_check(UnpinnedDockerUses(), FileKind.WORKFLOW, text)) == 1


def test_a_mapping_uses_is_left_to_unpinned_uses() -> None:
    text = _workflow("{image: 'docker://alpine'}")
    assert run_check(UnpinnedDockerUses(), FileKind.WORKFLOW, text) == []
    (finding,) = run_check(UnpinnedUses(), FileKind.WORKFLOW, text)
    assert finding.reference == "<mapping>"


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("alpine", "alpine"),
        ("alpine:3.20", "alpine"),
        ("localhost:5000/team/tool:v2", "localhost:5000/team/tool"),
        (f"alpine:3.20@sha256:{DIGEST}", "alpine"),
        ("ghcr.io/o/i", "ghcr.io/o/i"),
    ],
)
def test_image_name_drops_tag_and_digest_but_keeps_the_registry_port(image: str, name: str) -> None:
    assert image_name(image) == name


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_cli_exit_codes(tmp_path: Path, run_cli: Callable[..., CliResult]) -> None:
    dirty, clean = tmp_path / "dirty", tmp_path / "clean"
    _write(dirty, ".github/workflows/ci.yml", _workflow("docker://alpine:3.20"))
    _write(clean, ".github/workflows/ci.yml", _workflow(f"docker://alpine@sha256:{DIGEST} # 3"))
    failing = run_cli("pin-check", "--format", "json", dirty)
    assert failing.code == 1
    (finding,) = json.loads(failing.out)["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("unpinned-docker-uses", 6, 15)
    assert json.loads(failing.out)["stats"]["workflow"]["uses_docker_nodigest"] == 1
    passing = run_cli("pin-check", "--format", "json", clean)
    assert passing.code == 0, passing.out
    assert json.loads(passing.out)["stats"]["workflow"]["uses_docker_digest"] == 1
