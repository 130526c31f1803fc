"""The fleet ledger: one create-only, Object-Lock-retained S3 object per entry (boto3, lazily).

Each entry is stored at `<prefix>/<repository id>/<yyyy>/<mm>/<dd>/<digest hex>.json` with
`If-None-Match: *`, a SHA-256 checksum and COMPLIANCE retention until `recorded_at` plus the
configured days, so no one — the bucket owner and AWS root included — can delete or
overwrite it before then. S3 entries carry no `seq`/`prev`: runners across a fleet write
concurrently and there is no global order to chain; content addressing plus retention is
what makes them tamper-evident, and readers order them by `recorded_at`, then digest.

A retry after an ambiguous failure (a timeout, a reset, a 5xx) re-sends the same bytes: a
412 whose existing object has exactly those bytes is the first attempt having landed, and
counts as success; a 412 with other bytes is a LedgerConflict; a 409 (a concurrent
conditional write) is retried. Retries are bounded and jittered; after the last one the
append raises LedgerError and the caller treats the entry as not recorded.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from envsecops.ledger.codec import Clock, encode, timestamp, utc_now
from envsecops.ledger.interface import Ledger, LedgerConflict, LedgerError, Problem, Receipt
from envsecops.ledger.s3_keys import EntryKey, key_for, normalise_prefix
from envsecops.ledger.s3_read import S3Reader
from envsecops.ledger.s3_retry import Failure, Outcome, RetryPolicy, classify, fix_for
from envsecops.model.ledger import EntryKind, LedgerEntry

MAX_RETENTION_DAYS = 36500


class S3Ledger(Ledger):
    """Entries as locked objects in ``bucket`` under ``prefix``; see the module docstring."""

    def __init__(
        self,
        bucket: str,
        *,
        retention_days: int,
        prefix: str = "ledger",
        region: str | None = None,
        endpoint_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if not 1 <= retention_days <= MAX_RETENTION_DAYS:
            raise ValueError(
                f"retention must be 1..{MAX_RETENTION_DAYS} days, not {retention_days}"
            )
        self.bucket = bucket
        self.prefix = normalise_prefix(prefix)
        self.retention_days = retention_days
        self.region = region
        self.endpoint_url = endpoint_url
        self.name = f"s3://{bucket}/{self.prefix}"
        self.retry = retry or RetryPolicy()
        self._timeouts = (connect_timeout, read_timeout)
        self._clock = clock
        self._client_lock = threading.Lock()
        self._client_obj: Any = None

    def append(self, kind: EntryKind, body: Mapping[str, Any]) -> Receipt:
        """Store one entry create-only with COMPLIANCE retention; idempotent across retries."""
        moment = self._clock()
        stored = encode(self.name, kind, body, timestamp(moment))
        data = stored.data
        where = key_for(self.prefix, stored.entry, stored.digest)
        request = {
            "Bucket": self.bucket,
            "Key": where.key,
            "Body": data,
            "ContentType": "application/json",
            "IfNoneMatch": "*",
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(hashlib.sha256(data).digest()).decode("ascii"),
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": moment + timedelta(days=self.retention_days),
        }
        client = self.client()
        from botocore.exceptions import BotoCoreError, ClientError

        failures: list[Failure] = []
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                self.retry.pause(attempt - 1)
            try:
                response = client.put_object(**request)
                return self._receipt(where, stored.digest, response.get("VersionId"))
            except (BotoCoreError, ClientError) as exc:
                failure = classify(exc)
            failures.append(failure)
            if failure.outcome is Outcome.EXISTS:
                existing = self._existing(client, where, failures)
                if existing is None:
                    continue
                if existing[0] == data:
                    return self._receipt(where, stored.digest, existing[1])
                raise LedgerConflict(
                    f"{self._uri(where.key)}: holds different content under this entry's "
                    "content-addressed key; nothing was recorded",
                    fix=f"run `envsecops audit verify --ledger {self.name}`: the object was "
                    "written by something other than envsecops",
                )
            if failure.outcome is Outcome.FATAL:
                break
        raise self._gave_up(where, failures)

    def entries(self) -> Iterator[LedgerEntry]:
        """Every entry (versions hidden by delete markers included), by recorded_at then digest."""
        return iter(self._reader().entries())

    def verify(self) -> list[Problem]:
        """Object Lock on the bucket; every object parses, matches its key, and is retained."""
        return self._reader().verify()

    def client(self) -> Any:
        """The boto3 S3 client (created once, on first use; botocore's own retries are off)."""
        with self._client_lock:
            if self._client_obj is None:
                import boto3
                from botocore.config import Config
                from botocore.exceptions import BotoCoreError

                config = Config(
                    connect_timeout=self._timeouts[0],
                    read_timeout=self._timeouts[1],
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    user_agent_extra="envsecops-ledger",
                    s3={"addressing_style": "path"} if self.endpoint_url else None,
                )
                try:
                    self._client_obj = boto3.session.Session().client(
                        "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=config
                    )
                except (BotoCoreError, ValueError) as exc:
                    raise LedgerError(
                        f"{self.name}: cannot set up the S3 client ({exc}); nothing was recorded",
                        fix="check the ledger's region and endpoint-url and the AWS configuration",
                    ) from exc
            return self._client_obj

    def _reader(self) -> S3Reader:
        return S3Reader(self.client(), self.bucket, self.prefix, self.retention_days, self.retry)

    def _existing(
        self, client: Any, where: EntryKey, failures: list[Failure]
    ) -> tuple[bytes, str | None] | None:
        """The bytes and version under the key, or None (a failure noted) when unreadable."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = client.get_object(Bucket=self.bucket, Key=where.key, ChecksumMode="ENABLED")
            with response["Body"] as stream:
                return bytes(stream.read()), response.get("VersionId")
        except (BotoCoreError, ClientError) as exc:
            failure = classify(exc)
            failures.append(
                Failure(
                    Outcome.RETRY,
                    True,
                    f"the key exists but reading it back failed: {failure.summary}",
                    failure.code,
                )
            )
            return None

    def _receipt(self, where: EntryKey, digest: str, version: str | None) -> Receipt:
        location = self._uri(where.key) + (f"?versionId={version}" if version else "")
        return Receipt(self.name, location, digest)

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _gave_up(self, where: EntryKey, failures: list[Failure]) -> LedgerError:
        last = failures[-1]
        tries = f"{len(failures)} attempt{'s' if len(failures) != 1 else ''}"
        if any(f.maybe_applied for f in failures):
            state = (
                "it is not recorded as far as envsecops knows; an earlier attempt may still "
                "have landed under that key, which `audit verify` would show"
            )
        else:
            state = "nothing was recorded"
        return LedgerError(
            f"{self._uri(where.key)}: could not record the entry after {tries} "
            f"(last: {last.summary}); {state}",
            fix=fix_for(last),
        )
