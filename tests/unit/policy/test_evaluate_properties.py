"""Property tests: evaluate never raises, is deterministic, and allows what it was drafted from."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status
from envsecops.policy.evaluate import evaluate
from envsecops.policy.model import (
    ActionRule,
    DigestRule,
    EnvAllow,
    EnvPolicy,
    PackageRule,
    PackagesPolicy,
    Policy,
    RunnerPolicy,
    SbomPolicy,
    ToolRule,
    VersionedName,
)
from envsecops.policy.reasons import CODES, MAX_REASONS
from envsecops.policy.rules.purl_base import base_and_type, base_purl, purl_type, reduce_purl
from tests.unit.policy.evaluate_support import allowing, make_policy

T = TypeVar("T")
TEXT = st.text(min_size=0, max_size=24)
WEIRD = st.one_of(
    TEXT,
    st.sampled_from(
        ["*", "[", "[!]", "]", "pkg:", "pkg:pypi/", "@", "%", "%zz", "?a=b#c", "1:2.39.2-1.1",
         ">=1,<2", "==1.*", "~=", "v1", "a" * 40, "/usr/bin/[", "pkg:npm/%40x/y@1", "default"]
    ),
)  # fmt: skip
DIGEST = st.one_of(st.none(), st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
PROPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["pin-findings", "ref-is-sha", "detail", "risky", "secret", "layout", "error",
             "variable", "claim_value", "env_value", "arch", "partial_components"]
        ),
        WEIRD,
    ),
    max_size=4,
    unique_by=lambda kv: kv[0],
)  # fmt: skip

components = st.builds(
    Component,
    kind=st.sampled_from(list(ComponentKind)),
    name=st.one_of(WEIRD, st.sampled_from(["path-entry", "_actions-entry", "env-claim-mismatch:X",
                                           "cataloger-failed:env", "LD_PRELOAD"])),
    source=st.sampled_from(["x", "env", "runner"]),
    version=st.one_of(st.none(), WEIRD),
    path=st.one_of(st.none(), WEIRD),
    digest=DIGEST.map(lambda d: None if d is None else "sha256:" + d),
    purl=st.one_of(st.none(), WEIRD),
    status=st.sampled_from(list(Status)),
    properties=PROPS.map(lambda p: tuple(sorted(p))),
    volatile=st.booleans(),
)  # fmt: skip
facts = st.dictionaries(
    st.sampled_from(["os", "os_version", "arch", "image_os", "image_version",
                     "runner_environment", "container_image"]),
    WEIRD,
    max_size=7,
)  # fmt: skip
versions = st.one_of(st.none(), WEIRD, st.lists(WEIRD, max_size=3).map(tuple))
package_rules = st.builds(PackageRule, purl=WEIRD, versions=versions, reason=st.none() | WEIRD)


def _bag(items: list[Component], runner: dict[str, str]) -> Bag:
    return Bag.build(RunnerFacts(tuple(sorted(runner.items()))), items)


def tuples(items: st.SearchStrategy[T]) -> st.SearchStrategy[tuple[T, ...]]:
    """Short tuples of ``items``."""
    return st.lists(items, max_size=3).map(tuple)


named = st.builds(VersionedName, WEIRD, tuples(WEIRD))
policies = st.builds(
    make_policy,
    runner=st.builds(
        RunnerPolicy,
        environments=tuples(WEIRD),
        images=st.none() | tuples(named),
        os=st.none() | tuples(named),
        arch=st.none() | tuples(WEIRD),
        containers=st.none() | tuples(WEIRD),
    ),
    binaries=tuples(st.builds(DigestRule, WEIRD, tuples(WEIRD))),
    tool_cache=tuples(st.builds(ToolRule, WEIRD, WEIRD, tuples(WEIRD))),
    packages=st.builds(PackagesPolicy, allow=tuples(package_rules), deny=tuples(package_rules)),
    configs=tuples(st.builds(DigestRule, WEIRD, tuples(WEIRD), withheld=st.booleans())),
    env=st.builds(
        EnvPolicy,
        forbidden=st.none() | tuples(WEIRD),
        allowed=tuples(st.builds(EnvAllow, WEIRD, st.none() | tuples(WEIRD))),
    ),
    actions=tuples(st.builds(ActionRule, WEIRD, st.none() | tuples(WEIRD), st.booleans())),
    sbom=st.builds(SbomPolicy, deny=tuples(package_rules)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies, items=st.lists(components, max_size=12), runner=facts)
def test_evaluate_never_raises_and_returns_sorted_known_reasons(
    policy: Policy, items: list[Component], runner: dict[str, str]
) -> None:
    bag = _bag(items, runner)
    reasons = evaluate(policy, bag)
    assert reasons == evaluate(policy, bag)
    assert len(reasons) <= MAX_REASONS
    assert {r.code for r in reasons} <= set(CODES)
    keys = [(r.code, r.subject, r.message) for r in reasons]
    assert keys == sorted(set(keys))
    problems = [c for c in bag.components if c.status not in (Status.OK, Status.DIGEST_ONLY)]
    assert len(reasons) >= min(len(problems), 1)


SAFE = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20)
HEX = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def _binary(path: str, digest: str) -> Component:
    name = path.rsplit("/", 1)[-1] or "x"
    return Component(
        ComponentKind.BINARY, name, "path-binaries", path="/" + path, digest="sha256:" + digest
    )


def _package(kind: str, name: str, version: str) -> Component:
    purl = f"pkg:{kind}/{quote(name, safe='')}@{quote(version, safe='')}"
    return Component(ComponentKind.PACKAGE, name, "x", version=version, purl=purl)


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(
        st.one_of(
            st.builds(_binary, SAFE.filter(lambda p: p.rsplit("/", 1)[-1] != "path-entry"), HEX),
            st.builds(_package, st.sampled_from(["pypi", "deb", "npm", "generic"]), SAFE, SAFE),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_a_policy_drafted_from_a_bag_allows_it(items: list[Component]) -> None:
    bag = _bag(items, {"runner_environment": "github-hosted"})
    assert evaluate(allowing(bag), bag) == []


@given(WEIRD)
def test_base_purl_never_raises_and_is_stable(purl: str) -> None:
    once = base_purl(purl)
    if not set("@?#%") & set(once) and once == once.strip():
        assert base_purl(once) == once


PURL_PART = st.text(alphabet="aZ09._-/@%?#: ~+", min_size=0, max_size=12)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        WEIRD,
        st.builds(
            lambda kind, path, version, tail: f"pkg:{kind}/{path}{version}{tail}",
            st.sampled_from(["pypi", "deb", "npm", "generic", "PyPI", "github", "a+b"]),
            PURL_PART,
            st.sampled_from(["", "@1.0", "@1:2.3-1", "@a@b", "@v/1", "@ "]),
            st.sampled_from(["", "?arch=x64", "#sub/dir", "?a=b#c", " "]),
        ),
    )
)
def test_the_fast_purl_path_agrees_with_the_full_parse(purl: str) -> None:
    assert base_purl(purl) == reduce_purl(purl)


@given(WEIRD)
def test_base_and_type_agree_with_base_purl(purl: str) -> None:
    base, kind = base_and_type(purl)
    assert base == base_purl(purl) == reduce_purl(purl)
    assert kind == purl_type(base)
