"""How the S3 ledger reads a failed call: retry, already there, or give up with the fix."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

T = TypeVar("T")

RETRYABLE_CODES = frozenset(
    {
        "ConditionalRequestConflict",
        "OperationAborted",
        "RequestTimeout",
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
    }
)
FIXES = {
    "NoSuchBucket": "create the bucket with Object Lock enabled (ObjectLockEnabledForBucket=true)",
    "AccessDenied": (
        "writers need s3:PutObject, s3:PutObjectRetention and s3:GetObject on the ledger "
        "prefix; `audit verify` also needs s3:GetObjectVersion, s3:GetObjectRetention, "
        "s3:ListBucketVersions and s3:GetBucketObjectLockConfiguration"
    ),
    "InvalidRequest": (
        "the bucket must have Object Lock enabled; it cannot be added to an existing bucket "
        "without versioning — create the bucket with Object Lock, then point the ledger at it"
    ),
    "InvalidAccessKeyId": "check the AWS credentials the step runs with",
    "SignatureDoesNotMatch": "check the AWS credentials the step runs with",
}


class Outcome(Enum):
    """What to do about a failed call."""

    RETRY = "retry"
    EXISTS = "exists"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class Failure:
    """A classified error: the outcome, whether the request may have been applied, a summary."""

    outcome: Outcome
    maybe_applied: bool
    summary: str
    code: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with capped, jittered exponential backoff."""

    attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 2.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def pause(self, attempt: int) -> None:
        """Sleep before retry number ``attempt`` (1-based): full jitter under the cap."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        self.sleep(random.uniform(ceiling / 2, ceiling))  # noqa: S311 - jitter, not secrecy


def classify(exc: Exception) -> Failure:
    """Map a botocore exception to an Outcome; anything unknown is FATAL (fail closed)."""
    from botocore import exceptions as bce

    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        summary = f"{code or status}: {error.get('Message', '') or exc}"
        if status == 412 or code == "PreconditionFailed":
            return Failure(Outcome.EXISTS, True, summary, code)
        if status in {409, 429} or status >= 500 or code in RETRYABLE_CODES:
            return Failure(Outcome.RETRY, status >= 500 or status == 0, summary, code)
        return Failure(Outcome.FATAL, False, summary, code)
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectTimeoutError):
        return Failure(Outcome.RETRY, False, f"cannot connect: {exc}")
    if isinstance(exc, bce.HTTPClientError):  # read timeout, reset, closed mid-response
        return Failure(Outcome.RETRY, True, f"no complete answer: {exc}")
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return Failure(Outcome.FATAL, False, f"no AWS credentials: {exc}", "NoCredentials")
    if isinstance(exc, bce.BotoCoreError):
        return Failure(Outcome.FATAL, False, f"{type(exc).__name__}: {exc}")
    raise exc


def fix_for(failure: Failure) -> str:
    """The operator's next step for a failure."""
    if failure.code == "NoCredentials":
        return (
            "give the step AWS credentials for the ledger bucket (an OIDC role through "
            "aws-actions/configure-aws-credentials, or the usual AWS_* variables)"
        )
    if failure.code in FIXES:
        return FIXES[failure.code]
    if failure.outcome is Outcome.RETRY:
        return "check that the S3 endpoint is reachable from the runner, then run the step again"
    return "see the S3 error above; the ledger bucket or the credentials need attention"


def with_retries(policy: RetryPolicy, call: Callable[[], T]) -> T:
    """Run ``call``, retrying RETRY failures within the policy; the last error propagates."""
    from botocore.exceptions import BotoCoreError, ClientError

    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            if classify(exc).outcome is not Outcome.RETRY or attempt == policy.attempts:
                raise
        policy.pause(attempt)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
