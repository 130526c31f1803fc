"""The policy from the default branch: real PyGithub against recorded GitHub API answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from envsecops.errors import EnvsecopsError, ExitCode, InfraError, InputError
from envsecops.policy.fetch import FetchedPolicy, fetch_default_branch_policy
from tests.fixtures.github_api.policy_scenarios import NO_POLICY, PAYMENTS, TRUNK, head
from tests.fixtures.github_api.policy_shapes import POLICY_PATH, POLICY_TEXT
from tests.integration.github_api.replay import ReplayServer, StartServer, refused_url

TOKEN = "ghs_policyFetchToken0123456789abcdef"
MAIN = head(PAYMENTS)
PAYMENTS_ROUTES = [
    "GET /repos/octo-org/payments",
    "GET /repos/octo-org/payments/git/ref/heads/main",
    f"GET /repos/octo-org/payments/contents/.github/envsecops.yml?ref={MAIN}",
]


def _fetch(
    server: ReplayServer, repo: str = "octo-org/payments", path: str = POLICY_PATH
) -> FetchedPolicy:
    return fetch_default_branch_policy(repo, path, token=TOKEN, api_url=server.base_url)


def _refused(server: ReplayServer, repo: str, path: str) -> EnvsecopsError:
    """The error a fetch ends in; it never shows the token, and every call carried it."""
    with pytest.raises(EnvsecopsError) as caught:
        _fetch(server, repo, path)
    error = caught.value
    assert isinstance(error, InfraError | InputError)
    assert error.fix
    assert TOKEN not in error.diagnostics()
    assert TOKEN not in repr(error)
    assert {call.authorization for call in server.calls} <= {f"token {TOKEN}"}
    assert server.unmatched == []
    return error


def test_the_policy_is_the_file_at_the_head_commit_of_the_default_branch(
    github_api: StartServer,
) -> None:
    server = github_api("policy-fetch")
    fetched = _fetch(server)
    assert fetched == FetchedPolicy(
        text=POLICY_TEXT, source=f"octo-org/payments@main:.github/envsecops.yml ({MAIN})"
    )
    assert "Zoë" in fetched.text  # decoded as UTF-8
    assert server.routes == PAYMENTS_ROUTES
    assert server.unmatched == []
    assert [(c.authorization, c.user_agent) for c in server.calls] == [
        (f"token {TOKEN}", "envsecops/0.1.0")
    ] * 3


def test_the_default_branch_is_the_repositorys_not_main(github_api: StartServer) -> None:
    server = github_api("policy-fetch")
    fetched = _fetch(server, "octo-org/trunk-based", "./.github//envsecops.yml")
    sha = head(TRUNK, "trunk")
    assert fetched.source == f"octo-org/trunk-based@trunk:.github/envsecops.yml ({sha})"
    assert server.routes[-1] == f"GET /repos/octo-org/trunk-based/contents/{POLICY_PATH}?ref={sha}"


def test_a_github_enterprise_api_under_a_prefix(github_api: StartServer) -> None:
    server = github_api("policy-fetch", prefix="/api/v3")
    assert _fetch(server).text == POLICY_TEXT
    assert server.routes == PAYMENTS_ROUTES


def test_without_a_token_no_authorization_is_sent(github_api: StartServer) -> None:
    server = github_api("policy-fetch")
    fetched = fetch_default_branch_policy(
        "octo-org/payments", POLICY_PATH, token="  ", api_url=server.base_url
    )
    assert fetched.text == POLICY_TEXT
    assert {call.authorization for call in server.calls} == {None}


@pytest.mark.parametrize(
    ("scenario", "repo", "path", "words", "fix"),
    [
        (
            "policy-missing",
            "octo-org/no-policy",
            POLICY_PATH,
            "there is no policy on the default branch main",
            "envsecops policy init --from bag.json",
        ),
        ("policy-missing", "octo-org/empty", POLICY_PATH, "is empty", "merge a policy into main"),
        ("policy-refused", "octo-org/payments", ".github", "is a directory", "envsecops.yml"),
        (
            "policy-refused",
            "octo-org/payments",
            ".github/link.yml",
            "is a symbolic link to '../../shared/envsecops.yml'",
            "regular file",
        ),
        (
            "policy-refused",
            "octo-org/payments",
            ".github/followed.yml",
            "is a symbolic link to '.github/real.yml'",
            "regular file",
        ),
        ("policy-refused", "octo-org/payments", "vendor/policy", "is a git submodule", "regular"),
        (
            "policy-refused",
            "octo-org/payments",
            ".github/latin1.yml",
            "byte 9 is not UTF-8",
            "UTF-8",
        ),
        ("policy-too-large", "octo-org/payments", POLICY_PATH, "2,500,000 bytes", "shrink"),
    ],
)
def test_what_is_not_a_policy_on_the_default_branch_is_an_input_error(
    scenario: str, repo: str, path: str, words: str, fix: str, github_api: StartServer
) -> None:
    server = github_api(scenario)
    error = _refused(server, repo, path)
    assert isinstance(error, InputError)
    assert words in error.message
    assert fix in str(error.fix)
    assert error.message.startswith(repo) or "repository" in error.message


def test_no_policy_names_the_commit_it_looked_at_and_the_token_grant(
    github_api: StartServer,
) -> None:
    server = github_api("policy-missing")
    error = _refused(server, "octo-org/no-policy", POLICY_PATH)
    sha = head(NO_POLICY)
    assert f"octo-org/no-policy@main:.github/envsecops.yml ({sha})" in error.message
    assert "permissions: {contents: read}" in str(error.fix)


@pytest.mark.parametrize(
    ("scenario", "repo", "path", "words", "fix"),
    [
        ("policy-missing", "octo-org/ghost", POLICY_PATH, "was not found (HTTP 404)", "contents"),
        (
            "policy-forbidden",
            "octo-org/payments",
            POLICY_PATH,
            "HTTP 403 Resource not accessible by integration; GitHub accepts a token with "
            "contents=read",
            "permissions: {contents: read}",
        ),
        ("policy-bad-credentials", "octo-org/payments", POLICY_PATH, "HTTP 401", "ENVSECOPS"),
        ("rate-limited", "octo-org/payments", POLICY_PATH, "HTTP 403: rate limited", "reset"),
        ("policy-rate-limited", "octo-org/payments", POLICY_PATH, "HTTP 429", "reset"),
        ("policy-malformed", "octo-org/payments", ".github/bad-base64.yml", "base64", "GITHUB"),
        ("policy-malformed", "octo-org/payments", ".github/short.yml", "200 bytes", "retry"),
        ("policy-malformed", "octo-org/payments", ".github/tampered.yml", "blob", "retry"),
        ("policy-malformed", "octo-org/payments", ".github/unknown-encoding.yml", "utf-16", "API"),
        ("policy-malformed", "octo-org/payments", ".github/html.yml", "type 'None'", "API"),
        ("policy-malformed", "octo-org/payments", ".github/cut.yml", "JSONDecodeError", "API"),
        ("policy-malformed", "octo-org/no-default", POLICY_PATH, "default_branch", "API"),
    ],
)
def test_a_service_that_cannot_answer_is_an_infrastructure_error(
    scenario: str, repo: str, path: str, words: str, fix: str, github_api: StartServer
) -> None:
    server = github_api(scenario)
    error = _refused(server, repo, path)
    assert isinstance(error, InfraError)
    assert error.exit_code is ExitCode.INFRA
    assert words in error.message
    assert fix in str(error.fix)


def test_a_server_error_is_retried_then_names_the_service_and_status(
    github_api: StartServer,
) -> None:
    server = github_api("policy-server-error")
    error = _refused(server, "octo-org/payments", POLICY_PATH)
    assert isinstance(error, InfraError)
    assert server.base_url in error.message
    assert "kept failing after 3 attempts (too many 500 error responses)" in error.message
    assert server.routes == [*PAYMENTS_ROUTES, PAYMENTS_ROUTES[2], PAYMENTS_ROUTES[2]]


def test_an_api_that_is_down_is_an_infrastructure_error() -> None:
    url = refused_url()
    with pytest.raises(InfraError, match="cannot reach the service") as caught:
        fetch_default_branch_policy("octo-org/payments", POLICY_PATH, token=TOKEN, api_url=url)
    assert url in caught.value.message
    assert "$GITHUB_API_URL" in str(caught.value.fix)
    assert TOKEN not in caught.value.diagnostics()


@pytest.fixture
def silent_api() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def test_an_api_that_never_answers_times_out(
    silent_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("envsecops.gh.api.TIMEOUT_SECONDS", 1)  # PyGithub takes whole seconds
    monkeypatch.setattr("envsecops.gh.api.RETRIES", 0)  # one wait, not three
    with pytest.raises(InfraError, match="did not answer within 1 s") as caught:
        fetch_default_branch_policy(
            "octo-org/payments", POLICY_PATH, token=TOKEN, api_url=silent_api
        )
    assert silent_api in caught.value.message
    assert TOKEN not in caught.value.diagnostics()


def test_nothing_goes_beyond_loopback() -> None:
    with pytest.raises(InfraError, match="only loopback is allowed"):
        fetch_default_branch_policy(
            "octo-org/payments", POLICY_PATH, token=TOKEN, api_url="https://192.0.2.1"
        )


@pytest.mark.parametrize(
    ("repo", "path"),
    [
        ("octo-org", POLICY_PATH),
        ("octo-org/..", POLICY_PATH),
        ("octo org/payments", POLICY_PATH),
        ("octo-org/payments", "../../etc/passwd"),
        ("octo-org/payments", "/etc/passwd"),
        ("octo-org/payments", ".github/../../x.yml"),
        ("octo-org/payments", ".github\\envsecops.yml"),
        ("octo-org/payments", ".github/env\nsecops.yml"),
        ("octo-org/payments", ""),
        ("octo-org/payments", "./"),
    ],
)
def test_hostile_names_never_reach_the_api(repo: str, path: str, github_api: StartServer) -> None:
    server = github_api("policy-fetch")
    with pytest.raises(InputError, match="is not a"):
        _fetch(server, repo, path)
    assert server.routes == []


@pytest.mark.parametrize("url", ["http://10.0.0.1", "ftp://api.github.com", "https://u:p@x.org"])
def test_an_unusable_api_url_is_an_infrastructure_error_before_any_request(url: str) -> None:
    with pytest.raises(InfraError, match="GitHub API URL") as caught:
        fetch_default_branch_policy("octo-org/payments", POLICY_PATH, token=TOKEN, api_url=url)
    assert caught.value.fix


def test_a_token_no_header_can_carry_is_refused_without_showing_it(
    github_api: StartServer,
) -> None:
    server = github_api("policy-fetch")
    with pytest.raises(InputError, match="no HTTP header can carry") as caught:
        fetch_default_branch_policy(
            "octo-org/payments", POLICY_PATH, token="ghs_se cret\n", api_url=server.base_url
        )
    assert "se cret" not in caught.value.diagnostics()
    assert server.routes == []
