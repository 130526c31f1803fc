"""`pin-check --online`: `pin-comment-mismatch` through real PyGithub against the replay server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from envsecops.gh.api import ApiSettings
from envsecops.model import Confidence, Severity
from envsecops.pins.kinds import FileKind
from envsecops.pins.online import check_file
from envsecops.pins.registry import RULES
from envsecops.pins.resolve import GitHubResolver
from envsecops.pins.rules.pin_comment_mismatch import PIN_COMMENT_MISMATCH
from tests.conftest import CliResult
from tests.integration.github_api.replay import StartServer, refused_url
from tests.unit.pins.pin_fixtures import FIXTURES, Case, load_cases, span_text

CASES = load_cases("pin-comment-mismatch")
RunCli = Callable[..., CliResult]
V410 = "94cbd2475d8107f3b4b1d20a86310378cf132490"
V421 = "f540a503e61f9ac4ab52b6f497ebac8a5d311d60"
LIE = f"      - uses: actions/checkout@{V410} # v4.2.1\n"
TRUTH = f"      - uses: actions/checkout@{V421} # v4.2.1\n"
HEAD = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"


def _repo(root: Path, *steps: str) -> Path:
    workflow = root / ".github" / "workflows" / "ci.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(HEAD + "".join(steps), encoding="utf-8")
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture(case: Case, github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    active, _suppressed = check_file(case.path, case.name, case.kind, resolver)
    assert server.unmatched == []
    if case.positive:
        assert case.expected
    else:
        assert not case.expected
    assert sorted((f.line, f.column) for f in active) == sorted(
        (line, column) for line, column, _ in case.expected
    )
    text = case.path.read_text("utf-8")
    by_position = {(f.line, f.column): f for f in active}
    for line, column, words in case.expected:
        finding = by_position[(line, column)]
        assert finding.rule_id == "pin-comment-mismatch"
        assert words in finding.message, (words, finding.message)
        assert finding.fix
        span = span_text(text, finding)
        assert span is not None
        assert span.strip("'\"") == finding.reference


def test_fixture_folders_cover_both_outcomes() -> None:
    assert {c.positive for c in CASES} == {True, False}
    assert (FIXTURES / "pin-comment-mismatch").is_dir()


def test_rule_is_registered_as_medium() -> None:
    assert RULES["pin-comment-mismatch"] is PIN_COMMENT_MISMATCH
    assert PIN_COMMENT_MISMATCH.severity is Severity.MEDIUM


def test_lie_message_names_both_commits_and_the_fix(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    case = next(c for c in CASES if c.name == "positive/lies.workflow.yml")
    active, _ = check_file(case.path, case.name, case.kind, resolver)
    first = active[0]
    assert first.line == 13
    assert "commit f540a503e61f, not 94cbd2475d81" in first.message
    assert first.fix == (
        f"pin the commit the comment names: `actions/checkout@{V421} # v4.2.1`, "
        "or correct the comment to `# v4.1.0`"
    )
    assert first.confidence is Confidence.HIGH


def test_inline_suppression_is_kept_with_its_reason(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    path = FIXTURES / "pin-comment-mismatch" / "negative" / "suppressed.workflow.yml"
    active, suppressed = check_file(path, "suppressed.yml", FileKind.WORKFLOW, resolver)
    assert active == []
    assert [s.finding.rule_id for s in suppressed] == ["pin-comment-mismatch"]
    assert suppressed[0].reason == "v4.2.1 was re-tagged upstream; tracked in #42"


def test_missing_repository_is_reported_with_lower_confidence(github_api: StartServer) -> None:
    server = github_api("actions")
    resolver = GitHubResolver(ApiSettings(server.base_url))
    case = next(c for c in CASES if c.name == "positive/annotated.action.yml")
    active, _ = check_file(case.path, case.name, case.kind, resolver)
    ghost = next(f for f in active if "ghost-org" in f.reference)
    assert ghost.confidence is Confidence.MEDIUM
    assert "set GITHUB_TOKEN if it is private" in ghost.message


def test_cli_online_reports_a_lying_comment(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    monkeypatch.chdir(_repo(tmp_path, LIE, TRUTH))
    result = run_cli(
        "pin-check", "--online", "--github-api-url", server.base_url, "--format", "json"
    )
    assert result.code == 1, result.err
    report = json.loads(result.out)
    text = json.dumps(report)
    assert "pin-comment-mismatch" in text
    assert "the pinned commit is v4.1.0" in text
    assert "no GITHUB_TOKEN or GH_TOKEN is set" in result.err
    # The tag is fetched once for both pins; the listing only to name the lying pin's commit.
    assert server.routes == [
        "GET /repos/actions/checkout/git/ref/tags/v4.2.1",
        "GET /repos/actions/checkout/tags?per_page=100",
    ]
    assert server.unmatched == []


def test_cli_online_passes_when_comments_match(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    monkeypatch.chdir(_repo(tmp_path, TRUTH, TRUTH.replace("# v4.2.1", "# v4")))
    result = run_cli("pin-check", "--online", "--github-api-url", server.base_url)
    assert result.code == 0, result.out + result.err
    assert server.routes == [
        "GET /repos/actions/checkout/git/ref/tags/v4.2.1",
        "GET /repos/actions/checkout/git/ref/tags/v4",
    ]


def test_without_online_nothing_is_requested(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    monkeypatch.chdir(_repo(tmp_path, LIE))
    monkeypatch.setenv("GITHUB_API_URL", server.base_url)
    result = run_cli("pin-check")
    assert "pin-comment-mismatch" not in result.out
    assert server.routes == []


def test_token_is_sent_and_never_printed(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    monkeypatch.chdir(_repo(tmp_path, LIE))
    secret = "ghs_envsecopsTestToken0123456789"
    monkeypatch.setenv("GH_TOKEN", secret)
    monkeypatch.setenv("GITHUB_API_URL", server.base_url)
    result = run_cli("pin-check", "--online")
    assert result.code == 1
    assert {call.authorization for call in server.calls} == {f"token {secret}"}
    assert {call.user_agent for call in server.calls} == {"envsecops/0.1.0"}
    assert secret not in result.out + result.err
    assert "no GITHUB_TOKEN" not in result.err


def test_github_enterprise_base_path(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions", prefix="/api/v3")
    monkeypatch.chdir(_repo(tmp_path, LIE))
    result = run_cli("pin-check", "--online", "--github-api-url", server.base_url + "/")
    assert result.code == 1
    assert "the pinned commit is v4.1.0" in result.out
    assert server.unmatched == []


def test_rate_limit_exits_3_with_the_fix(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("rate-limited")
    monkeypatch.chdir(_repo(tmp_path, LIE))
    result = run_cli("pin-check", "--online", "--github-api-url", server.base_url)
    assert result.code == 3
    assert "HTTP 403" in result.err
    assert "rate limit" in result.err
    assert "actions/checkout" in result.err
    assert "fix: set GITHUB_TOKEN" in result.err
    assert len(server.routes) == 1  # no sleeping, no retrying into a wall


@pytest.mark.parametrize("scenario", ["down", "server-error"])
def test_unreachable_api_exits_3(
    scenario: str,
    tmp_path: Path,
    github_api: StartServer,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = refused_url() if scenario == "down" else github_api(scenario).base_url
    monkeypatch.chdir(_repo(tmp_path, LIE))
    result = run_cli("pin-check", "--online", "--github-api-url", url)
    assert result.code == 3
    assert url in result.err
    assert "actions/checkout" in result.err


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://api.example.com", "plain http to a non-loopback host"),
        ("ftp://127.0.0.1", "is not an http(s) URL"),
        ("https://", "is not an http(s) URL"),
    ],
)
def test_bad_api_url_is_a_usage_error(
    url: str, words: str, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_repo(tmp_path, LIE))
    result = run_cli("pin-check", "--online", "--github-api-url", url)
    assert result.code == 2
    assert words in result.err


def test_policy_exception_covers_online_findings(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    root = _repo(tmp_path, LIE)
    (root / ".github" / "envsecops.yml").write_text(
        "pins:\n  exceptions:\n    - rule: pin-comment-mismatch\n"
        "      path: .github/workflows/ci.yml\n      reason: upstream re-tag, see #42\n"
        '      expires: "2999-01-01"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(root)
    result = run_cli("pin-check", "--online", "--github-api-url", server.base_url)
    assert result.code == 0, result.out + result.err
