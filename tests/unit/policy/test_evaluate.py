"""evaluate(): the whole bag against the policy — order, dedupe, truncation, runner, problems."""

from __future__ import annotations

import dataclasses

import pytest

from envsecops.model.bag import ComponentKind, Status
from envsecops.model.decision import Reason
from envsecops.policy.evaluate import CHECKS, evaluate, finish
from envsecops.policy.model import RunnerPolicy, VersionedName
from envsecops.policy.reasons import CODES, MAX_REASONS
from tests.unit.policy.evaluate_support import (
    FACTS,
    SOURCE,
    allowing,
    binary,
    codes,
    env,
    hosted_bag,
    make_bag,
    make_policy,
    path_entry,
    runner_record,
    tool,
    with_components,
)


def test_a_policy_made_from_the_bag_allows_it() -> None:
    bag = hosted_bag()
    assert evaluate(allowing(bag), bag) == []


def test_every_reason_code_is_a_known_code() -> None:
    bag = hosted_bag(binary("/opt/x"), runner_record("cataloger-failed:env", Status.UNREADABLE))
    reasons = evaluate(make_policy(), bag)
    assert reasons
    assert {r.code for r in reasons} <= set(CODES)


def test_an_empty_allowlist_is_a_deny_with_the_init_fix() -> None:
    reasons = evaluate(make_policy(), make_bag())
    assert codes(reasons) == [("policy.empty", f"policy {SOURCE}")]
    assert "envsecops policy init --from bag.json" in reasons[0].message


def test_reasons_are_sorted_by_code_then_subject() -> None:
    bag = hosted_bag(binary("/usr/bin/zz"), binary("/usr/bin/aa"), env("LD_PRELOAD"))
    reasons = evaluate(make_policy(binaries=allowing(hosted_bag()).binaries), bag)
    keys = [(r.code, r.subject) for r in reasons]
    assert keys == sorted(keys)
    assert ("binary.unlisted", "binary /usr/bin/aa") in keys
    assert ("env.forbidden", "env LD_PRELOAD") in keys


def test_same_input_gives_the_same_output_in_the_same_order() -> None:
    bag = hosted_bag(*(binary(f"/opt/bin/t{i}") for i in range(50)), env("BASH_ENV"))
    policy = make_policy(binaries=allowing(hosted_bag()).binaries)
    first = evaluate(policy, bag)
    assert len(first) > 50
    assert all(evaluate(policy, bag) == first for _ in range(3))
    shuffled = dataclasses.replace(bag, components=tuple(reversed(bag.components)))
    assert evaluate(policy, shuffled) == first


def test_exact_duplicates_are_dropped() -> None:
    one = Reason("binary.unlisted", "binary /x", "m")
    assert finish([one, one, Reason("binary.unlisted", "binary /x", "n")]) == [
        one,
        Reason("binary.unlisted", "binary /x", "n"),
    ]


def test_more_than_max_reasons_keeps_the_first_and_counts_the_rest() -> None:
    many = [Reason("binary.unlisted", f"binary /b{i:05}", "m") for i in range(MAX_REASONS)]
    many += [Reason("env.forbidden", f"env V{i}", "m") for i in range(3)]
    out = finish(reversed(many))
    assert len(out) == MAX_REASONS
    assert out[: MAX_REASONS - 1] == sorted(many, key=lambda r: r.subject)[: MAX_REASONS - 1]
    last = out[-1]
    assert last.code == "reasons.truncated"
    assert f"{MAX_REASONS + 3:,} reasons in all" in last.message
    assert "binary.unlisted 1, env.forbidden 3" in last.message


def test_exactly_max_reasons_is_not_truncated() -> None:
    many = [Reason("binary.unlisted", f"binary /b{i:05}", "m") for i in range(MAX_REASONS)]
    assert finish(many) == many


def test_truncation_applies_to_a_real_evaluation() -> None:
    bag = make_bag(*(binary(f"/usr/bin/t{i:05}") for i in range(MAX_REASONS + 10)))
    reasons = evaluate(make_policy(binaries=allowing(hosted_bag()).binaries), bag)
    assert len(reasons) == MAX_REASONS
    assert reasons[-1].code == "reasons.truncated"
    assert "binary.unlisted 11" in reasons[-1].message


def test_the_checks_registry_covers_every_section() -> None:
    modules = {check.__module__.rsplit(".", 1)[1] for check in CHECKS}
    assert modules == {
        "runner", "problems", "binaries", "toolchain", "packages", "configs", "env", "actions",
        "sbom", "pins",
    }  # fmt: skip


# --- runner facts -------------------------------------------------------------------------


def test_runner_environment_not_listed_is_denied_with_the_line() -> None:
    bag = make_bag(binary("/usr/bin/git"), facts={**FACTS, "runner_environment": "self-hosted"})
    policy = allowing(make_bag(binary("/usr/bin/git")))
    reasons = evaluate(policy, bag)
    assert codes(reasons) == [("runner.environment", "runner runner_environment")]
    assert f"{SOURCE}:3" in reasons[0].message
    assert "add `self-hosted` to `runner.environments`" in reasons[0].message


def test_self_hosted_is_allowed_when_listed() -> None:
    bag = make_bag(binary("/usr/bin/git"), facts={**FACTS, "runner_environment": "self-hosted"})
    runner = RunnerPolicy(environments=("github-hosted", "self-hosted"), line=3)
    assert evaluate(allowing(bag, runner=runner), bag) == []


def test_a_missing_runner_environment_is_unknown() -> None:
    facts = {k: v for k, v in FACTS.items() if k != "runner_environment"}
    bag = make_bag(binary("/usr/bin/git"), facts=facts)
    denied = evaluate(allowing(bag, runner=RunnerPolicy()), bag)
    assert codes(denied) == [("runner.environment", "runner runner_environment")]
    assert "`unknown`" in denied[0].message
    assert "the default" in denied[0].message
    allowed = RunnerPolicy(environments=("github-hosted", "unknown"), line=4)
    assert evaluate(allowing(bag, runner=allowed), bag) == []


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        ((VersionedName("ubuntu24", ("20251110.*",), 5),), []),
        ((VersionedName("ubuntu*", (), 5),), []),
        ((VersionedName("ubuntu22", (), 5),), ["runner image_os"]),
        ((VersionedName("ubuntu24", ("20250101.*",), 5),), ["runner image_version"]),
    ],
)
def test_runner_images(images: tuple[VersionedName, ...], expected: list[str]) -> None:
    bag = make_bag(binary("/usr/bin/git"))
    policy = allowing(bag, runner=RunnerPolicy(images=images, line=3))
    reasons = evaluate(policy, bag)
    assert [r.subject for r in reasons] == expected
    assert all(r.code == "runner.image" and f"{SOURCE}:5" in r.message for r in reasons)


def test_runner_os_and_arch_and_missing_facts() -> None:
    bag = make_bag(binary("/usr/bin/git"), facts={"runner_environment": "github-hosted"})
    runner = RunnerPolicy(
        os=(VersionedName("ubuntu", ("24.04",), 6),), arch=("x86_64",), images=(), line=3
    )
    reasons = evaluate(allowing(bag, runner=runner), bag)
    assert codes(reasons) == [
        ("runner.arch", "runner arch"),
        ("runner.image", "runner image_os"),
        ("runner.os", "runner os"),
    ]
    assert "the bag has no os fact" in reasons[2].message
    good = make_bag(binary("/usr/bin/git"))
    runner = RunnerPolicy(os=(VersionedName("ubuntu", ("24.*",), 6),), arch=("x86_64",), line=3)
    assert evaluate(allowing(good, runner=runner), good) == []
    wrong = RunnerPolicy(os=(VersionedName("ubuntu", ("22.04",), 6),), arch=("arm*",), line=3)
    assert codes(evaluate(allowing(good, runner=wrong), good)) == [
        ("runner.arch", "runner arch"),
        ("runner.os", "runner os_version"),
    ]


@pytest.mark.parametrize(
    ("containers", "image", "denied"),
    [
        (None, "docker:image-unknown", False),
        ((), None, False),
        ((), "node:20@sha256:ab", True),
        (("node:20@sha256:*",), "node:20@sha256:ab", False),
        (("node:20@sha256:*",), "docker:image-unknown", True),
    ],
)
def test_runner_containers(
    containers: tuple[str, ...] | None, image: str | None, denied: bool
) -> None:
    facts = dict(FACTS) if image is None else {**FACTS, "container_image": image}
    bag = make_bag(binary("/usr/bin/git"), facts=facts)
    reasons = evaluate(allowing(bag, runner=RunnerPolicy(containers=containers, line=3)), bag)
    assert codes(reasons) == ([("runner.container", "runner container_image")] if denied else [])


def test_env_claim_and_file_mismatches_are_denied_whatever_the_policy() -> None:
    claim = runner_record(
        "env-claim-mismatch:GITHUB_REPOSITORY",
        claim="repository",
        claim_value="octo/app",
        env_value="evil/app",
        mismatch="true",
        variable="GITHUB_REPOSITORY",
    )
    image = runner_record(
        "env-file-mismatch:ImageVersion",
        env_value="1",
        file_value="2",
        mismatch="true",
        variable="ImageVersion",
    )
    bag = hosted_bag(claim, image)
    reasons = evaluate(allowing(bag), bag)
    assert codes(reasons) == [
        ("runner.mismatch", "runner env-claim-mismatch:GITHUB_REPOSITORY"),
        ("runner.mismatch", "runner env-file-mismatch:ImageVersion"),
    ]
    assert "`evil/app`" in reasons[0].message
    assert "`octo/app`" in reasons[0].message


# --- problems -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in Status if s not in (Status.OK, Status.DIGEST_ONLY)])
def test_every_problem_status_is_a_component_problem(status: Status) -> None:
    broken = dataclasses.replace(
        binary("/usr/bin/odd"), digest=None, status=status, properties=(("detail", "boom"),)
    )
    bag = hosted_bag(broken)
    policy = allowing(hosted_bag(binary("/usr/bin/odd")))
    reasons = evaluate(policy, bag)
    assert codes(reasons) == [("component.problem", "binary /usr/bin/odd")]
    assert status.value in reasons[0].message
    assert "`boom`" in reasons[0].message


def test_problem_path_entries_are_reported_and_ok_ones_are_not_binaries() -> None:
    bag = hosted_bag(path_entry("/opt/ok"), path_entry("/opt/gone", "unresolvable", Status.LOOP))
    reasons = evaluate(allowing(hosted_bag()), bag)
    assert codes(reasons) == [("component.problem", "binary /opt/gone")]


def test_a_failed_cataloger_is_reported_once() -> None:
    failed = runner_record(
        "cataloger-failed:os-packages",
        Status.UNREADABLE,
        error="PermissionError: [Errno 13] /var/lib/dpkg/status\nmore",
        partial_components="3",
    )
    bag = hosted_bag(failed)
    reasons = evaluate(allowing(bag), bag)
    assert codes(reasons) == [("cataloger.failed", "runner cataloger-failed:os-packages")]
    assert "after 3 components" in reasons[0].message
    assert "more" not in reasons[0].message


def test_problem_components_are_not_judged_twice_by_their_section() -> None:
    broken = dataclasses.replace(tool("go", "1.22.0"), digest=None, status=Status.CHANGED)
    reasons = evaluate(allowing(hosted_bag()), hosted_bag(broken))
    assert codes(reasons) == [("component.problem", "toolchain /opt/hostedtoolcache/go/1.22.0/x64")]


def test_volatile_components_are_still_evaluated() -> None:
    volatile = dataclasses.replace(env("LD_PRELOAD"), volatile=True)
    bag = hosted_bag(volatile)
    assert codes(evaluate(allowing(hosted_bag()), bag)) == [("env.forbidden", "env LD_PRELOAD")]


def test_image_kind_components_have_no_section_of_their_own() -> None:
    image = dataclasses.replace(
        binary("/x"), kind=ComponentKind.IMAGE, name="node", purl="pkg:docker/node@20"
    )
    assert evaluate(allowing(hosted_bag()), with_components(hosted_bag(), image)) == []
