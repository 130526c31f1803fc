"""evaluate() over env variables, downloaded actions and pin-check findings."""

from __future__ import annotations

import dataclasses

import pytest

from envsecops.bag.env import RISKY_ENV_PREFIXES, RISKY_ENV_VARS
from envsecops.model.bag import Component
from envsecops.model.findings import Confidence, Finding, Severity
from envsecops.policy.evaluate import evaluate
from envsecops.policy.model import ActionRule, EnvAllow, EnvPolicy
from envsecops.policy.pins import PinsPolicy
from envsecops.policy.rules.env import DEFAULT_FORBIDDEN, forbidden_patterns
from tests.unit.policy.evaluate_support import (
    OTHER_SHA,
    SHA,
    SOURCE,
    action,
    allowing,
    binary,
    codes,
    digest,
    env,
    make_bag,
)

BIN = binary("/usr/bin/git")


def _env(*components: Component, policy: EnvPolicy | None = None) -> list[tuple[str, str]]:
    bag = make_bag(BIN, *components)
    return codes(evaluate(allowing(make_bag(BIN), env=policy or EnvPolicy()), bag))


def test_the_default_list_is_attest_runners_risky_list() -> None:
    assert set(DEFAULT_FORBIDDEN) == set(RISKY_ENV_VARS) | {f"{p}*" for p in RISKY_ENV_PREFIXES}
    assert forbidden_patterns(None) == [(p, True) for p in DEFAULT_FORBIDDEN]
    expanded = forbidden_patterns(("MINE", "default"))
    assert expanded[0] == ("MINE", False)
    assert [p for p, _ in expanded[1:]] == list(DEFAULT_FORBIDDEN)


@pytest.mark.parametrize(
    "name",
    ["LD_PRELOAD", "BASH_ENV", "NODE_OPTIONS", "GIT_CONFIG_COUNT", "BASH_FUNC_ls%%", "DYLD_X",
     "AWS_ENDPOINT_URL_S3", "ld_preload", "Node_Options"],
)  # fmt: skip
def test_default_forbidden_names_and_prefixes_any_case(name: str) -> None:
    assert _env(env(name)) == [("env.forbidden", f"env {name}")]


def test_harmless_variables_pass_even_when_marked_risky_by_another_policy() -> None:
    assert _env(env("HOME"), env("PATH"), env("LANG")) == []
    # the policy list decides, not the bag's risky property
    mine = EnvPolicy(forbidden=("MY_DEBUG_HOOK",))
    assert _env(env("LD_PRELOAD", risky="true"), policy=mine) == []
    assert _env(env("MY_DEBUG_HOOK"), policy=mine) == [("env.forbidden", "env MY_DEBUG_HOOK")]


def test_default_inside_a_written_list_expands() -> None:
    mine = EnvPolicy(forbidden=("default", "MY_*"))
    found = _env(env("LD_PRELOAD"), env("MY_HOOK"), env("OTHER"), policy=mine)
    assert found == [("env.forbidden", "env LD_PRELOAD"), ("env.forbidden", "env MY_HOOK")]


def test_an_empty_forbidden_list_forbids_nothing() -> None:
    assert _env(env("LD_PRELOAD"), policy=EnvPolicy(forbidden=())) == []


def test_forbidden_messages_say_which_list_decides() -> None:
    bag = make_bag(BIN, env("LD_PRELOAD"))
    default = evaluate(allowing(make_bag(BIN)), bag)[0].message
    assert "`LD_PRELOAD` in the default list" in default
    prefixed = evaluate(allowing(make_bag(BIN)), make_bag(BIN, env("LD_DEBUG")))[0].message
    assert "`LD_*` in the default list" in prefixed
    assert f"add `LD_PRELOAD: [{digest('LD_PRELOAD')}]` under `env.allowed`" in default
    written = EnvPolicy(forbidden=("LD_PRE*",))
    message = evaluate(allowing(make_bag(BIN), env=written), bag)[0].message
    assert f"`LD_PRE*` in `env.forbidden` at {SOURCE}" in message
    expanded = EnvPolicy(forbidden=("default",))
    message = evaluate(allowing(make_bag(BIN), env=expanded), bag)[0].message
    assert "(from `default`)" in message


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (EnvAllow("NODE_EXTRA_CA_CERTS", None, 80), []),
        (EnvAllow("NODE_EXTRA_CA_CERTS", (digest("NODE_EXTRA_CA_CERTS"),), 80), []),
        (EnvAllow("NODE_*", None, 80), []),
        (EnvAllow("NODE_EXTRA_CA_CERTS", (digest("other"),), 80), ["env.value"]),
        (EnvAllow("node_extra_ca_certs", None, 80), ["env.forbidden"]),
        (EnvAllow("SSL_CERT_FILE", None, 80), ["env.forbidden"]),
    ],
)
def test_env_allowed_exceptions(allowed: EnvAllow, expected: list[str]) -> None:
    found = _env(env("NODE_EXTRA_CA_CERTS"), policy=EnvPolicy(allowed=(allowed,)))
    assert [code for code, _ in found] == expected


def test_an_exception_covers_only_its_own_spelling() -> None:
    allowed = EnvPolicy(allowed=(EnvAllow("LD_LIBRARY_PATH", None, 80),))
    found = _env(env("LD_LIBRARY_PATH"), env("ld_library_path"), policy=allowed)
    assert found == [("env.forbidden", "env ld_library_path")]


def test_a_secret_variable_needs_any() -> None:
    secret = env("GIT_CONFIG_PASSWORD", secret="true", value="redacted")
    by_digest = EnvPolicy(allowed=(EnvAllow("GIT_CONFIG_PASSWORD", (digest("x"),), 80),))
    bag = make_bag(BIN, secret)
    reasons = evaluate(allowing(make_bag(BIN), env=by_digest), bag)
    assert codes(reasons) == [("env.value", "env GIT_CONFIG_PASSWORD")]
    assert "only `any` can accept it" in reasons[0].message
    assert f"{SOURCE}:80" in reasons[0].message
    anyvalue = EnvPolicy(allowed=(EnvAllow("GIT_CONFIG_PASSWORD", None, 80),))
    assert evaluate(allowing(make_bag(BIN), env=anyvalue), bag) == []
    forbidden = evaluate(allowing(make_bag(BIN)), bag)[0].message
    assert "add `GIT_CONFIG_PASSWORD: any` under `env.allowed`" in forbidden


def test_a_value_outside_the_allowed_digests() -> None:
    policy = EnvPolicy(allowed=(EnvAllow("PYTHONPATH", (digest("a"), digest("b")), 81),))
    bag = make_bag(BIN, env("PYTHONPATH", "c"))
    reasons = evaluate(allowing(make_bag(BIN), env=policy), bag)
    assert codes(reasons) == [("env.value", "env PYTHONPATH")]
    assert "not among the 2 allowed at .github/envsecops.yml:81" in reasons[0].message


# --- actions ----------------------------------------------------------------------------------


def _actions(*components: Component, rules: tuple[ActionRule, ...]) -> list[tuple[str, str]]:
    bag = make_bag(BIN, *components)
    return codes(evaluate(allowing(make_bag(BIN), actions=rules), bag))


CHECKOUT = ActionRule("actions/checkout", (SHA,), line=90)


def test_an_action_at_a_listed_sha_is_allowed() -> None:
    assert _actions(action("actions/checkout", SHA), rules=(CHECKOUT,)) == []
    upper = ActionRule("Actions/Checkout", (SHA.upper(),), line=90)
    assert _actions(action("actions/checkout", SHA), rules=(upper,)) == []


def test_an_action_at_another_sha_names_the_allowed_commits() -> None:
    bag = make_bag(BIN, action("actions/checkout", OTHER_SHA))
    reasons = evaluate(allowing(make_bag(BIN), actions=(CHECKOUT,)), bag)
    assert codes(reasons) == [("action.sha", f"action actions/checkout@{OTHER_SHA}")]
    assert f"{SOURCE}:90" in reasons[0].message
    assert SHA[:12] in reasons[0].message


def test_any_sha_accepts_any_full_sha_but_never_a_tag() -> None:
    rules = (ActionRule("my-org/*", None, line=91),)
    assert _actions(action("my-org/deploy", OTHER_SHA), rules=rules) == []
    assert _actions(action("my-org/deploy", "v1"), rules=rules) == [
        ("action.unpinned", "action my-org/deploy@v1")
    ]


def test_a_tag_ref_is_unpinned_whatever_the_policy() -> None:
    bag = make_bag(BIN, action("actions/checkout", "v4"))
    reasons = evaluate(allowing(make_bag(BIN), actions=(CHECKOUT,)), bag)
    assert codes(reasons) == [("action.unpinned", "action actions/checkout@v4")]
    assert "pin `uses: actions/checkout@<full commit SHA>  # v4`" in reasons[0].message


def test_a_forged_ref_is_sha_property_is_not_believed() -> None:
    forged = dataclasses.replace(
        action("actions/checkout", "main"),
        properties=(("pin-findings", "0"), ("ref-is-sha", "true")),
    )
    assert _actions(forged, rules=(CHECKOUT,)) == [
        ("action.unpinned", "action actions/checkout@main")
    ]


def test_an_unlisted_action_says_what_to_add() -> None:
    bag = make_bag(BIN, action("someone/thing", SHA), action("other/thing", "main"))
    reasons = evaluate(allowing(make_bag(BIN), actions=(CHECKOUT,)), bag)
    assert codes(reasons) == [
        ("action.unlisted", "action other/thing@main"),
        ("action.unlisted", f"action someone/thing@{SHA}"),
        ("action.unpinned", "action other/thing@main"),
    ]
    assert f"add `someone/thing: [{SHA}]` under `actions:`" in reasons[1].message


def test_pin_findings_inside_an_action_need_allow_pin_findings() -> None:
    noisy = action("some/composite", SHA, findings=2)
    reasons = _actions(noisy, rules=(ActionRule("some/composite", (SHA,), line=92),))
    assert reasons == [("action.pin-findings", f"action some/composite@{SHA}")]
    accepted = ActionRule("some/composite", (SHA,), allow_pin_findings=True, line=92)
    assert _actions(noisy, rules=(accepted,)) == []


def test_pin_findings_message_lists_them() -> None:
    bag = make_bag(BIN, action("some/composite", SHA, findings=1))
    rules = (ActionRule("some/*", None, line=92),)
    reasons = evaluate(allowing(make_bag(BIN), actions=rules), bag)
    assert "1 unpinned reference (`action.yml:3 unpinned-uses x/y@v1 (1)`)" in reasons[0].message
    assert "`allow-pin-findings: true`" in reasons[0].message


@pytest.mark.parametrize("count", ["many", "-1", "٣"])
def test_an_unreadable_pin_findings_count_fails_closed(count: str) -> None:
    odd = dataclasses.replace(
        action("some/composite", SHA), properties=(("pin-findings", count), ("ref-is-sha", "true"))
    )
    reasons = _actions(odd, rules=(ActionRule("some/composite", (SHA,), line=92),))
    assert reasons == [("action.pin-findings", f"action some/composite@{SHA}")]


def test_an_unexpected_actions_entry_is_unlisted() -> None:
    stray = dataclasses.replace(
        action("x/y", SHA),
        name="_actions-entry",
        version=None,
        purl=None,
        path="/home/runner/work/_actions/stray.sh",
        properties=(("detail", "unexpected entry"),),
    )
    reasons = _actions(stray, rules=(ActionRule("*", None, line=93),))
    assert reasons == [("action.unlisted", "action /home/runner/work/_actions/stray.sh")]


# --- pin findings --------------------------------------------------------------------------------


def _finding(path: str, line: int, fix: str | None = "pin it to a SHA") -> Finding:
    return Finding(
        "unpinned-uses",
        Severity.HIGH,
        Confidence.HIGH,
        path,
        line,
        7,
        "actions/setup-node@v4",
        "uses: is not pinned to a full commit SHA",
        fix,
    )


def test_each_active_pin_finding_is_a_reason() -> None:
    bag = make_bag(BIN)
    findings = [_finding(".github/workflows/ci.yml", 12), _finding("action.yml", 3, None)]
    policy = allowing(bag, pins=PinsPolicy(source=SOURCE))
    reasons = evaluate(policy, bag, pin_findings=findings)
    assert codes(reasons) == [
        ("pins.finding", "pin .github/workflows/ci.yml:12:7 unpinned-uses"),
        ("pins.finding", "pin action.yml:3:7 unpinned-uses"),
    ]
    assert "pin it to a SHA; or add a `pins.exceptions` entry" in reasons[0].message
    assert f"to {SOURCE}" in reasons[0].message
    assert evaluate(policy, bag) == []
