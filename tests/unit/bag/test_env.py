"""The env cataloger: names and digests, never values; risky, volatile and secret variables."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from envsecops.bag.env import RISKY_ENV_VARS, Env, is_volatile, risk_of
from envsecops.bag.interface import CatalogContext
from envsecops.canonical import canonical_json
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts


def _catalog(environ: dict[str, str], **kwargs: bytes) -> dict[str, Component]:
    context = CatalogContext(environ=environ, root=Path("/nonexistent-root"))
    return {c.name: c for c in Env(**kwargs).catalog(context)}


@pytest.mark.parametrize(
    ("name", "risk"),
    [
        ("LD_PRELOAD", "loader"),
        ("LD_AUDIT", "loader"),
        ("LD_BIND_NOT", "loader"),
        ("DYLD_INSERT_LIBRARIES", "loader"),
        ("BASH_ENV", "shell-startup"),
        ("ENV", "shell-startup"),
        ("BASH_FUNC_ls%%", "shell-startup"),
        ("PROMPT_COMMAND", "shell-startup"),
        ("NODE_OPTIONS", "interpreter-startup"),
        ("PYTHONPATH", "interpreter-startup"),
        ("PYTHONSTARTUP", "interpreter-startup"),
        ("PYTHONWARNINGS", "interpreter-startup"),
        ("PERL5OPT", "interpreter-startup"),
        ("RUBYOPT", "interpreter-startup"),
        ("JAVA_TOOL_OPTIONS", "interpreter-startup"),
        ("GIT_SSH_COMMAND", "git"),
        ("GIT_ASKPASS", "git"),
        ("GIT_CONFIG_COUNT", "git"),
        ("GIT_CONFIG_KEY_0", "git"),
        ("GIT_CONFIG_GLOBAL", "git"),
        ("REQUESTS_CA_BUNDLE", "tls-trust"),
        ("SSLKEYLOGFILE", "tls-trust"),
        ("https_proxy", "network-proxy"),
        ("npm_config_registry", "package-source"),
        ("PIP_INDEX_URL", "package-source"),
        ("AWS_ENDPOINT_URL_STS", "cloud-endpoint"),
    ],
)
def test_risky_variables_are_flagged(name: str, risk: str) -> None:
    component = _catalog({name: "x", "HOME": "/home/runner"})[name]
    assert component.prop("risky") == "true"
    assert component.prop("risk") == risk
    assert risk_of(name) == risk


@pytest.mark.parametrize("name", ["HOME", "PATH", "LANG", "GITHUB_REPOSITORY", "CI", "LDFLAGS"])
def test_ordinary_variables_are_not_flagged(name: str) -> None:
    assert _catalog({name: "x"})[name].prop("risky") is None


def test_the_exported_list_holds_the_names_the_policy_needs() -> None:
    assert {"LD_PRELOAD", "BASH_ENV", "ENV", "NODE_OPTIONS", "PYTHONPATH", "PERL5OPT"} <= (
        RISKY_ENV_VARS
    )


def test_values_are_digested_never_recorded() -> None:
    value = "a-distinctive-value-12345"
    component = _catalog({"SOME_SETTING": value})["SOME_SETTING"]
    assert component.kind is ComponentKind.ENV
    assert component.digest == "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    assert value not in json.dumps(component.to_json())


@pytest.mark.parametrize(
    "name",
    ["GITHUB_TOKEN", "MY_API_KEY", "NPM_AUTH_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY",
     "SIGNING_KEY", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
)  # fmt: skip
def test_secrets_are_recorded_by_presence_only(name: str) -> None:
    value = "hunter2"
    component = _catalog({name: value})[name]
    text = json.dumps(component.to_json())
    assert component.digest is None
    assert component.prop("secret") == "true"
    assert value not in text
    assert hashlib.sha256(value.encode()).hexdigest() not in text


def test_a_key_turns_digests_into_macs() -> None:
    plain = _catalog({"SETTING": "1"})["SETTING"]
    one = _catalog({"SETTING": "1"}, key=b"k" * 32)["SETTING"]
    two = _catalog({"SETTING": "1"}, key=b"j" * 32)["SETTING"]
    assert one.digest is None
    assert plain.digest is not None
    assert one.prop("hmac-sha256") != two.prop("hmac-sha256")
    assert plain.digest.removeprefix("sha256:") not in json.dumps(one.to_json())


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_RUN_ID",
        "GITHUB_RUN_ATTEMPT",
        "GITHUB_SHA",
        "GITHUB_REF",
        "GITHUB_REF_NAME",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_STEP_SUMMARY",
        "RUNNER_TEMP",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "INVOCATION_ID",
        "INPUT_POLICY",
        "ENVSECOPS_MODE",
    ],
)
def test_per_run_variables_are_volatile(name: str) -> None:
    assert is_volatile(name)
    assert _catalog({name: "x"})[name].volatile


def test_unchanged_machine_hashes_alike_across_runs() -> None:
    base = {"PATH": "/usr/bin:/bin", "HOME": "/home/runner", "ImageOS": "ubuntu24"}
    run1 = {**base, "GITHUB_RUN_ID": "1", "GITHUB_SHA": "a" * 40, "RUNNER_TRACKING_ID": "x"}
    run2 = {**base, "GITHUB_RUN_ID": "2", "GITHUB_SHA": "b" * 40, "RUNNER_TRACKING_ID": "y"}
    bags = [Bag.build(RunnerFacts(), _catalog(env).values()) for env in (run1, run2)]
    assert bags[0].env_hash == bags[1].env_hash
    changed = Bag.build(RunnerFacts(), _catalog({**run1, "PATH": "/evil:/usr/bin:/bin"}).values())
    assert changed.env_hash != bags[0].env_hash


def test_non_utf8_names_are_escaped_deterministically() -> None:
    raw = os.fsdecode(b"WEIRD_\xff_NAME")
    component = _catalog({raw: "v"})["WEIRD_\\xff_NAME"]
    assert component.prop("name-escaped") == "true"
    canonical_json(component.to_json())  # valid UTF-8: RFC 8785 would refuse a lone surrogate
