"""The policy file's `ledger:` section: strict loading, line-precise errors, the default ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from envsecops.errors import InputError, UsageError
from envsecops.ledger.registry import build_ledger
from envsecops.policy.ledger import (
    LedgerPolicy,
    S3Settings,
    default_file_ledger,
    load_ledger_policy,
)

S3_OK = (
    "  s3:\n    bucket: org-envsecops-ledger\n    prefix: envsecops/ci\n    region: eu-west-1\n"
    "    retention-days: 365\n"
)


def _load(tmp_path: Path, text: str) -> LedgerPolicy | None:
    github = tmp_path / "repo" / ".github"
    github.mkdir(parents=True, exist_ok=True)
    path = github / "envsecops.yml"
    path.write_text(text, encoding="utf-8")
    return load_ledger_policy(path, ".github/envsecops.yml")


def test_file_and_s3_load_and_become_registry_specs(tmp_path: Path) -> None:
    policy = _load(tmp_path, "mode: enforce\nledger:\n  file: ledger/main.jsonl\n" + S3_OK)
    assert policy is not None
    assert policy.file == tmp_path / "repo" / "ledger" / "main.jsonl", "relative to the repo"
    assert policy.s3 == S3Settings("org-envsecops-ledger", "envsecops/ci", "eu-west-1", 365)
    assert policy.rekor is False
    file_spec, s3_spec = policy.specs()
    assert file_spec == f"file:{tmp_path / 'repo' / 'ledger' / 'main.jsonl'}"
    assert s3_spec == ("s3://org-envsecops-ledger/envsecops/ci?retention-days=365&region=eu-west-1")
    ledger = build_ledger(s3_spec)
    assert ledger.name == "s3://org-envsecops-ledger/envsecops/ci"
    assert build_ledger(file_spec).name == f"file:{policy.file}"


def test_endpoint_url_and_absolute_file_and_explicit_false_rekor(tmp_path: Path) -> None:
    text = (
        "ledger:\n  file: /var/lib/envsecops/ledger.jsonl\n  rekor: false\n"
        + S3_OK
        + "    endpoint-url: http://127.0.0.1:9000\n"
    )
    policy = _load(tmp_path, text)
    assert policy is not None
    assert policy.file == Path("/var/lib/envsecops/ledger.jsonl")
    assert policy.s3 is not None
    assert policy.s3.endpoint_url == "http://127.0.0.1:9000"
    assert "endpoint-url=http%3A%2F%2F127.0.0.1%3A9000" in policy.specs()[1]
    assert build_ledger(policy.specs()[1]).name == "s3://org-envsecops-ledger/envsecops/ci"


def test_no_ledger_section_is_none(tmp_path: Path) -> None:
    assert _load(tmp_path, "pins:\n  exclude: [tests/**]\n") is None


@pytest.mark.parametrize(
    ("text", "needle", "line", "column"),
    [
        ("ledger:\n  fiel: x.jsonl\n", "unknown key 'fiel' in `ledger:`", 2, 3),
        ("ledgers:\n  file: x\n", "unknown key 'ledgers' in the policy file", 1, 1),
        ("ledger:\n" + S3_OK + "    acl: public\n", "unknown key 'acl' in `ledger.s3:`", 7, 5),
        ("ledger: x.jsonl\n", "`ledger:` must be a mapping", 1, 9),
        ("ledger:\n", "`ledger:` must be a mapping", 1, 8),
        ("ledger: {}\n", "configures no ledger", 1, 9),
        ("ledger:\n  rekor: false\n", "configures no ledger", 2, 3),
        ("ledger:\n  file: [a, b]\n", "`ledger.file` must be a string", 2, 9),
        ("ledger:\n  file: no\n", "`ledger.file: no` is ambiguous", 2, 9),
        ("ledger:\n  file: ~\n", "`ledger.file: ~` is ambiguous", 2, 9),
        ("ledger:\n  file: ''\n", "non-empty single line", 2, 9),
        ("ledger:\n  file: x\n  rekor: no\n", "must be `true` or `false`", 3, 10),
        ("ledger:\n  file: x\n  rekor: yes\n", "must be `true` or `false`", 3, 10),
        ("ledger:\n  file: x\n  rekor: 'false'\n", "must be `true` or `false`", 3, 10),
        ("ledger:\n  file: x\n  rekor: true\n", "cannot write", 3, 10),
        ("ledger:\n  file: a\n  file: b\n", "duplicate key 'file'", 3, 3),
        ("ledger:\n  s3: on\n", "`ledger.s3:` must be a mapping", 2, 7),
        (
            "ledger:\n  s3:\n    bucket: b-b-b\n    region: eu-west-1\n",
            "needs `retention-days`",
            3,
            5,
        ),
        (
            "ledger:\n" + S3_OK.replace("retention-days: 365", "retention-days: yes"),
            "`ledger.s3.retention-days: yes` is ambiguous",
            6,
            21,
        ),
        (
            "ledger:\n" + S3_OK.replace("retention-days: 365", "retention-days: 3.10"),
            "whole number of days, not '3.10'",
            6,
            21,
        ),
        (
            "ledger:\n" + S3_OK.replace("retention-days: 365", "retention-days: 0"),
            "between 1 and 36500",
            6,
            21,
        ),
        (
            "ledger:\n" + S3_OK.replace("retention-days: 365", "retention-days: [365]"),
            "must be a string",
            6,
            21,
        ),
        (
            "ledger:\n" + S3_OK.replace("org-envsecops-ledger", "Org_Ledger"),
            "is not an S3 bucket name",
            3,
            13,
        ),
        (
            "ledger:\n" + S3_OK.replace("eu-west-1", "europe"),
            "is not an AWS region",
            5,
            13,
        ),
        (
            "ledger:\n" + S3_OK.replace("envsecops/ci", "a/../b"),
            "`prefix` 'a/../b'",
            4,
            13,
        ),
        (
            "ledger:\n" + S3_OK + "    endpoint-url: http://s3.example.com\n",
            "must be an https URL",
            7,
            19,
        ),
        (
            "ledger:\n" + S3_OK + "    endpoint-url: ftp://127.0.0.1\n",
            "must be an https URL",
            7,
            19,
        ),
        ("ledger: [\n", "YAML syntax error", 2, 1),
    ],
)
def test_defects_are_input_errors_with_line_and_column(
    tmp_path: Path, text: str, needle: str, line: int, column: int
) -> None:
    with pytest.raises(InputError) as info:
        _load(tmp_path, text)
    assert needle in info.value.message
    assert (info.value.line, info.value.column) == (line, column)
    assert info.value.path == ".github/envsecops.yml"


def test_two_documents_and_unreadable_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="exactly one YAML document"):
        _load(tmp_path, "ledger:\n  file: a\n---\nledger:\n  file: b\n")
    path = tmp_path / "bad.yml"
    path.write_bytes(b"ledger: \xff\n")
    with pytest.raises(InputError, match="cannot read the policy file"):
        load_ledger_policy(path, "bad.yml")


def test_alias_bombs_are_refused(tmp_path: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 8):
        bomb += f"{chr(97 + level)}: &{chr(97 + level)} " + (
            "[" + ", ".join([f"*{chr(96 + level)}"] * 10) + "]\n"
        )
    with pytest.raises(InputError, match="alias expansion"):
        _load(tmp_path, bomb + "ledger:\n  file: x\n")


def test_default_file_ledger_locally_and_in_actions(tmp_path: Path) -> None:
    assert default_file_ledger({}, tmp_path) == tmp_path / ".envsecops" / "ledger.jsonl"
    runner = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(tmp_path / "rt")}
    assert default_file_ledger(runner, tmp_path) == tmp_path / "rt" / "envsecops" / "ledger.jsonl"
    with pytest.raises(UsageError, match=r"\$RUNNER_TEMP is not set"):
        default_file_ledger({"GITHUB_ACTIONS": "true"}, tmp_path)
