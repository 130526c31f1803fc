"""`replay`: recorded bags under an old and a new policy: flips, reason changes, bad bags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from envsecops.errors import InputError
from envsecops.model.decision import Verdict
from envsecops.policy.load import load_policy_file
from envsecops.policy.model import Policy
from envsecops.policy.replay import ReplayReport, find_bags, replay
from tests.unit.policy.testing_helpers import (
    CURL,
    GIT,
    GIT_REBUILT,
    binary,
    policy_text,
    write,
    write_bag,
)


def load(tmp_path: Path, name: str, text: str) -> Policy:
    return load_policy_file(write(tmp_path / "policies" / name, text))


def run(tmp_path: Path, old: str, new: str) -> ReplayReport:
    return replay(load(tmp_path, "old.yml", old), load(tmp_path, "new.yml", new), tmp_path / "bags")


def test_a_tightened_policy_flips_allow_to_deny_with_the_new_reasons(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "run-1" / "bag.json", binary("git", GIT))
    write_bag(tmp_path / "bags" / "run-2" / "bag.json", binary("git", GIT_REBUILT))
    report = run(tmp_path, policy_text(git=(GIT, GIT_REBUILT)), policy_text(git=(GIT,)))
    (flip,) = report.flips
    assert flip.path == str(tmp_path / "bags" / "run-2" / "bag.json")
    assert (flip.old_verdict, flip.new_verdict) == (Verdict.ALLOW, Verdict.DENY)
    assert [(r.code, r.subject) for r in flip.appeared] == [
        ("binary.digest", "binary /usr/bin/git")
    ]
    assert flip.disappeared == ()
    assert flip.env_hash.startswith("sha256:")
    assert report.replayed == 2
    assert report.exit_code == 1
    text = report.render_text()
    assert f"FLIP allow → deny  {flip.path}  {flip.env_hash}" in text
    assert "    + binary.digest binary /usr/bin/git: " in text
    assert text.endswith(
        "policy diff: 2 bags replayed: 1 flip (1 allow→deny, 0 deny→allow), "
        "0 with changed reasons only, 1 unchanged; 0 unreadable\n"
    )


def test_a_widened_policy_flips_deny_to_allow_with_the_reasons_gone(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "a.bag.json", binary("git", GIT), binary("curl", CURL))
    report = run(tmp_path, policy_text(), policy_text(curl=True))
    (flip,) = report.flips
    assert (flip.old_verdict, flip.new_verdict) == (Verdict.DENY, Verdict.ALLOW)
    assert [(r.code, r.subject) for r in flip.disappeared] == [
        ("binary.unlisted", "binary /usr/bin/curl")
    ]
    assert report.flip_count(Verdict.DENY, Verdict.ALLOW) == 1
    assert report.exit_code == 1
    assert "FLIP deny → allow" in report.render_text()
    assert "    - binary.unlisted binary /usr/bin/curl: " in report.render_text()


def test_reasons_that_change_under_a_steady_deny_are_counted_not_flipped(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "bag.json", binary("git", GIT), binary("curl", CURL))
    # old: git allowed, curl unlisted; new: git at another digest (binary.digest), curl unlisted
    report = run(tmp_path, policy_text(), policy_text(git=(GIT_REBUILT,)))
    assert report.flips == ()
    (change,) = report.reason_changes
    assert change.old_verdict is change.new_verdict is Verdict.DENY
    assert [r.code for r in change.appeared] == ["binary.digest"]
    assert report.exit_code == 0
    assert "REASONS (verdict stays deny)" in report.render_text()
    assert "1 with changed reasons only, 0 unchanged" in report.summary()


def test_moved_policy_lines_change_messages_but_not_the_diff(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "bag.json", binary("git", GIT_REBUILT))
    old = policy_text()
    new = "# a comment moves every rule one line down\n" + old
    report = run(tmp_path, old, new)
    assert report.old.policy_id == report.new.policy_id  # comments do not change the id
    assert "note: both policies are the same document" in report.render_text()
    assert (report.replayed, report.changes, report.exit_code) == (1, (), 0)


def test_unreadable_bags_are_listed_and_exit_2(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "good" / "bag.json", binary("git", GIT))
    write(tmp_path / "bags" / "broken" / "bag.json", "{not json")
    edited = write_bag(tmp_path / "bags" / "edited" / "bag.json", binary("git", GIT))
    edited.write_text(edited.read_text().replace(GIT, GIT_REBUILT))
    report = run(tmp_path, policy_text(), policy_text())
    assert report.replayed == 1
    assert [u.path for u in report.unreadable] == [
        str(tmp_path / "bags" / "broken" / "bag.json"),
        str(tmp_path / "bags" / "edited" / "bag.json"),
    ]
    assert "not JSON" in report.unreadable[0].error
    assert "env_hash does not match" in report.unreadable[1].error
    assert report.exit_code == 2
    assert f"UNREADABLE  {tmp_path / 'bags' / 'broken' / 'bag.json'}: " in report.render_text()


def test_unreadable_beats_flips_in_the_exit_code(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "a" / "bag.json", binary("curl", CURL))
    write(tmp_path / "bags" / "b" / "bag.json", "[]")
    report = run(tmp_path, policy_text(curl=True), policy_text())
    assert len(report.flips) == 1
    assert report.exit_code == 2


def test_no_bags_is_exit_2_because_nothing_was_replayed(tmp_path: Path) -> None:
    write(tmp_path / "bags" / "decision.json", "{}")
    write(tmp_path / "bags" / "notes.txt", "bag.json files go here\n")
    report = run(tmp_path, policy_text(), policy_text(curl=True))
    assert (report.replayed, report.unreadable, report.exit_code) == (0, (), 2)
    assert "nothing was replayed" in report.render_text()


def test_a_bags_folder_that_does_not_exist_is_an_input_error(tmp_path: Path) -> None:
    policy = load(tmp_path, "p.yml", policy_text())
    with pytest.raises(InputError, match="there is no such folder of recorded bags"):
        replay(policy, policy, tmp_path / "nowhere")


def test_one_bag_file_can_be_replayed_alone(tmp_path: Path) -> None:
    bag = write_bag(tmp_path / "bags" / "any-name.json", binary("curl", CURL))
    write_bag(tmp_path / "bags" / "bag.json", binary("git", GIT))
    old, new = (
        load(tmp_path, "old.yml", policy_text(curl=True)),
        load(tmp_path, "new.yml", policy_text()),
    )
    report = replay(old, new, bag)
    assert (report.replayed, len(report.flips)) == (1, 1)
    assert report.summary().startswith("policy diff: 1 bag replayed: 1 flip (1 allow→deny")


def test_bags_are_found_recursively_by_name_in_path_order(tmp_path: Path) -> None:
    root = tmp_path / "bags"
    for rel in ["b/bag.json", "a/run.bag.json", "a/z/bag.json", "c/sbom.cdx.json", "bag.json.bak"]:
        write(root / rel, "{}")
    assert [p.relative_to(root).as_posix() for p in find_bags(root)] == [
        "a/run.bag.json",
        "a/z/bag.json",
        "b/bag.json",
    ]


def test_a_mode_change_is_noted(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "bag.json", binary("git", GIT))
    report = run(tmp_path, "mode: audit\n" + policy_text(), policy_text())
    assert "note: the mode changes from audit to enforce" in report.render_text()
    assert report.exit_code == 0


def test_the_json_report(tmp_path: Path) -> None:
    write_bag(tmp_path / "bags" / "a" / "bag.json", binary("git", GIT_REBUILT))
    write(tmp_path / "bags" / "b" / "bag.json", "{}")
    report = run(tmp_path, policy_text(git=(GIT_REBUILT,)), policy_text())
    data = json.loads(json.dumps(report.to_json()))
    assert data["version"] == "1"
    assert data["$schema"] == "https://envsecops.dev/schemas/policy-diff.v1.json"
    assert data["summary"] == {
        "replayed": 1,
        "flips": 1,
        "allow_to_deny": 1,
        "deny_to_allow": 0,
        "reasons_changed": 0,
        "unchanged": 0,
        "unreadable": 1,
    }
    assert data["exit_code"] == 2
    assert data["old"]["policy_id"].startswith("unit@sha256:")
    assert data["old"]["mode"] == "enforce"
    (change,) = data["changes"]
    assert change["flipped"] is True
    assert [r["code"] for r in change["appeared"]] == ["binary.digest"]
    assert data["unreadable"][0]["path"] == str(tmp_path / "bags" / "b" / "bag.json")
