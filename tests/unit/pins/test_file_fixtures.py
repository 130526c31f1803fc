"""Every positive and negative fixture of the image and dependency checks, through the parsers."""

from __future__ import annotations

import pytest

from envsecops.pins.rules.base import Check
from envsecops.pins.rules.dockerfile_from_variable import DockerfileFromVariable
from envsecops.pins.rules.requirements_without_hash import RequirementsWithoutHash
from envsecops.pins.rules.unpinned_compose_image import UnpinnedComposeImage
from envsecops.pins.rules.unpinned_devcontainer_feature import UnpinnedDevcontainerFeature
from envsecops.pins.rules.unpinned_devcontainer_image import UnpinnedDevcontainerImage
from envsecops.pins.rules.unpinned_dockerfile_add import UnpinnedDockerfileAdd
from envsecops.pins.rules.unpinned_dockerfile_copy_from import UnpinnedDockerfileCopyFrom
from envsecops.pins.rules.unpinned_dockerfile_from import UnpinnedDockerfileFrom
from envsecops.pins.rules.unpinned_dockerfile_syntax import UnpinnedDockerfileSyntax
from envsecops.pins.rules.unpinned_k8s_image import UnpinnedK8sImage
from tests.unit.pins.file_fixtures import FileCase, assert_file_case, load_file_cases

CHECKS: list[Check] = [
    UnpinnedDockerfileFrom(),
    DockerfileFromVariable(),
    UnpinnedDockerfileCopyFrom(),
    UnpinnedDockerfileAdd(),
    UnpinnedDockerfileSyntax(),
    UnpinnedComposeImage(),
    UnpinnedK8sImage(),
    UnpinnedDevcontainerImage(),
    UnpinnedDevcontainerFeature(),
    RequirementsWithoutHash(),
]
CASES = [
    pytest.param(check, case, id=f"{case.rule_id}/{case.name}")
    for check in CHECKS
    for case in load_file_cases(check.rules[0].id)
]


@pytest.mark.parametrize(("check", "case"), CASES)
def test_fixture(check: Check, case: FileCase) -> None:
    assert case.kind in check.kinds
    assert_file_case(case, check)


def test_every_rule_has_positive_and_negative_fixtures() -> None:
    for check in CHECKS:
        cases = load_file_cases(check.rules[0].id)
        assert any(c.positive for c in cases), check.rules[0].id
        assert any(not c.positive for c in cases), check.rules[0].id
