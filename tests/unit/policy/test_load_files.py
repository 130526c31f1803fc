"""The policy as a file: empty, two documents, alias bombs, deep nesting, missing, unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.errors import InputError
from envsecops.policy.load import PolicyMissingError, load_policy_file
from tests.unit.policy.load_support import D1, DISPLAY, load, write_policy


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_an_error_with_the_init_fix(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, text)
    assert "the policy file is empty" in info.value.message
    assert info.value.fix is not None
    assert "envsecops policy init --from bag.json > .github/envsecops.yml" in info.value.fix


def test_two_documents_are_refused_at_the_second(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load(tmp_path, f"name: a\nbinaries: {{git: {D1}}}\n---\nname: b\n")
    assert "exactly one YAML document (found 2" in info.value.message
    assert info.value.line == 4


def test_an_alias_bomb_is_bounded(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 9):
        previous, current = chr(96 + level), chr(97 + level)
        bomb += f"{current}: &{current} [" + ", ".join([f"*{previous}"] * 10) + "]\n"
    with pytest.raises(InputError) as info:
        load(
            tmp_path,
            "name: x\nenv:\n  bomb:\n" + "".join("    " + ln + "\n" for ln in bomb.splitlines()),
        )
    assert "alias expansion exceeds the safety limit" in info.value.message


def test_deep_nesting_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nesting depth|too deep"):
        load(tmp_path, "name: x\nenv: " + "[" * 100 + "]" * 100 + "\n")


def test_a_missing_file_is_policy_missing_with_the_init_fix(tmp_path: Path) -> None:
    with pytest.raises(PolicyMissingError) as info:
        load_policy_file(tmp_path / ".github" / "envsecops.yml", DISPLAY)
    error = info.value
    assert isinstance(error, InputError)
    assert error.path == DISPLAY
    assert error.fix is not None
    assert "`envsecops policy init --from bag.json > .github/envsecops.yml`" in error.fix
    assert "review" in error.fix


def test_unreadable_files_are_input_errors_not_missing(tmp_path: Path) -> None:
    path = write_policy(tmp_path, "")
    path.write_bytes(b"name: \xff\n")
    with pytest.raises(InputError, match="cannot read the policy file") as info:
        load_policy_file(path, DISPLAY)
    assert not isinstance(info.value, PolicyMissingError)
    with pytest.raises(InputError, match="cannot read the policy file") as info:
        load_policy_file(path.parent, DISPLAY)
    assert not isinstance(info.value, PolicyMissingError)
