"""The `moto_s3` pytest fixture: moto's S3 server on 127.0.0.1, fake credentials, fresh buckets.

Loaded for every test by ``pytest_plugins`` in tests/conftest.py; ask for ``moto_s3`` by name.
One ``ThreadedMotoServer`` serves the whole session on a free loopback port (moto keeps its
state in-process, so tests isolate themselves with freshly named buckets instead of fresh
servers). Each test gets fake credentials in its environment — and no ambient AWS profile,
config file or instance metadata — an Object-Lock bucket (versioned, lock enabled) and a
plain bucket.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from envsecops.ledger.s3 import S3Ledger
from envsecops.ledger.s3_retry import RetryPolicy

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
AMBIENT = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_CA_BUNDLE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


@dataclass(frozen=True)
class MotoS3:
    """A running moto S3 endpoint and this test's buckets."""

    endpoint: str
    locked_bucket: str
    plain_bucket: str

    def client(self, endpoint: str | None = None) -> Any:
        """A plain boto3 S3 client (the raw API, for arranging and inspecting)."""
        import boto3

        return boto3.session.Session().client(
            "s3", region_name=REGION, endpoint_url=endpoint or self.endpoint
        )

    def ledger(self, bucket: str | None = None, **options: Any) -> S3Ledger:
        """An S3Ledger on the locked bucket (or ``bucket``), with fast retries unless given."""
        options.setdefault("retry", FAST_RETRY)
        options.setdefault("retention_days", 30)
        options.setdefault("endpoint_url", self.endpoint)
        return S3Ledger(bucket or self.locked_bucket, region=REGION, **options)

    def versions(self, bucket: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
        """Every object version in a bucket (delete markers excluded)."""
        pages = self.client().get_paginator("list_object_versions")
        found: list[dict[str, Any]] = []
        for page in pages.paginate(Bucket=bucket or self.locked_bucket, Prefix=prefix):
            found.extend(page.get("Versions", []))
        return found


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on a free 127.0.0.1 port, for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials only: no profile, no config file, no instance metadata."""
    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def moto_s3(moto_endpoint: str, aws_env: None) -> MotoS3:
    """This test's buckets on the session's moto server: one with Object Lock, one without."""
    suffix = uuid.uuid4().hex[:12]
    s3 = MotoS3(moto_endpoint, f"envsecops-locked-{suffix}", f"envsecops-plain-{suffix}")
    client = s3.client()
    client.create_bucket(Bucket=s3.locked_bucket, ObjectLockEnabledForBucket=True)
    client.create_bucket(Bucket=s3.plain_bucket)
    return s3
