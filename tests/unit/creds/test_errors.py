"""How failures are read: STS error codes and transport errors, and the services' error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore import exceptions as bce

from envsecops.creds.aws_errors import Call, classify
from envsecops.creds.interface import MintError, ProviderRefused
from envsecops.creds.token_exchange import service_error

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8ifQ.c2lnbmF0dXJl"
CALL = Call(
    "AssumeRoleWithWebIdentity",
    "arn:aws:iam::1:role/gate",
    "sts.amazonaws.com",
    "eu-west-1",
    (TOKEN,),
)


def _client_error(code: str, status: int, message: str = "msg") -> bce.ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return bce.ClientError(response, CALL.name)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling", 400),
        ("RequestLimitExceeded", 400),
        ("IDPCommunicationError", 400),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 500),
        ("Whatever", 502),
        ("", 429),
    ],
)
def test_retryable_sts_errors(code: str, status: int) -> None:
    error = classify(_client_error(code, status), CALL)
    assert type(error) is MintError
    assert error.retryable
    assert error.status == status


@pytest.mark.parametrize(
    "code",
    [
        "AccessDenied",
        "InvalidIdentityToken",
        "ExpiredTokenException",
        "ExpiredToken",
        "IDPRejectedClaim",
        "RegionDisabledException",
    ],
)
def test_refusals(code: str) -> None:
    error = classify(_client_error(code, 400), CALL)
    assert isinstance(error, ProviderRefused)
    assert not error.retryable
    assert error.message.startswith(
        f"AWS STS AssumeRoleWithWebIdentity for {CALL.role} failed: {code}"
    )
    assert error.fix


def test_other_client_errors_are_final_but_not_refusals() -> None:
    error = classify(_client_error("ValidationError", 400), CALL)
    assert type(error) is MintError
    assert not error.retryable


def test_messages_never_repeat_the_token() -> None:
    error = classify(_client_error("InvalidIdentityToken", 400, f"bad token {TOKEN}\r\n"), CALL)
    assert TOKEN not in error.message
    assert "bad token [redacted]\\r\\n" in error.message


@pytest.mark.parametrize(
    "exc",
    [
        bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        bce.ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        bce.ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        bce.ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_transport_errors_are_retryable(exc: Exception) -> None:
    assert classify(exc, CALL).retryable


def test_sdk_errors_are_final_and_foreign_exceptions_propagate() -> None:
    error = classify(bce.ParamValidationError(report="bad"), CALL)
    assert not error.retryable
    with pytest.raises(KeyError):
        classify(KeyError("bug"), CALL)


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        (
            {"error": "invalid_grant", "error_description": "bad aud"},
            "invalid_grant",
            "invalid_grant: bad aud",
        ),
        ({"error": "invalid_request"}, "invalid_request", "invalid_request"),
        (
            {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}},
            "PERMISSION_DENIED",
            "PERMISSION_DENIED: denied",
        ),
        ({"errors": ["permission denied", "second"]}, "", "permission denied; second"),
        ({"other": 1}, "", '{"other": 1}'),
    ],
)
def test_service_error_bodies(body: Any, code: str, text: str) -> None:
    assert service_error(json.dumps(body).encode()) == (code, text)


def test_non_json_error_bodies_are_quoted_as_text() -> None:
    assert service_error(b"<html>Bad Gateway</html>\n") == ("", "<html>Bad Gateway</html>")
    assert service_error(b"\xff\xfe") == ("", "\ufffd\ufffd")
