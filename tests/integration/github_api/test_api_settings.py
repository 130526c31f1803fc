"""API settings: URL and token from flags and environment, refused when unsafe; a lazy client."""

from __future__ import annotations

import pytest

from envsecops.errors import ExitCode, InfraError, UsageError
from envsecops.gh.api import DEFAULT_API_URL, ApiSettings, api_call, api_settings, build_client
from tests.integration.github_api.replay import StartServer


def test_defaults_are_github_com_and_anonymous() -> None:
    settings = api_settings(None, {})
    assert settings == ApiSettings(DEFAULT_API_URL, None)
    assert settings.anonymous_note is not None
    assert "60 an hour" in settings.anonymous_note


def test_flag_beats_environment_and_github_token_beats_gh_token() -> None:
    env = {
        "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        "GITHUB_TOKEN": "first",
        "GH_TOKEN": "second",
    }
    assert api_settings(None, env).base_url == "https://ghe.example.com/api/v3"
    assert api_settings("https://api.example.org", env).base_url == "https://api.example.org"
    assert api_settings(None, env).token == "first"
    assert api_settings(None, {"GITHUB_TOKEN": "  ", "GH_TOKEN": "second"}).token == "second"
    assert api_settings(None, env).anonymous_note is None


def test_token_never_appears_in_repr() -> None:
    settings = ApiSettings("https://api.github.com", "ghs_secret")
    assert "ghs_secret" not in repr(settings)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://[::1]:9", "http://localhost"])
def test_plain_http_only_on_loopback(url: str) -> None:
    assert api_settings(url, {}).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1",
        "http://api.github.com",
        "file:///etc/passwd",
        "https://x/?a=1",
        "https://user:secret@api.github.com",
        "http://127.0.0.1:port",
    ],
)
def test_unsafe_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        api_settings(url, {})
    assert caught.value.exit_code is ExitCode.USAGE
    assert caught.value.fix


def test_client_is_lazy_and_sends_our_user_agent(github_api: StartServer) -> None:
    server = github_api("actions")
    settings = ApiSettings(server.base_url, "ghs_test")
    client = build_client(settings)
    repository = client.get_repo("actions/checkout")
    assert server.routes == []  # building a client and a repository asks nothing
    with api_call(settings, "actions/checkout", "the repository"):
        assert repository.raw_data["full_name"] == "actions/checkout"
    assert [(c.authorization, c.user_agent) for c in server.calls] == [
        ("token ghs_test", "envsecops/0.1.0")
    ]


def test_server_errors_become_infra_errors_naming_service_and_status(
    github_api: StartServer,
) -> None:
    server = github_api("server-error")
    settings = ApiSettings(server.base_url)
    client = build_client(settings)
    with (
        pytest.raises(InfraError) as caught,
        api_call(settings, "actions/checkout", "the tag `v4`"),
    ):
        client.get_repo("actions/checkout").get_git_ref("tags/v4").object  # noqa: B018
    message = caught.value.diagnostics()
    assert server.base_url in message
    assert "the tag `v4` in actions/checkout" in message
    assert "502" in message
    assert caught.value.exit_code is ExitCode.INFRA
    assert len(server.routes) == 3  # the request and two bounded retries
