"""Ledgers from their specs (`file:PATH`, `s3://BUCKET/PREFIX?…`), and writing to all of them.

Spec forms:

- `file:PATH` — a FileLedger at PATH (relative to the working directory unless absolute);
- `s3://BUCKET[/PREFIX]?retention-days=N[&region=R][&endpoint-url=URL]` — an S3Ledger;
  `retention-days` is required (1..36500): there is no silent default for how long
  evidence must survive. PREFIX defaults to `ledger`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from envsecops.errors import InputError
from envsecops.ledger.interface import Ledger, LedgerError, Receipt
from envsecops.model.ledger import EntryKind

S3_PARAMETERS = frozenset({"retention-days", "region", "endpoint-url"})
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+-[0-9]{1,2}")
FORMS = "file:PATH or s3://BUCKET/PREFIX?retention-days=N[&region=R][&endpoint-url=URL]"


class PartialWrite(LedgerError):
    """Appending to every configured ledger failed part-way: it is not recorded (fail closed)."""

    def __init__(
        self, message: str, *, failed: str, recorded: Sequence[Receipt], fix: str | None
    ) -> None:
        super().__init__(message, fix=fix)
        self.failed = failed
        self.recorded = tuple(recorded)


def build_ledgers(specs: Sequence[str]) -> list[Ledger]:
    """One ledger per spec, in order; InputError (exit 2) for none, a duplicate or a bad spec."""
    if not specs:
        raise InputError(
            "no ledger is configured, so nothing could be recorded",
            fix=f"configure at least one ledger: {FORMS}",
        )
    ledgers = [build_ledger(spec) for spec in specs]
    seen: set[str] = set()
    for ledger in ledgers:
        if ledger.name in seen:
            raise InputError(f"ledger {ledger.name} is configured twice")
        seen.add(ledger.name)
    return ledgers


def build_ledger(spec: str) -> Ledger:
    """The ledger one spec names."""
    if spec.startswith("file:"):
        path = spec.removeprefix("file:")
        if path.startswith("//"):
            raise InputError(f"ledger {spec!r}: write file:/abs/path or file:rel/path, not a URL")
        if not path or "\x00" in path:
            raise InputError(f"ledger {spec!r}: no file path", fix=f"use {FORMS}")
        from envsecops.ledger.file import FileLedger

        return FileLedger(Path(path))
    if spec.startswith("s3://"):
        return _s3(spec)
    raise InputError(f"ledger {spec!r} is not a ledger spec", fix=f"use {FORMS}")


def _s3(spec: str) -> Ledger:
    parts = urlsplit(spec)
    bucket = parts.netloc
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise InputError(f"ledger {spec!r}: {bucket!r} is not an S3 bucket name")
    if parts.fragment:
        raise InputError(f"ledger {spec!r}: a fragment (#…) has no meaning here")
    params = _parameters(spec, parts.query)
    days_text = params.get("retention-days")
    if days_text is None:
        raise InputError(
            f"ledger {spec!r}: retention-days is required",
            fix="add ?retention-days=N (COMPLIANCE retention: no one can delete an entry sooner)",
        )
    if not days_text.isdigit() or not 1 <= int(days_text) <= 36500:
        raise InputError(f"ledger {spec!r}: retention-days must be a whole number 1..36500")
    region = params.get("region")
    if region is not None and not _REGION.fullmatch(region):
        raise InputError(f"ledger {spec!r}: {region!r} is not an AWS region name")
    endpoint = params.get("endpoint-url")
    if endpoint is not None:
        target = urlsplit(endpoint)
        if target.scheme not in {"http", "https"} or not target.netloc:
            raise InputError(f"ledger {spec!r}: endpoint-url must be an http(s) URL")
    from envsecops.ledger.s3 import S3Ledger

    try:
        return S3Ledger(
            bucket,
            retention_days=int(days_text),
            prefix=parts.path,
            region=region,
            endpoint_url=endpoint,
        )
    except ValueError as exc:
        raise InputError(f"ledger {spec!r}: {exc}") from exc


def _parameters(spec: str, query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise InputError(f"ledger {spec!r}: unreadable query ({exc})") from exc
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in S3_PARAMETERS:
            known = ", ".join(sorted(S3_PARAMETERS))
            raise InputError(f"ledger {spec!r}: unknown parameter {name!r} (known: {known})")
        if name in params:
            raise InputError(f"ledger {spec!r}: {name} is given twice")
        params[name] = value
    return params


def append_all(
    ledgers: Sequence[Ledger], kind: EntryKind, body: Mapping[str, Any]
) -> list[Receipt]:
    """Append to every ledger in order; success only when all of them recorded the entry.

    The first failure stops the run and raises PartialWrite naming the ledger that failed,
    those that had already recorded (with their receipts) and those not attempted; the
    caller must then treat the entry as not recorded, because a record that only some of
    the configured ledgers hold is not the record the policy asked for.
    """
    if not ledgers:
        raise LedgerError("no ledger is configured: nothing was recorded", fix=f"configure {FORMS}")
    receipts: list[Receipt] = []
    for index, ledger in enumerate(ledgers):
        try:
            receipt = ledger.append(kind, body)
            if not isinstance(receipt, Receipt):  # no receipt, no proof it was recorded
                raise LedgerError(
                    f"the backend returned {type(receipt).__name__}, not a receipt: the entry "
                    "cannot be shown to be recorded"
                )
            receipts.append(receipt)
        except LedgerError as exc:
            raise _partial(ledger, exc, receipts, ledgers[index + 1 :]) from exc
        except Exception as exc:  # a bug in a backend is still a failed write
            error = LedgerError(f"internal error ({type(exc).__name__}: {exc})")
            raise _partial(ledger, error, receipts, ledgers[index + 1 :]) from exc
    return receipts


def _partial(
    ledger: Ledger, exc: LedgerError, recorded: list[Receipt], skipped: Sequence[Ledger]
) -> PartialWrite:
    if recorded:
        held = "; ".join(f"{r.ledger} ({r.location}, {r.digest})" for r in recorded)
        state = f"already recorded in {held} — those records stay (append-only)"
    else:
        state = "no ledger recorded it"
    not_tried = ", ".join(s.name for s in skipped)
    rest = f"; not attempted: {not_tried}" if not_tried else ""
    message = (
        f"ledger {ledger.name} failed: {exc.message}\n"
        f"  the entry is NOT recorded as required ({state}{rest})"
    )
    return PartialWrite(message, failed=ledger.name, recorded=recorded, fix=exc.fix)
