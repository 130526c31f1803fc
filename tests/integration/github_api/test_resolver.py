"""GitHubResolver through real PyGithub against recorded responses; the pure tag helpers."""

from __future__ import annotations

import pytest

from envsecops.errors import ExitCode, InfraError
from envsecops.gh.api import ApiSettings
from envsecops.pins.resolve import (
    GitHubResolver,
    RefKind,
    Resolution,
    ResolveError,
    most_specific_tag,
    repo_of,
    version_key,
)
from tests.integration.github_api.replay import StartServer

V421 = "f540a503e61f9ac4ab52b6f497ebac8a5d311d60"
V410 = "94cbd2475d8107f3b4b1d20a86310378cf132490"
SETUP_530 = "cfd1a5beffa5b250408a52e533072db0087c22c8"


def _resolver(github_api: StartServer, **kwargs: int) -> tuple[GitHubResolver, list[str]]:
    server = github_api("actions")
    return GitHubResolver(ApiSettings(server.base_url), **kwargs), server.routes


def test_lightweight_tag_and_its_most_specific_name(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    assert resolver.resolve("actions/checkout", "v4") == Resolution(
        "actions/checkout", "v4", V421, RefKind.TAG, "v4.2.1"
    )
    assert resolver.resolve("Actions/Checkout", "v4").sha == V421  # cached, case-insensitive
    assert resolver.resolve("actions/checkout", "v4.1.0").tag == "v4.1.0"  # from the listing
    assert server.routes == [
        "GET /repos/actions/checkout/git/ref/tags/v4",
        "GET /repos/actions/checkout/tags?per_page=100",
    ]


def test_annotated_tag_is_dereferenced_to_its_commit(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    found = resolver.resolve("actions/setup-python", "v5", describe=False)
    assert (found.sha, found.kind, found.tag) == (SETUP_530, RefKind.TAG, None)
    assert server.routes == [
        "GET /repos/actions/setup-python/git/ref/tags/v5",
        "GET /repos/actions/setup-python/git/tags/464735bd24046eaf9b543f908f5cd972add65b96",
    ]


def test_branch_and_explicit_ref_namespaces(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    main = resolver.resolve("actions/checkout", "main", describe=False)
    assert main.kind is RefKind.BRANCH
    assert resolver.resolve("actions/checkout", "refs/heads/main", describe=False).sha == main.sha
    assert resolver.resolve("actions/checkout", "refs/tags/v4", describe=False).sha == V421
    assert server.routes == [
        "GET /repos/actions/checkout/git/ref/tags/main",
        "GET /repos/actions/checkout/git/ref/heads/main",
        "GET /repos/actions/checkout/git/ref/heads/main",
        "GET /repos/actions/checkout/git/ref/tags/v4",
    ]


def test_full_sha_needs_no_lookup_and_is_named_by_the_listing(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    found = resolver.resolve("actions/checkout", V410)
    assert (found.sha, found.kind, found.tag) == (V410, RefKind.COMMIT, "v4.1.0")
    assert server.routes == ["GET /repos/actions/checkout/tags?per_page=100"]


def test_missing_refs_are_errors_and_cached(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    for _ in range(2):
        with pytest.raises(ResolveError, match="has no tag or branch named `v99`") as caught:
            resolver.resolve("actions/checkout", "v99")
        assert caught.value.missing == "ref"
    with pytest.raises(ResolveError, match="does not exist or is private") as ghost:
        resolver.resolve("ghost-org/missing-action", "v1")
    assert ghost.value.missing == "repository"
    assert server.routes.count("GET /repos/actions/checkout/git/ref/tags/v99") == 1
    assert server.unmatched == []


def test_short_sha_resolves_only_when_unambiguous(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    found = resolver.resolve("octo-org/short-sha-action", "097936c00435")
    assert found.sha == "097936c004359bf6841d03757c6d500cfb3ffbdc"
    assert (found.kind, found.tag) == (RefKind.COMMIT, "v2.0.0")
    with pytest.raises(ResolveError, match="422"):
        resolver.resolve("octo-org/short-sha-action", "deadbee")
    assert server.unmatched == []


def test_tag_listing_follows_link_pages_within_its_bound(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    assert resolver.resolve("octo-org/many-tags", "v1").tag == "v1.129.0"  # on page 2
    assert server.routes[-1] == "GET /repositories/100004/tags?page=2&per_page=100"
    bounded = GitHubResolver(ApiSettings(server.base_url), max_tags=100)
    before = len(server.routes)
    assert bounded.resolve("octo-org/many-tags", "v1").tag == "v1"  # page 2 never read
    assert server.routes[before:] == [
        "GET /repos/octo-org/many-tags/git/ref/tags/v1",
        "GET /repos/octo-org/many-tags/tags?per_page=100",
    ]


@pytest.mark.parametrize(
    ("repo", "ref", "words"),
    [
        ("actions", "v4", "not a valid GitHub owner/repository name"),
        ("actions/..", "v4", "not a valid GitHub owner/repository name"),
        ("act ions/checkout", "v4", "not a valid GitHub owner/repository name"),
        ("actions/checkout", "../../../user", "not a valid git ref name"),
        ("actions/checkout", "v4?x=1", "not a valid git ref name"),
        ("actions/checkout", "v4 ", "not a valid git ref name"),
        ("actions/checkout", "", "not a valid git ref name"),
        ("actions/checkout", "heads/x.lock", "not a valid git ref name"),
        ("actions/checkout", "@{1}", "not a valid git ref name"),
    ],
)
def test_hostile_names_never_reach_the_api(
    repo: str, ref: str, words: str, github_api: StartServer
) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    with pytest.raises(ResolveError, match=words):
        resolver.resolve(repo, ref)
    assert server.routes == []


@pytest.mark.parametrize(
    ("names", "best"),
    [
        (["v4", "v4.2", "v4.2.1"], "v4.2.1"),
        (["v4.2.1-rc.1", "v4.2.0"], "v4.2.0"),
        (["v4.10.0", "v4.9.0"], "v4.10.0"),
        (["latest", "stable"], None),
        (["4.2.1", "v4.2.1"], "v4.2.1"),
        ([], None),
    ],
)
def test_most_specific_tag(names: list[str], best: str | None) -> None:
    assert most_specific_tag(names) == best


def test_version_key_and_repo_of() -> None:
    assert version_key("main") is None
    assert version_key("v1.2.3") == (True, 3, (1, 2, 3), "v1.2.3")
    assert repo_of("actions/checkout/sub/dir") == "actions/checkout"
    assert repo_of("owner\\repo\\path") == "owner/repo"


@pytest.mark.parametrize(
    ("ref", "words"),
    [("v4", "resolved to 'not-a-commit-sha', not a commit SHA"), ("v3", "shape of GitHub's")],
)
def test_an_answer_of_the_wrong_shape_is_an_infrastructure_failure(
    ref: str, words: str, github_api: StartServer
) -> None:
    server = github_api("malformed")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    with pytest.raises(InfraError, match=words) as caught:
        resolver.resolve("actions/checkout", ref)
    assert caught.value.exit_code is ExitCode.INFRA
