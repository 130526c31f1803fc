"""The `ledger:` section of the policy file: which ledgers every decision must be written to."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from envsecops.errors import InputError, UsageError
from envsecops.ledger.s3_keys import normalise_prefix
from envsecops.policy.pins import TOP_LEVEL_KEYS
from envsecops.policy.source import read_policy
from envsecops.syntax.yaml import (
    MappingNode,
    Node,
    ScalarNode,
    items,
    position,
)

LEDGER_KEYS = frozenset({"file", "s3", "rekor"})
S3_KEYS = frozenset({"bucket", "prefix", "region", "retention-days", "endpoint-url"})
S3_REQUIRED = ("bucket", "region", "retention-days")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
MAX_RETENTION_DAYS = 36_500
YAML11_WORDS = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL)$"
)
"""Plain scalars that YAML 1.1 reads as booleans or null: ambiguous, so never accepted."""
LEDGER_EXAMPLE = """ledger:
  file: .envsecops/ledger.jsonl      # relative to the repository root; optional
  s3:                                # optional; the store for fleets of runners
    bucket: example-envsecops-ledger # versioned, Object Lock enabled
    prefix: envsecops/
    region: eu-west-1
    retention-days: 365              # COMPLIANCE retention of every entry
  rekor: false"""
DEFAULT_NAME = Path("envsecops") / "ledger.jsonl"


@dataclass(frozen=True, slots=True)
class S3Settings:
    """An S3 ledger: bucket, key prefix, region, Object Lock retention, optional endpoint."""

    bucket: str
    prefix: str
    region: str
    retention_days: int
    endpoint_url: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """The parsed `ledger:` section; ``source`` names where it came from."""

    source: str
    file: Path | None = None
    s3: S3Settings | None = None
    rekor: bool = False

    def specs(self) -> list[str]:
        """The ledgers as `--ledger` specs (`envsecops.ledger.registry` forms), file first."""
        out = [f"file:{self.file}"] if self.file is not None else []
        if self.s3 is not None:
            query = {"retention-days": str(self.s3.retention_days), "region": self.s3.region}
            if self.s3.endpoint_url is not None:
                query["endpoint-url"] = self.s3.endpoint_url
            out.append(f"s3://{self.s3.bucket}/{self.s3.prefix}?{urlencode(query)}")
        return out


def default_file_ledger(environ: Mapping[str, str], cwd: Path) -> Path:
    """The embedded default: `$RUNNER_TEMP/envsecops/ledger.jsonl` in Actions, else `./.envsecops`.

    A file under `$RUNNER_TEMP` is deleted with the job: it makes the step's own record
    checkable within the job and nothing more (the CLI says so every time it is used).
    """
    if environ.get("GITHUB_ACTIONS") == "true":
        temp = environ.get("RUNNER_TEMP", "")
        if not temp:
            raise UsageError(
                "no ledger is configured and $RUNNER_TEMP is not set, so the default file "
                "ledger has no place to live; nothing was recorded",
                fix="add a `ledger:` section to .github/envsecops.yml:\n" + LEDGER_EXAMPLE,
            )
        return Path(temp) / DEFAULT_NAME
    return cwd / ".envsecops" / "ledger.jsonl"


def _fail(display: str, node: Node | None, message: str) -> InputError:
    line, column = position(node) if node is not None else (None, None)
    return InputError(message, path=display, line=line, column=column, fix=LEDGER_EXAMPLE)


def _mapping(display: str, node: Node, allowed: frozenset[str], where: str) -> dict[str, Node]:
    if not isinstance(node, MappingNode):
        raise _fail(display, node, f"{where} must be a mapping")
    found: dict[str, Node] = {}
    for name, key, value in items(node):
        if name not in allowed:
            raise _fail(
                display,
                key,
                f"unknown key {name!r} in {where} (allowed: {', '.join(sorted(allowed))})",
            )
        found[name] = value
    return found


def _text(display: str, node: Node, where: str) -> str:
    """A non-empty single-line string; an unquoted YAML 1.1 boolean or null is refused."""
    if not isinstance(node, ScalarNode):
        raise _fail(display, node, f"`{where}` must be a string")
    value = str(node.value)
    if not node.style and YAML11_WORDS.match(value):  # plain: None or ""
        raise _fail(
            display,
            node,
            f"`{where}: {value}` is ambiguous (YAML 1.1 reads it as a boolean or null); "
            "quote it if you mean the string",
        )
    if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _fail(display, node, f"`{where}` must be a non-empty single line")
    return value.strip()


def _boolean(display: str, node: Node, where: str) -> bool:
    value = str(node.value) if isinstance(node, ScalarNode) and not node.style else None
    if value not in {"true", "false"}:
        raise _fail(
            display,
            node,
            f"`{where}` must be `true` or `false` (unquoted); `yes`, `no`, `on` and `off` "
            "mean different things in YAML 1.1 and 1.2, so they are refused",
        )
    return value == "true"


def _s3(display: str, node: Node) -> S3Settings:
    fields = _mapping(display, node, S3_KEYS, "`ledger.s3:`")
    for required in S3_REQUIRED:
        if required not in fields:
            raise _fail(display, node, f"`ledger.s3:` needs `{required}`")
    values = {name: _text(display, value, f"ledger.s3.{name}") for name, value in fields.items()}
    bucket, region, days_text = values["bucket"], values["region"], values["retention-days"]
    if not BUCKET.match(bucket) or ".." in bucket:
        raise _fail(display, fields["bucket"], f"{bucket!r} is not an S3 bucket name")
    if not REGION.match(region):
        raise _fail(display, fields["region"], f"{region!r} is not an AWS region like eu-west-1")
    if not days_text.isascii() or not days_text.isdigit():
        raise _fail(
            display,
            fields["retention-days"],
            f"`retention-days` must be a whole number of days, not {days_text!r}",
        )
    days = int(days_text)
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise _fail(
            display,
            fields["retention-days"],
            f"`retention-days` must be between 1 and {MAX_RETENTION_DAYS}, not {days}",
        )
    prefix = values.get("prefix", "")
    try:
        prefix = normalise_prefix(prefix)
    except ValueError as exc:
        raise _fail(display, fields["prefix"], f"`prefix` {prefix!r}: {exc}") from exc
    endpoint = values.get("endpoint-url")
    if endpoint is not None:
        _check_endpoint(display, fields["endpoint-url"], endpoint)
    return S3Settings(bucket, prefix, region, days, endpoint)


def endpoint_allowed(url: str) -> bool:
    """https anywhere; plain http only to a loopback address (a local test server)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return (parts.scheme == "https" and bool(host)) or (parts.scheme == "http" and loopback)


def _check_endpoint(display: str, node: Node, url: str) -> None:
    if not endpoint_allowed(url):
        raise _fail(
            display,
            node,
            f"`endpoint-url` {url!r} must be an https URL (plain http only to a loopback address)",
        )


def repository_root(file: Path) -> Path:
    """The repository a policy file belongs to: the parent of its `.github/` folder."""
    return file.parent.parent if file.parent.name == ".github" else file.parent


def load_ledger_policy(file: Path, display: str) -> LedgerPolicy | None:
    """The `ledger:` section, or None when the policy has none; defects name line and column.

    A relative `file:` is relative to the repository that holds the policy (the parent of
    its `.github/` folder), like the `pins:` globs.
    """
    top = _mapping(display, read_policy(file, display), TOP_LEVEL_KEYS, "the policy file")
    node = top.get("ledger")
    return None if node is None else ledger_from_node(node, display, repository_root(file))


def ledger_from_node(node: Node, display: str, root: Path | None) -> LedgerPolicy:
    """The `ledger:` section from its composed node; a relative `file:` is joined to ``root``
    (kept relative when ``root`` is None)."""
    fields = _mapping(display, node, LEDGER_KEYS, "`ledger:`")
    rekor = _boolean(display, fields["rekor"], "ledger.rekor") if "rekor" in fields else False
    if rekor:
        raise _fail(
            display,
            fields["rekor"],
            "`ledger.rekor: true` asks for the Rekor transparency-log ledger, which this version "
            "of envsecops cannot write; refusing rather than recording less than the policy asks",
        )
    path: Path | None = None
    if "file" in fields:
        path = Path(_text(display, fields["file"], "ledger.file"))
        if not path.is_absolute() and root is not None:
            path = root / path
    s3 = _s3(display, fields["s3"]) if "s3" in fields else None
    if path is None and s3 is None:
        raise _fail(display, node, "`ledger:` configures no ledger: add `file:` or `s3:`")
    return LedgerPolicy(source=display, file=path, s3=s3, rekor=rekor)
