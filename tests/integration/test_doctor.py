"""`envsecops doctor` end to end: main(argv) and real PyGithub against recorded GitHub answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from envsecops.cli.main import main
from tests.fixtures.github_api.doctor_scenarios import GATE
from tests.integration.github_api.replay import ReplayServer, StartServer, refused_url

TOKEN = "ghs_doctorToken0123456789abcdef"
PASS, FAIL, CANNOT = "pass", "fail", "cannot-check"
REPO_IDS = [
    "oidc-subject",
    "workflow-token-read-only",
    "sha-pinning-required",
    "default-branch-protected",
    "policy-codeowners",
    "gate-workflow-required",
]
ORG_IDS = [
    "oidc-subject",
    "oidc-repos-opted-in",
    "workflow-token-read-only",
    "sha-pinning-required",
    "gate-workflow-required",
]


def _doctor(
    server: ReplayServer | str,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    fmt: str = "json",
) -> tuple[int, str, str]:
    url = server if isinstance(server, str) else server.base_url
    argv = ["doctor", *args, "--gate-workflow", GATE, "--format", fmt, "--api-url", url]
    code = main(argv)
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return code, out, err


def _statuses(out: str) -> dict[str, str]:
    document: dict[str, Any] = json.loads(out)
    return {check["id"]: check["status"] for check in document["checks"]}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVSECOPS_GITHUB_TOKEN", TOKEN)


@pytest.mark.parametrize(
    ("scenario", "target", "expected", "code"),
    [
        ("doctor-repo-pass", ["--repo", "octo-org/payments"], [PASS] * 6, 0),
        (
            "doctor-repo-fail",
            ["--repo", "octo-org/legacy"],
            [FAIL, FAIL, FAIL, PASS, FAIL, FAIL],
            1,
        ),
        (
            "doctor-repo-forbidden",
            ["--repo", "octo-org/payments"],
            [CANNOT, CANNOT, CANNOT, PASS, CANNOT, PASS],
            1,
        ),
        ("doctor-org-pass", ["--org", "octo-org"], [PASS] * 5, 0),
        ("doctor-org-fail", ["--org", "octo-org"], [FAIL] * 5, 1),
        ("doctor-org-forbidden", ["--org", "octo-org"], [CANNOT] * 5, 1),
    ],
)
def test_each_scenario_gives_each_check_its_status(
    github_api: StartServer,
    capsys: pytest.CaptureFixture[str],
    scenario: str,
    target: list[str],
    expected: list[str],
    code: int,
) -> None:
    server = github_api(scenario)
    exit_code, out, _ = _doctor(server, capsys, *target)
    ids = ORG_IDS if target[0] == "--org" else REPO_IDS
    assert _statuses(out) == dict(zip(ids, expected, strict=True))
    assert exit_code == code
    assert server.unmatched == []
    assert {call.authorization for call in server.calls} == {f"token {TOKEN}"}
    assert {call.method for call in server.calls} == {"GET"}  # the doctor never writes
    document = json.loads(out)
    assert document["exit_code"] == code
    assert document["version"] == "1"
    for check in document["checks"]:
        assert (check["fix"] is None) == (check["status"] == PASS)
        assert check["evidence"]


def test_a_refused_setting_says_which_permission_the_token_lacks(
    github_api: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = github_api("doctor-repo-forbidden")
    _, out, _ = _doctor(server, capsys, "--repo", "octo-org/payments")
    checks = {check["id"]: check for check in json.loads(out)["checks"]}
    token = checks["workflow-token-read-only"]
    assert token["detail"].startswith(
        'cannot check: token lacks the "Administration" repository (read) permission'
    )
    assert "Resource not accessible by integration" in token["detail"]
    assert "GitHub App installation token" in token["fix"]
    pinning = checks["sha-pinning-required"]
    assert "HTTP 404" in pinning["detail"]
    assert "cannot check: token lacks" in pinning["detail"]
    oidc = checks["oidc-subject"]
    assert "`permissions: {actions: read}`" in oidc["fix"]


def test_the_text_table_names_check_status_detail_and_fix(
    github_api: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = github_api("doctor-repo-fail")
    code, out, _ = _doctor(server, capsys, "--repo", "octo-org/legacy", fmt="text")
    assert code == 1
    assert "CHECK" in out
    assert "DETAIL / FIX" in out
    assert "workflow-token-read-only  FAIL" in out
    assert "/repos/octo-org/legacy/actions/permissions/workflow" in out
    assert "Settings → Actions → General" in out
    assert out.rstrip().endswith("(exit 1)")


def test_the_gate_can_be_required_at_a_ref(
    github_api: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = github_api("doctor-repo-pass")
    code = main(
        [
            "doctor",
            "--repo",
            "octo-org/payments",
            "--gate-workflow",
            f"{GATE}@v2",
            "--format",
            "json",
            "--api-url",
            server.base_url,
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    assert _statuses(out)["gate-workflow-required"] == FAIL


def test_without_a_gate_flag_the_required_workflows_are_listed_not_passed(
    github_api: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = github_api("doctor-repo-pass")
    code = main(
        ["doctor", "--repo", "octo-org/payments", "--format", "json", "--api-url", server.base_url]
    )
    out, _ = capsys.readouterr()
    gate = next(c for c in json.loads(out)["checks"] if c["id"] == "gate-workflow-required")
    assert (code, gate["status"]) == (1, CANNOT)
    assert ".github/workflows/gate.yml" in gate["detail"]


@pytest.mark.parametrize("scenario", ["server-error", "rate-limited", "policy-bad-credentials"])
def test_an_api_that_does_not_answer_is_exit_3(
    github_api: StartServer, capsys: pytest.CaptureFixture[str], scenario: str
) -> None:
    server = github_api(scenario)
    code, out, err = _doctor(server, capsys, "--repo", "octo-org/payments")
    assert code == 3
    assert out == ""
    assert "fix:" in err


def test_an_unreachable_api_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _doctor(refused_url(), capsys, "--org", "octo-org")
    assert code == 3
    assert "cannot reach the service" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["doctor"],
        ["doctor", "--repo", "a/b", "--org", "c"],
        ["doctor", "--repo", "not a repo"],
        ["doctor", "--org", "bad/org"],
        ["doctor", "--repo", "a/b", "--policy-path", "../escape.yml"],
        ["doctor", "--repo", "a/b", "--gate-workflow", "a/b/gate.yml"],
        ["doctor", "--repo", "a/b", "--format", "xml"],
        ["doctor", "--repo", "a/b", "--api-url", "http://example.com"],
    ],
)
def test_bad_usage_is_exit_2_before_any_request(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    capsys.readouterr()


def test_json_matches_the_published_schema(
    github_api: StartServer, capsys: pytest.CaptureFixture[str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files

    from envsecops.doctor.registry import CHECK_IDS

    schema = json.loads(files("envsecops").joinpath("schemas/doctor.v1.json").read_text())
    assert schema["properties"]["checks"]["items"]["properties"]["id"]["enum"] == list(CHECK_IDS)
    for scenario, target in (
        ("doctor-repo-forbidden", ["--repo", "octo-org/payments"]),
        ("doctor-org-fail", ["--org", "octo-org"]),
    ):
        _, out, _ = _doctor(github_api(scenario), capsys, *target)
        jsonschema.validate(json.loads(out), schema)
