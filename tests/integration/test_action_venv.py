"""Every stage of one action checkout runs from the same venv, so no stage changes the bag.

attest-runner inventories the downloaded action trees (`_actions/OWNER/REPO/SHA`). If each
per-stage action built its own venv inside its directory, verify-bag (run after attest) would
add thousands of files to the envsecops tree it attested and deny its own run as drift.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMON = ROOT / "actions" / "_lib" / "common.sh"
STAGES = ("pin-check", "attest-runner", "verify-bag", "mint-creds", "record-decision")


def _venv_dir(action_dir: Path) -> str:
    result = subprocess.run(
        ["bash", "-c", 'source -- "$1" && venv_dir "$2"', "venv_dir", str(COMMON), str(action_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_uses_the_checkouts_one_venv(stage: str) -> None:
    assert (ROOT / "actions" / stage / "action.yml").is_file()
    assert _venv_dir(ROOT / "actions" / stage) == str(ROOT.resolve() / ".venv")


def test_the_top_level_action_uses_the_same_venv() -> None:
    assert _venv_dir(ROOT) == str(ROOT.resolve() / ".venv")


def test_an_action_directory_outside_the_checkout_keeps_its_own(tmp_path: Path) -> None:
    assert _venv_dir(tmp_path) == str(tmp_path / ".venv")
