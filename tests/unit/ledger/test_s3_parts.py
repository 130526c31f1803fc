"""The S3 ledger's pure parts: keys from entries, and how botocore errors are classified."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from envsecops.ledger.codec import encode
from envsecops.ledger.s3_keys import key_for, normalise_prefix, parse_key, repository_of
from envsecops.ledger.s3_retry import Outcome, RetryPolicy, classify, fix_for, with_retries
from envsecops.model.ledger import EntryKind


@pytest.mark.parametrize(
    ("body", "repository"),
    [
        ({"repository_id": "42"}, "42"),
        ({"principal": {"claims": {"repository_id": "123"}, "origin": "oidc"}}, "123"),
        ({"decision": {"principal": {"claims": {"repository_id": "7"}}}}, "7"),
        ({"repository_id": "../../etc"}, "unknown"),
        ({"repository_id": 42}, "unknown"),
        ({"repository_id": "1" * 21}, "unknown"),
        ({"principal": "x"}, "unknown"),
        ({}, "unknown"),
    ],
)
def test_the_repository_segment_is_digits_or_unknown(body: dict[str, Any], repository: str) -> None:
    assert repository_of(body) == repository


def test_keys_are_content_addressed_and_parse_back() -> None:
    entry = encode(
        "x", EntryKind.DECISION, {"repository_id": "9"}, "2026-12-31T23:59:59.000001Z"
    ).entry
    key = key_for("org/ledger", entry)
    assert key.key == f"org/ledger/9/2026/12/31/{entry.digest.removeprefix('sha256:')}.json"
    assert key.digest == entry.digest
    assert parse_key("org/ledger", key.key) == key
    assert parse_key("org", key.key) is None
    assert parse_key("org/ledger", key.key.replace("/12/31/", "/13/31/")) is None
    assert parse_key("org/ledger", key.key.replace(".json", ".txt")) is None


def test_an_offset_recorded_at_is_filed_under_its_utc_day() -> None:
    entry = encode("x", EntryKind.DRIFT, {}, "2026-01-01T01:00:00+02:00").entry
    assert key_for("ledger", entry).day == "2025/12/31"


@pytest.mark.parametrize(("prefix", "normal"), [("/a/b/", "a/b"), ("", "ledger"), ("//", "ledger")])
def test_prefixes_are_normalised(prefix: str, normal: str) -> None:
    assert normalise_prefix(prefix) == normal


@pytest.mark.parametrize("prefix", ["a/../b", "a/./b", "a b", "é"])
def test_unsafe_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="ledger prefix segment"):
        normalise_prefix(prefix)


def _client_error(status: int, code: str) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")


@pytest.mark.parametrize(
    ("error", "outcome", "maybe_applied"),
    [
        (_client_error(412, "PreconditionFailed"), Outcome.EXISTS, True),
        (_client_error(409, "ConditionalRequestConflict"), Outcome.RETRY, False),
        (_client_error(503, "SlowDown"), Outcome.RETRY, True),
        (_client_error(500, "InternalError"), Outcome.RETRY, True),
        (_client_error(400, "RequestTimeout"), Outcome.RETRY, False),
        (_client_error(403, "AccessDenied"), Outcome.FATAL, False),
        (_client_error(404, "NoSuchBucket"), Outcome.FATAL, False),
        (_client_error(400, "InvalidRequest"), Outcome.FATAL, False),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Outcome.RETRY, False),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), Outcome.RETRY, False),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), Outcome.RETRY, True),
        (NoCredentialsError(), Outcome.FATAL, False),
    ],
)
def test_failures_are_classified(error: Exception, outcome: Outcome, maybe_applied: bool) -> None:
    failure = classify(error)
    assert (failure.outcome, failure.maybe_applied) == (outcome, maybe_applied)
    assert fix_for(failure)


def test_fixes_name_the_next_step() -> None:
    assert "Object Lock" in fix_for(classify(_client_error(404, "NoSuchBucket")))
    assert "s3:PutObjectRetention" in fix_for(classify(_client_error(403, "AccessDenied")))
    assert "credentials" in fix_for(classify(NoCredentialsError()))


def test_with_retries_is_bounded_and_stops_on_fatal_errors() -> None:
    pauses: list[float] = []
    policy = RetryPolicy(attempts=3, base_delay=0.1, max_delay=0.15, sleep=pauses.append)
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        raise _client_error(500, "InternalError")

    with pytest.raises(ClientError):
        with_retries(policy, flaky)
    assert len(calls) == 3
    assert len(pauses) == 2
    assert all(0.05 <= p <= 0.15 for p in pauses)

    def denied() -> str:
        calls.append(1)
        raise _client_error(403, "AccessDenied")

    calls.clear()
    with pytest.raises(ClientError):
        with_retries(policy, denied)
    assert len(calls) == 1
