"""The policy pull request: real PyGithub against recorded answers that check what we write."""

from __future__ import annotations

import base64

import pytest

from envsecops.errors import EnvsecopsError, InfraError, InputError
from envsecops.policy import propose_pr
from envsecops.policy.propose_pr import open_policy_pull_request
from tests.fixtures.github_api import policy_shapes
from tests.fixtures.github_api.policy_scenarios import BRANCH, PAYMENTS, STALE, head
from tests.fixtures.github_api.policy_shapes import (
    NEW_POLICY_TEXT,
    POLICY_PATH,
    POLICY_TEXT,
    PROPOSAL_BODY,
    PROPOSAL_TITLE,
    blob_sha,
)
from tests.integration.github_api.replay import Call, ReplayServer, StartServer

TOKEN = "ghs_policyProposeToken0123456789abcdef"
PULLS = f"/pulls?base=main&head=octo-org:{BRANCH}&per_page=100&state=open"


def _propose(
    server: ReplayServer,
    repo: str = "octo-org/payments",
    text: str = NEW_POLICY_TEXT,
    **kwargs: str,
) -> str:
    options = {"title": PROPOSAL_TITLE, "body": PROPOSAL_BODY, **kwargs}
    return open_policy_pull_request(
        repo,
        POLICY_PATH,
        text,
        title=options["title"],
        body=options["body"],
        token=TOKEN,
        api_url=server.base_url,
        branch=options.get("branch"),
    )


def _routes(repo: str, *tails: str) -> list[str]:
    return [f"{tail.split(' ')[0]} /repos/{repo}{tail.split(' ', 1)[1]}" for tail in tails]


def _call(server: ReplayServer, method: str, suffix: str) -> Call:
    return next(c for c in server.calls if c.method == method and c.path.endswith(suffix))


def _refused(server: ReplayServer, repo: str) -> EnvsecopsError:
    with pytest.raises(EnvsecopsError) as caught:
        _propose(server, repo)
    assert TOKEN not in caught.value.diagnostics()
    assert server.unmatched == []
    return caught.value


def test_the_branch_name_is_twelve_hex_of_the_texts_sha256() -> None:
    assert propose_pr.proposal_branch(NEW_POLICY_TEXT) == BRANCH
    assert policy_shapes.proposal_branch(NEW_POLICY_TEXT) == "envsecops/policy-c5ff8d72d1af"


def test_a_proposal_branches_commits_and_opens_a_pull_request(github_api: StartServer) -> None:
    server = github_api("policy-propose")
    assert _propose(server) == "https://github.com/octo-org/payments/pull/7"
    assert server.unmatched == []  # every write carried exactly the recorded body
    assert server.routes == _routes(
        "octo-org/payments",
        "GET ",
        "GET /git/ref/heads/main",
        f"GET /contents/.github/envsecops.yml?ref={head(PAYMENTS)}",
        "POST /git/refs",
        "PUT /contents/.github/envsecops.yml",
        f"GET {PULLS}",
        "POST /pulls",
    )
    assert _call(server, "POST", "/git/refs").body == {
        "ref": f"refs/heads/{BRANCH}",
        "sha": head(PAYMENTS),
    }
    put = _call(server, "PUT", POLICY_PATH).body
    assert base64.b64decode(put["content"]).decode() == NEW_POLICY_TEXT
    assert (put["sha"], put["branch"], put["message"]) == (
        blob_sha(POLICY_TEXT.encode()),
        BRANCH,
        PROPOSAL_TITLE,
    )
    assert _call(server, "POST", "/pulls").body == {
        "base": "main",
        "head": BRANCH,
        "title": PROPOSAL_TITLE,
        "body": PROPOSAL_BODY,
    }
    assert {c.authorization for c in server.calls} == {f"token {TOKEN}"}


def test_a_first_policy_is_created_on_the_branch(github_api: StartServer) -> None:
    server = github_api("policy-propose")
    assert _propose(server, "octo-org/fresh") == "https://github.com/octo-org/fresh/pull/1"
    assert server.unmatched == []
    assert "sha" not in _call(server, "PUT", POLICY_PATH).body


def test_an_open_pull_request_from_the_branch_is_returned_untouched(
    github_api: StartServer,
) -> None:
    server = github_api("policy-propose-exists")
    first = _propose(server)
    assert _propose(server) == first == "https://github.com/octo-org/payments/pull/7"
    assert server.unmatched == []
    assert [r for r in server.routes if not r.startswith("GET")] == [
        "POST /repos/octo-org/payments/git/refs"
    ] * 2
    assert server.routes[:5] == _routes(
        "octo-org/payments",
        "GET ",
        "GET /git/ref/heads/main",
        f"GET /contents/.github/envsecops.yml?ref={head(PAYMENTS)}",
        "POST /git/refs",
        f"GET /contents/.github/envsecops.yml?ref={BRANCH}",
    )


def test_a_branch_left_with_the_old_text_is_committed_to_and_proposed(
    github_api: StartServer,
) -> None:
    server = github_api("policy-propose-exists")
    assert _propose(server, "octo-org/stale") == "https://github.com/octo-org/stale/pull/3"
    assert server.unmatched == []
    assert _call(server, "PUT", POLICY_PATH).body["sha"] == blob_sha(POLICY_TEXT.encode())
    assert server.routes[3:] == _routes(
        STALE.full_name,
        "POST /git/refs",
        f"GET /contents/.github/envsecops.yml?ref={BRANCH}",
        "PUT /contents/.github/envsecops.yml",
        f"GET {PULLS}",
        "POST /pulls",
    )


def test_a_token_without_contents_write_is_told_which_permissions(
    github_api: StartServer,
) -> None:
    server = github_api("policy-propose-forbidden")
    error = _refused(server, "octo-org/payments")
    assert isinstance(error, InfraError)
    assert "creating the branch" in error.message
    assert "HTTP 403 Resource not accessible by integration" in error.message
    assert "contents=write" in error.message
    assert "permissions: {contents: write, pull-requests: write}" in str(error.fix)
    assert server.routes[-1] == "POST /repos/octo-org/payments/git/refs"


def test_actions_not_allowed_to_open_pull_requests_names_the_setting(
    github_api: StartServer,
) -> None:
    server = github_api("policy-propose-forbidden")
    error = _refused(server, "octo-org/no-prs")
    assert isinstance(error, InfraError)
    assert "GitHub Actions is not permitted to create or approve pull requests" in error.message
    assert "Allow GitHub Actions to create and approve pull requests" in str(error.fix)
    assert server.routes[-1] == "POST /repos/octo-org/no-prs/pulls"


def test_a_write_we_did_not_intend_is_refused_by_the_replay(github_api: StartServer) -> None:
    server = github_api("policy-propose")
    with pytest.raises(InfraError, match="HTTP 422") as caught:
        _propose(server, title="something else")
    assert "committing .github/envsecops.yml" in caught.value.message
    assert server.unmatched == ["PUT /repos/octo-org/payments/contents/.github/envsecops.yml"]


def test_the_text_already_on_the_default_branch_proposes_nothing(
    github_api: StartServer,
) -> None:
    server = github_api("policy-propose")
    with pytest.raises(InputError, match="nothing to propose"):
        _propose(server, text=POLICY_TEXT)
    assert all(route.startswith("GET") for route in server.routes)


def test_the_default_branch_is_no_proposal_branch(github_api: StartServer) -> None:
    server = github_api("policy-propose")
    with pytest.raises(InputError, match="is the default branch"):
        _propose(server, branch="main")
    assert server.routes == ["GET /repos/octo-org/payments"]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"branch": "bad..name"}, "not a usable branch name"),
        ({"branch": "refs/heads/x"}, "not a usable branch name"),
        ({"branch": "with space"}, "not a usable branch name"),
        ({"title": "  "}, "empty title"),
    ],
)
def test_bad_arguments_never_reach_the_api(
    options: dict[str, str], words: str, github_api: StartServer
) -> None:
    server = github_api("policy-propose")
    with pytest.raises(InputError, match=words):
        _propose(server, **options)
    assert server.routes == []


def test_a_policy_too_large_to_read_back_is_not_proposed(github_api: StartServer) -> None:
    server = github_api("policy-propose")
    with pytest.raises(InputError, match="could never use this one"):
        _propose(server, text="# x\n" * 300_000)
    assert server.routes == []
