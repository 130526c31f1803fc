"""`pin-check --fix`: rewrite refs to SHAs through real PyGithub against the replay server."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, CliResult
from tests.integration.github_api.replay import StartServer, refused_url

RunCli = Callable[..., CliResult]
CASES = FIXTURES / "pin-fix"
WORKFLOW = Path(".github/workflows/ci.yml")
ACTION = Path("action.yml")
V421 = "f540a503e61f9ac4ab52b6f497ebac8a5d311d60"


def _place(root: Path, case: str, newline: str = "\n", bom: bool = False) -> tuple[Path, bytes]:
    """Copy ``<case>.<kind>.yml`` into a repository at its place; return the path and bytes."""
    source = next(CASES.glob(f"{case}.*.yml"))
    target = root / (ACTION if source.name.endswith(".action.yml") else WORKFLOW)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes().replace(b"\n", newline.encode())
    target.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return target, target.read_bytes()


def _expected(case: str, newline: str = "\n", bom: bool = False) -> bytes:
    data = (CASES / f"{case}.fixed.yml").read_bytes().replace(b"\n", newline.encode())
    return (codecs.BOM_UTF8 if bom else b"") + data


def _fix(run_cli: RunCli, url: str, *extra: str) -> CliResult:
    return run_cli("pin-check", "--fix", "--github-api-url", url, *extra, ".")


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("case", ["mixed", "unresolvable", "suppressed", "composite"])
def test_fix_rewrites_only_the_value_spans(
    case: str,
    newline: str,
    tmp_path: Path,
    github_api: StartServer,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = github_api("actions")
    target, _before = _place(tmp_path, case, newline)
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url)
    assert target.read_bytes() == _expected(case, newline), result.err
    assert server.unmatched == []
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp files


def test_mixed_fetches_each_ref_once_and_reports_every_line(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    _place(tmp_path, "mixed")
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url)
    short = "097936c00435"
    assert server.routes == [
        "GET /repos/actions/checkout/git/ref/tags/v4",
        "GET /repos/actions/checkout/tags?per_page=100",
        "GET /repos/actions/setup-python/git/ref/tags/v5",
        "GET /repos/actions/setup-python/git/tags/464735bd24046eaf9b543f908f5cd972add65b96",
        "GET /repos/actions/setup-python/tags?per_page=100",
        "GET /repos/actions/checkout/git/ref/tags/main",
        "GET /repos/actions/checkout/git/ref/heads/main",
        f"GET /repos/octo-org/short-sha-action/git/ref/tags/{short}",
        f"GET /repos/octo-org/short-sha-action/git/ref/heads/{short}",
        f"GET /repos/octo-org/short-sha-action/commits/{short}?page=1&per_page=100",
        "GET /repos/octo-org/short-sha-action/tags?per_page=100",
        "GET /repos/octo-org/many-tags/git/ref/tags/v1",
        "GET /repos/octo-org/many-tags/tags?per_page=100",
        "GET /repositories/100004/tags?page=2&per_page=100",
    ]
    err = result.err
    assert (
        f"fixed .github/workflows/ci.yml:7:15: actions/checkout@v4 -> actions/checkout@{V421} "
        "# v4.2.1" in err
    )
    assert (
        "fixed .github/workflows/ci.yml:15:16: actions/checkout@v4.1.0 -> "
        "actions/checkout@94cbd2475d8107f3b4b1d20a86310378cf132490 # v4.1.0\n" in err
    )
    assert "not fixed .github/workflows/ci.yml:18:15: docker://alpine:3.20: a `docker://`" in err
    assert "not fixed .github/workflows/ci.yml:19:15: actions/checkout@${{ github.sha }}" in err
    assert "--fix rewrote 9 reference(s) in 1 file(s); 2 left as they were" in err
    assert result.code == 1  # the docker image and the expression are still unpinned


def test_unresolvable_refs_stay_and_fail_the_run(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    _place(tmp_path, "unresolvable")
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url)
    assert result.code == 1
    assert "actions/checkout@v99: actions/checkout has no tag or branch named `v99`" in result.err
    assert "the repository ghost-org/missing-action does not exist or is private" in result.err
    assert "the short SHA `deadbee` does not name exactly one commit" in result.err
    assert "unpinned-uses" in result.out  # and the re-run check still reports them


def test_suppressed_reference_is_left_alone_and_the_run_passes(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    _place(tmp_path, "suppressed")
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url, "--format", "json")
    assert "left as is: suppressed (inline: the publisher must run from its release branch" in (
        result.err
    )
    assert not any("actions/checkout" in route for route in server.routes)
    report = json.loads(result.out)  # stdout stays machine-readable; --fix talks on stderr
    assert report
    assert result.code == 0, result.out + result.err


def test_policy_exception_is_left_alone(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    target, _ = _place(tmp_path, "composite")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "envsecops.yml").write_text(
        "pins:\n  exceptions:\n    - rule: unpinned-uses\n      path: action.yml\n"
        "      reason: vendored upstream as is\n      expires: '2999-12-31'\n",
        encoding="utf-8",
    )
    before = target.read_bytes()
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url)
    assert target.read_bytes() == before
    assert "left as is: suppressed (policy: vendored upstream as is)" in result.err
    assert server.routes == []


@pytest.mark.parametrize("scenario", ["rate-limited", "server-error", "down"])
def test_api_failure_exits_3_and_writes_nothing(
    scenario: str,
    tmp_path: Path,
    github_api: StartServer,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = refused_url() if scenario == "down" else github_api(scenario).base_url
    target, before = _place(tmp_path, "mixed")
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, url)
    assert result.code == 3
    assert target.read_bytes() == before
    assert "fixed " not in result.err
    assert "actions/checkout" in result.err
    if scenario == "rate-limited":
        assert "HTTP 403" in result.err
        assert "fix: set GITHUB_TOKEN (or GH_TOKEN)" in result.err


def test_second_run_changes_nothing(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    target, _ = _place(tmp_path, "composite")
    monkeypatch.chdir(tmp_path)
    first = _fix(run_cli, server.base_url)
    fixed = target.read_bytes()
    second = _fix(run_cli, server.base_url)
    assert target.read_bytes() == fixed
    assert "--fix rewrote 1 reference(s) in 1 file(s)" in first.err
    assert "--fix rewrote 0 reference(s) in 0 file(s); 0 left as they were" in second.err
    assert second.code == 0, second.out + second.err


def test_byte_order_mark_and_file_mode_survive(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    target, _ = _place(tmp_path, "composite", bom=True)
    target.chmod(0o640)
    monkeypatch.chdir(tmp_path)
    _fix(run_cli, server.base_url)
    assert target.read_bytes() == _expected("composite", bom=True)
    assert target.stat().st_mode & 0o777 == 0o640


def test_fix_without_token_warns_about_rate_limits(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    _place(tmp_path, "composite")
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url)
    assert "note: no GITHUB_TOKEN or GH_TOKEN is set" in result.err


def test_control_characters_in_values_cannot_inject_log_lines(
    tmp_path: Path, github_api: StartServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = github_api("actions")
    workflow = tmp_path / WORKFLOW
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        '      - uses: "a/b@v1\\n::error::injected"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = _fix(run_cli, server.base_url)
    assert "a/b@v1\\n::error::injected" in result.err
    assert not any(line.startswith("::") for line in result.err.splitlines())
    assert server.routes == []
