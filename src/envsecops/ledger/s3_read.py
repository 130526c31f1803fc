"""Reading an S3 ledger back: list every version, fetch, parse, and check lock and retention."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from envsecops.ledger.codec import Stored, decode, parse_timestamp
from envsecops.ledger.interface import LedgerError, Problem
from envsecops.ledger.s3_keys import key_for, parse_key
from envsecops.ledger.s3_retry import RetryPolicy, classify, fix_for, with_retries
from envsecops.model.bag import ModelError
from envsecops.model.ledger import LedgerEntry

READERS = 8
SKEW = timedelta(minutes=5)
"""Slack between the writer's clock (recorded_at) and S3's (the retain-until date it stored)."""


@dataclass(frozen=True, slots=True)
class Version:
    """One listed object version."""

    key: str
    version_id: str | None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A version's bytes and the Object Lock retention S3 reported with them."""

    version: Version
    data: bytes
    mode: str | None
    until: datetime | None


class S3Reader:
    """Reads one bucket prefix; every S3 failure becomes a LedgerError that names the object."""

    def __init__(
        self, client: Any, bucket: str, prefix: str, retention_days: int, retry: RetryPolicy
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.retention = timedelta(days=retention_days)
        self.retry = retry

    def entries(self) -> list[LedgerEntry]:
        """Every stored entry, once per digest, ordered by recorded_at then digest."""
        versions, _markers = self._listing()
        found: dict[str, Stored] = {}
        for fetched in self._fetch_all(versions):
            try:
                stored = decode(fetched.data)
            except ModelError as exc:
                raise LedgerError(
                    f"{self._uri(fetched.version)}: not a valid ledger entry ({exc})",
                    fix=f"run `envsecops audit verify --ledger s3://{self.bucket}/{self.prefix}`",
                ) from exc
            found[stored.digest] = stored
        ordered = sorted(
            found.values(), key=lambda s: (parse_timestamp(s.entry.recorded_at), s.digest)
        )
        return [s.entry for s in ordered]

    def verify(self) -> list[Problem]:
        """Bucket lock, delete markers, stray keys, then each version's content and retention."""
        problems = self._lock_problems()
        versions, markers = self._listing()
        problems.extend(
            Problem(
                self._uri(marker),
                "a delete marker hides this entry from plain reads (someone called "
                "DeleteObject); the locked version is still there and is checked below",
            )
            for marker in markers
        )
        entries = [v for v in versions if parse_key(self.prefix, v.key) is not None]
        problems.extend(
            Problem(self._uri(v), "not a ledger entry key; something else writes under the prefix")
            for v in versions
            if parse_key(self.prefix, v.key) is None
        )
        for fetched in self._fetch_all(entries):
            problems.extend(self._check(fetched))
        return problems

    def _lock_problems(self) -> list[Problem]:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"s3://{self.bucket}"
        try:
            response = with_retries(
                self.retry, lambda: self.client.get_object_lock_configuration(Bucket=self.bucket)
            )
        except ClientError as exc:
            failure = classify(exc)
            if failure.code != "ObjectLockConfigurationNotFoundError":
                raise self._error(where, "cannot read the Object Lock configuration", exc) from exc
            response = {}
        except BotoCoreError as exc:
            raise self._error(where, "cannot read the Object Lock configuration", exc) from exc
        if response.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled":
            return []
        return [
            Problem(
                where,
                "Object Lock is not enabled on this bucket: its entries can be overwritten or "
                "deleted. Create a bucket with Object Lock enabled and point the ledger at it",
            )
        ]

    def _listing(self) -> tuple[list[Version], list[Version]]:
        from botocore.exceptions import BotoCoreError, ClientError

        versions: list[Version] = []
        markers: list[Version] = []
        paginator = self.client.get_paginator("list_object_versions")
        try:
            pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + "/")
            for page in pages:
                versions.extend(
                    Version(v["Key"], v.get("VersionId")) for v in page.get("Versions", [])
                )
                markers.extend(
                    Version(m["Key"], m.get("VersionId")) for m in page.get("DeleteMarkers", [])
                )
        except (BotoCoreError, ClientError) as exc:
            raise self._error(
                f"s3://{self.bucket}/{self.prefix}/", "cannot list the ledger", exc
            ) from exc
        return versions, markers

    def _fetch_all(self, versions: list[Version]) -> Iterator[Fetched]:
        if not versions:
            return iter(())
        with ThreadPoolExecutor(max_workers=min(READERS, len(versions))) as pool:
            return iter(list(pool.map(self._fetch, versions)))

    def _fetch(self, version: Version) -> Fetched:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"VersionId": version.version_id} if version.version_id else {}

        def get() -> Fetched:
            response = self.client.get_object(
                Bucket=self.bucket, Key=version.key, ChecksumMode="ENABLED", **extra
            )
            with response["Body"] as stream:
                data = bytes(stream.read())
            until = response.get("ObjectLockRetainUntilDate")
            return Fetched(version, data, response.get("ObjectLockMode"), until)

        try:
            return with_retries(self.retry, get)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(self._uri(version), "cannot read this entry", exc) from exc

    def _check(self, fetched: Fetched) -> list[Problem]:
        where = self._uri(fetched.version)
        try:
            stored = decode(fetched.data)
        except ModelError as exc:
            return [Problem(where, f"not a valid ledger entry: {exc}")]
        entry = stored.entry
        problems = []
        expected = key_for(self.prefix, entry, stored.digest).key
        if expected != fetched.version.key:
            problems.append(
                Problem(where, f"content does not belong under this key (it names {expected})")
            )
        if fetched.mode != "COMPLIANCE":
            problems.append(
                Problem(
                    where,
                    f"retention mode is {fetched.mode or 'absent'}, not COMPLIANCE (or the reader "
                    "lacks s3:GetObjectRetention, which S3 needs to report it)",
                )
            )
        if fetched.until is None:
            problems.append(Problem(where, "no retain-until date: the object can be deleted"))
        else:
            needed = parse_timestamp(entry.recorded_at) + self.retention
            if fetched.until.astimezone(UTC) + SKEW < needed:
                problems.append(
                    Problem(
                        where,
                        f"retained until {fetched.until.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}, "
                        f"short of the configured {self.retention.days} days from "
                        f"{entry.recorded_at}",
                    )
                )
        return problems

    def _uri(self, version: Version) -> str:
        suffix = f"?versionId={version.version_id}" if version.version_id else ""
        return f"s3://{self.bucket}/{version.key}{suffix}"

    def _error(self, where: str, what: str, exc: Exception) -> LedgerError:
        failure = classify(exc)
        return LedgerError(f"{where}: {what} ({failure.summary})", fix=fix_for(failure))
