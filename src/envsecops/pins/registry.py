"""The explicit list of pin-check checks, and the index of every rule id."""

from __future__ import annotations

from envsecops.pins.rules import parse_error, pin_comment_mismatch
from envsecops.pins.rules.base import Check, Rule
from envsecops.pins.rules.cargo_install_unlocked import CargoInstallUnlocked
from envsecops.pins.rules.container_image import UnpinnedContainerImage
from envsecops.pins.rules.curl_pipe_shell import CurlPipeShell
from envsecops.pins.rules.docker_uses import UnpinnedDockerUses
from envsecops.pins.rules.dockerfile_from_variable import DockerfileFromVariable
from envsecops.pins.rules.download_then_run import DownloadThenRun
from envsecops.pins.rules.go_install_latest import GoInstallLatest
from envsecops.pins.rules.missing_include import MissingInclude
from envsecops.pins.rules.npm_install_not_ci import NpmInstallNotCi
from envsecops.pins.rules.pin_comment import PinComment
from envsecops.pins.rules.requirements_without_hash import RequirementsWithoutHash
from envsecops.pins.rules.unpinned_compose_image import UnpinnedComposeImage
from envsecops.pins.rules.unpinned_devcontainer_feature import UnpinnedDevcontainerFeature
from envsecops.pins.rules.unpinned_devcontainer_image import UnpinnedDevcontainerImage
from envsecops.pins.rules.unpinned_docker_run import UnpinnedDockerRun
from envsecops.pins.rules.unpinned_dockerfile_add import UnpinnedDockerfileAdd
from envsecops.pins.rules.unpinned_dockerfile_copy_from import UnpinnedDockerfileCopyFrom
from envsecops.pins.rules.unpinned_dockerfile_from import UnpinnedDockerfileFrom
from envsecops.pins.rules.unpinned_dockerfile_syntax import UnpinnedDockerfileSyntax
from envsecops.pins.rules.unpinned_k8s_image import UnpinnedK8sImage
from envsecops.pins.rules.unpinned_pip_install import UnpinnedPipInstall
from envsecops.pins.rules.unpinned_uses import UnpinnedUses
from envsecops.pins.rules.yarn_install_unfrozen import YarnInstallUnfrozen

CHECKS: tuple[Check, ...] = (
    UnpinnedUses(),
    UnpinnedDockerUses(),
    PinComment(),
    UnpinnedContainerImage(),
    UnpinnedPipInstall(),
    NpmInstallNotCi(),
    YarnInstallUnfrozen(),
    CurlPipeShell(),
    GoInstallLatest(),
    CargoInstallUnlocked(),
    UnpinnedDockerRun(),
    DownloadThenRun(),
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
    MissingInclude(),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in parse_error.RULES}
RULES.update({rule.id: rule for rule in pin_comment_mismatch.RULES})
for _check in CHECKS:
    for _rule in _check.rules:
        if _rule.id in RULES and RULES[_rule.id] is not _rule:
            raise RuntimeError(f"rule id {_rule.id} is defined twice")
        RULES[_rule.id] = _rule
