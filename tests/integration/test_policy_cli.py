"""`envsecops policy init|test|diff|propose` end to end, in-process, on real files and servers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from envsecops.model.bag import Bag, Component
from envsecops.policy.amend import amend_policy
from envsecops.policy.load import load_policy_text
from envsecops.policy.render import render_policy
from tests.conftest import CliResult
from tests.fixtures.github_api.policy_scenarios import PAYMENTS, base, head
from tests.fixtures.github_api.policy_shapes import (
    POLICY_PATH,
    POLICY_TEXT,
    blob_sha,
    content_file,
    create_pull,
    create_ref,
    list_pulls,
    proposal_branch,
    put_file,
)
from tests.integration.github_api.replay import Query, Response, Scenario, StartServer
from tests.unit.policy.init_bags import (
    allowable_components,
    binary,
    blocked_components,
    make_bag,
    write_bag,
)

Run = Callable[..., CliResult]
HOSTED = {"runner_environment": "github-hosted"}
GIT = "sha256:" + "1" * 64
CURL = "sha256:" + "2" * 64


def clean_components() -> list[Component]:
    """Components a drafted policy allows completely."""
    return [c for c in allowable_components() if c.name != "some-org/composite"]


@pytest.fixture
def bag_file(tmp_path: Path) -> Path:
    """A bag.json with every allowable kind."""
    return write_bag(make_bag(clean_components()), tmp_path / "bag.json")


@pytest.fixture(autouse=True)
def _outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_REPOSITORY", "ENVSECOPS_GITHUB_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)


# -- init ------------------------------------------------------------------------------------
def test_init_prints_the_draft(run_cli: Run, bag_file: Path) -> None:
    result = run_cli("policy", "init", "--from", bag_file, "--name", "payments-deploy")
    bag = Bag.from_json(json.loads(bag_file.read_text()))
    assert result.code == 0, result.err
    assert result.out == render_policy(bag, name="payments-deploy")
    assert bag.env_hash in result.err
    assert "review it" in result.err


def test_init_writes_a_new_file_and_never_overwrites(run_cli: Run, bag_file: Path) -> None:
    out = bag_file.parent / "envsecops.yml"
    first = run_cli("policy", "init", "--from", bag_file, "--name", "t", "--out", out)
    assert (first.code, first.out) == (0, "")
    written = out.read_text(encoding="utf-8")
    assert load_policy_text(written, str(out)).name == "t"
    second = run_cli("policy", "init", "--from", bag_file, "--name", "other", "--out", out)
    assert second.code == 2
    assert f"{out} already exists" in second.err
    assert out.read_text(encoding="utf-8") == written


def test_init_warns_about_what_no_policy_can_allow(run_cli: Run, tmp_path: Path) -> None:
    bag = write_bag(make_bag([*clean_components(), *blocked_components()]), tmp_path / "b.json")
    result = run_cli("policy", "init", "--from", bag, "--name", "t")
    assert result.code == 0
    assert "the bag stays denied for 8 reason(s) no policy entry can clear" in result.err
    assert "  ! runner.mismatch runner env-claim-mismatch:GITHUB_REPOSITORY: " in result.err
    assert "#   - runner.mismatch runner env-claim-mismatch:GITHUB_REPOSITORY: " in result.out


def test_init_names_the_policy_after_the_repository(
    run_cli: Run, bag_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/payments")
    result = run_cli("policy", "init", "--from", bag_file)
    assert result.code == 0
    assert "\nname: payments   #" in result.out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the bag"),
        ("{not json", "not JSON"),
        ('{"version": "1", "components": [], "notes": [], "runner": {}}', "env_hash"),
    ],
)
def test_init_refuses_a_bad_bag_naming_it(
    run_cli: Run, tmp_path: Path, content: str | None, message: str
) -> None:
    bag = tmp_path / "bag.json"
    if content is not None:
        bag.write_text(content, encoding="utf-8")
    result = run_cli("policy", "init", "--from", bag, "--name", "t")
    assert result.code == 2
    assert str(bag) in result.err
    assert message in result.err
    assert "Traceback" not in result.err


def test_init_refuses_a_bad_name(run_cli: Run, bag_file: Path) -> None:
    result = run_cli("policy", "init", "--from", bag_file, "--name", "no spaces")
    assert result.code == 2
    assert "--name" in result.err


def test_policy_without_a_subcommand_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli("policy")
    assert result.code == 2
    assert "init" in result.err
    assert "propose" in result.err


# -- test ------------------------------------------------------------------------------------
def _case(name: str, bag: str, verdict: str, reasons: str = "") -> str:
    return f"name: {name}\nbag: {bag}\nexpect:\n  verdict: {verdict}\n{reasons}"


def test_test_runs_cases_against_the_drafted_policy(run_cli: Run, bag_file: Path) -> None:
    root = bag_file.parent
    policy = root / "envsecops.yml"
    assert run_cli("policy", "init", "--from", bag_file, "--name", "t", "--out", policy).code == 0
    cases = root / "cases"
    cases.mkdir()
    other = write_bag(make_bag([*clean_components(), binary("/usr/bin/evil")]), root / "b2.json")
    (cases / "allow.yml").write_text(_case("drafted-bag-passes", "../bag.json", "allow"))
    deny = "  reasons:\n    - {code: binary.unlisted, subject: binary /usr/bin/evil}\n"
    (cases / "deny.yml").write_text(
        _case("planted-binary-is-denied", f"../{other.name}", "deny", deny)
    )
    passed = run_cli("policy", "test", cases, "--policy", policy)
    assert passed.code == 0, passed.out + passed.err
    assert "2 passed, 0 failed" in passed.out
    (cases / "wrong.yml").write_text(
        _case("expects-the-wrong-verdict", f"../{other.name}", "allow")
    )
    failed = run_cli("policy", "test", cases, "--policy", policy, "--format", "json")
    assert failed.code == 1
    report = json.loads(failed.out)
    assert report["summary"]["failed"] == 1


def test_test_with_no_cases_or_no_folder_is_bad_input(run_cli: Run, tmp_path: Path) -> None:
    empty = tmp_path / "cases"
    empty.mkdir()
    assert run_cli("policy", "test", empty).code == 2
    missing = run_cli("policy", "test", tmp_path / "nowhere")
    assert missing.code == 2
    assert "nowhere" in missing.err
    assert run_cli("policy", "test", empty, "--policy", tmp_path / "none.yml").code == 2


# -- diff ------------------------------------------------------------------------------------
def test_diff_lists_the_runs_a_change_would_break(run_cli: Run, bag_file: Path) -> None:
    root = bag_file.parent
    old = root / "old.yml"
    assert run_cli("policy", "init", "--from", bag_file, "--name", "t", "--out", old).code == 0
    text = old.read_text(encoding="utf-8")
    new = root / "new.yml"
    new.write_text("\n".join(line for line in text.splitlines() if "/usr/bin/git:" not in line))
    bags = root / "bags"
    (bags / "run-1").mkdir(parents=True)
    (bags / "run-1" / "bag.json").write_bytes(bag_file.read_bytes())
    same = run_cli("policy", "diff", old, old, "--bags", bags)
    assert same.code == 0, same.out + same.err
    flipped = run_cli("policy", "diff", old, new, "--bags", bags)
    assert flipped.code == 1
    assert "FLIP allow → deny" in flipped.out
    assert "binary.unlisted binary /usr/bin/git" in flipped.out
    as_json = json.loads(
        run_cli("policy", "diff", old, new, "--bags", bags, "--format", "json").out
    )
    assert as_json["summary"]["allow_to_deny"] == 1


def test_diff_with_a_broken_policy_names_it(run_cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("name: t\nbinaries:\n  git: yes\n", encoding="utf-8")
    result = run_cli("policy", "diff", bad, bad, "--bags", tmp_path)
    assert result.code == 2
    assert f"{bad}:3" in result.err


# -- propose, local --------------------------------------------------------------------------
def test_propose_dry_run_prints_the_diff_of_the_local_file(run_cli: Run, bag_file: Path) -> None:
    root = bag_file.parent
    policy = root / "envsecops.yml"
    assert run_cli("policy", "init", "--from", bag_file, "--name", "t", "--out", policy).code == 0
    before = policy.read_text(encoding="utf-8")
    grown = write_bag(make_bag([*clean_components(), binary("/usr/bin/htop")]), root / "b2.json")
    result = run_cli("policy", "propose", "--from", grown, "--policy", policy, "--dry-run")
    assert result.code == 0, result.err
    assert result.out.startswith(f"--- a/{policy}\n+++ b/{policy}\n@@ ")
    assert "+  /usr/bin/htop: [sha256:" in result.out
    assert "# proposed: binary.unlisted" in result.out
    assert "+ binary /usr/bin/htop sha256:" in result.err
    assert policy.read_text(encoding="utf-8") == before


def test_propose_lists_what_it_refuses_and_exits_1(run_cli: Run, bag_file: Path) -> None:
    policy = bag_file.parent / "envsecops.yml"
    assert run_cli("policy", "init", "--from", bag_file, "--name", "t", "--out", policy).code == 0
    worse = write_bag(make_bag([*clean_components(), *blocked_components()]), bag_file)
    result = run_cli("policy", "propose", "--from", worse, "--policy", policy, "--dry-run")
    assert result.code == 1
    assert result.out == ""
    assert "nothing to propose" in result.err
    assert "! runner.mismatch runner env-claim-mismatch:GITHUB_REPOSITORY" in result.err


def test_propose_needs_a_policy_and_a_repository(run_cli: Run, bag_file: Path) -> None:
    missing = run_cli("policy", "propose", "--from", bag_file, "--policy", "no.yml", "--dry-run")
    assert missing.code == 2
    assert "no.yml" in missing.err
    assert "policy init" in missing.err
    nowhere = run_cli("policy", "propose", "--from", bag_file)
    assert nowhere.code == 2
    assert "--repository" in nowhere.err


# -- propose, through the GitHub API (replay server) -----------------------------------------
def _curl_bag(tmp_path: Path) -> Path:
    """A bag with the fixture policy's git and a new curl."""
    git = replace(binary("/usr/bin/git"), digest=GIT)
    curl = replace(binary("/usr/bin/curl"), digest=CURL)
    return write_bag(make_bag([git, curl], HOSTED), tmp_path / "bag.json")


def test_propose_dry_run_reads_the_default_branch(
    run_cli: Run, tmp_path: Path, github_api: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("policy-propose")
    monkeypatch.setenv("ENVSECOPS_GITHUB_TOKEN", "ghs_replay")
    bag = _curl_bag(tmp_path)
    result = run_cli("policy", "propose", "--from", bag, "--repository", PAYMENTS.full_name,
                     "--api-url", server.base_url, "--dry-run")  # fmt: skip
    assert result.code == 0, result.err
    assert f"+  /usr/bin/curl: [{CURL}]  # proposed: binary.unlisted" in result.out
    assert f"{PAYMENTS.full_name}@main:{POLICY_PATH}" in result.err
    assert server.unmatched == []
    assert all(route.startswith("GET ") for route in server.routes)


def _scenario(name: str, exchanges: list[dict[str, Any]]) -> Scenario:
    """A scenario from recorded-shape exchanges, as Scenario.load reads them from files."""
    answers: dict[tuple[str, str, Query], Response] = {}
    bodies: dict[tuple[str, str, Query], Any] = {}
    for data in exchanges:
        request, response = data["request"], data["response"]
        key = (request["method"], request["path"], frozenset(request["query"].items()))
        answers[key] = Response(response["status"], dict(response["headers"]), response["body"])
        if "body" in request:
            bodies[key] = request["body"]
    return Scenario(name, answers, None, bodies)


def test_propose_opens_the_pull_request(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from envsecops.cli.policy_propose import body, title
    from tests.integration.github_api.replay import ReplayServer

    bag_path = _curl_bag(tmp_path)
    bag = Bag.from_json(json.loads(bag_path.read_text()))
    source = f"{PAYMENTS.full_name}@main:{POLICY_PATH} ({head(PAYMENTS)})"
    amendment = amend_policy(POLICY_TEXT, load_policy_text(POLICY_TEXT, source), bag)
    new = amendment.text.encode("utf-8")
    branch = proposal_branch(amendment.text)
    old = POLICY_TEXT.encode("utf-8")
    exchanges = [
        *base(PAYMENTS),
        content_file(PAYMENTS, POLICY_PATH, head(PAYMENTS), old),
        create_ref(PAYMENTS, branch, head(PAYMENTS)),
        put_file(PAYMENTS, POLICY_PATH, branch, title(bag, amendment), new, blob_sha(old)),
        list_pulls(PAYMENTS, branch, "main", []),
        create_pull(
            PAYMENTS, 8, branch, "main", title(bag, amendment), body(bag, amendment, source)
        ),
    ]
    server = ReplayServer(_scenario("policy-propose-cli", exchanges)).start()
    try:
        monkeypatch.setenv("ENVSECOPS_GITHUB_TOKEN", "ghs_replay")
        result = run_cli("policy", "propose", "--from", bag_path, "--repository",
                         PAYMENTS.full_name, "--api-url", server.base_url)  # fmt: skip
        assert server.unmatched == [], server.routes
    finally:
        server.stop()
    assert result.code == 0, result.err
    assert result.out.strip() == f"https://github.com/{PAYMENTS.full_name}/pull/8"
    assert "### Added (1)" in body(bag, amendment, source)
    assert f"binary /usr/bin/curl {CURL} (binary.unlisted)" in body(bag, amendment, source)


@pytest.mark.parametrize(
    ("scenario", "repository", "code", "message"),
    [
        ("policy-forbidden", PAYMENTS.full_name, 3, "contents: read"),
        ("policy-missing", "octo-org/no-policy", 2, "merge a policy into main"),
    ],
)
def test_a_failed_fetch_is_reported_with_the_fix(
    run_cli: Run,
    tmp_path: Path,
    github_api: StartServer,
    scenario: str,
    repository: str,
    code: int,
    message: str,
) -> None:
    server = github_api(scenario)
    result = run_cli("policy", "propose", "--from", _curl_bag(tmp_path), "--repository",
                     repository, "--api-url", server.base_url, "--dry-run")  # fmt: skip
    assert result.code == code, result.err
    assert message in result.err
    assert "Traceback" not in result.err
