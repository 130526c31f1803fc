"""In-toto Statement v1 about the bag: built for signing, parsed strictly after verification.

Spec: https://github.com/in-toto/attestation/blob/v1.0/spec/v1/statement.md. The subject
is ``bag.json`` with the sha256 of its exact bytes; the predicate (type
`https://envsecops.dev/bag/v1`, see `predicate`) is the bag summary and the job binding.
The signed payload is the statement's canonical JSON (RFC 8785), so the same bag and
binding always give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from envsecops.attest.binding import Binding, Origin
from envsecops.attest.dsse import INTOTO_PAYLOAD_TYPE
from envsecops.attest.encoding import EncodingError, load_json_object
from envsecops.attest.interface import VerificationError
from envsecops.attest.predicate import PREDICATE_TYPE, BagPredicate, BagSummary
from envsecops.canonical import canonical_json
from envsecops.errors import InputError
from envsecops.model.bag import Bag, ModelError

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "SUBJECT_NAME",
    "Binding",
    "Origin",
    "Statement",
    "StatementError",
    "Subject",
    "build_statement",
    "new_nonce",
    "parse_bag_predicate",
    "parse_statement",
    "statement_bytes",
    "utc_now",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = INTOTO_PAYLOAD_TYPE
SUBJECT_NAME = "bag.json"
MAX_SUBJECTS = 1024
_HEX = re.compile(r"[0-9a-f]+")
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128, "sha1": 40}


class StatementError(VerificationError):
    """A verified payload that is not the statement it must be: a deny."""


def new_nonce() -> str:
    """A fresh 256-bit nonce (URL-safe base64, 43 characters) for a binding."""
    return secrets.token_urlsafe(32)


def utc_now() -> str:
    """The current time as a binding's ``created_at`` (RFC 3339, UTC, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_statement(bag: Bag, bag_json: bytes, binding: Binding) -> dict[str, Any]:
    """The statement about ``bag``, whose manifest bytes (as written to disk) are ``bag_json``.

    The subject digest is taken over ``bag_json`` exactly, so a verifier holding the file
    can check it; those bytes must therefore be the JSON of ``bag`` (the CLI writes its
    canonical form). The check parses them rather than canonicalising the bag again.
    """
    manifest = bag.to_json()
    try:
        written = json.loads(bag_json)
    except ValueError:
        written = None
    if written != manifest:
        raise InputError(
            "the manifest bytes are not the JSON of the bag being attested",
            path=SUBJECT_NAME,
            fix="pass the exact bytes written to bag.json, "
            "envsecops.canonical.canonical_json(bag.to_json())",
        )
    predicate = BagPredicate(BagSummary.of(bag, env_hash=manifest["env_hash"]), binding)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": SUBJECT_NAME, "digest": {"sha256": hashlib.sha256(bag_json).hexdigest()}}
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate.to_json(),
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """The payload to sign: the statement's canonical JSON."""
    return canonical_json(dict(statement))


@dataclass(frozen=True, slots=True)
class Subject:
    """One statement subject: a name and its digests by algorithm."""

    name: str
    digest: tuple[tuple[str, str], ...]

    def sha256(self) -> str | None:
        """The sha256 digest (hex), if the subject has one."""
        return dict(self.digest).get("sha256")


@dataclass(frozen=True, slots=True)
class Statement:
    """A parsed in-toto Statement v1 (any predicate type)."""

    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any]

    def subject_for(self, artifact: bytes, *, name: str | None = None) -> Subject:
        """The subject whose sha256 is that of ``artifact`` (and, if given, named ``name``)."""
        wanted = hashlib.sha256(artifact).hexdigest()
        for subject in self.subjects:
            if subject.sha256() == wanted and (name is None or subject.name == name):
                return subject
        stated = ", ".join(
            f"{s.name or '<unnamed>'}={s.sha256() or '<no sha256>'}" for s in self.subjects
        )
        raise StatementError(
            f"no subject of the statement matches the artifact (sha256 {wanted}"
            + (f", name {name}" if name else "")
            + f"); the statement names {stated}",
            fix="verify the attestation against the file it was made for; a changed file "
            "needs a new attestation",
        )


def _subject(item: Any, index: int) -> Subject:
    where = f"`subject[{index}]`"
    if not isinstance(item, Mapping):
        raise StatementError(f"{where} must be an object")
    name = item.get("name", "")
    digests = item.get("digest")
    if not isinstance(name, str):
        raise StatementError(f"{where}.name must be a string")
    if not isinstance(digests, Mapping) or not digests:
        raise StatementError(f"{where}.digest must be a non-empty object")
    for alg, value in digests.items():
        length = _HEX_LENGTHS.get(alg)
        if not isinstance(value, str) or not _HEX.fullmatch(value):
            raise StatementError(f"{where}.digest.{alg} must be lowercase hex")
        if length is not None and len(value) != length:
            raise StatementError(f"{where}.digest.{alg} must have {length} hex digits")
    return Subject(name, tuple(sorted(digests.items())))


def parse_statement(payload: bytes) -> Statement:
    """Parse a verified payload as an in-toto Statement v1; anything else is an error."""
    try:
        data = load_json_object(payload, "the statement")
    except EncodingError as exc:
        raise StatementError(exc.message) from exc
    if data.get("_type") != STATEMENT_TYPE:
        raise StatementError(
            f"the payload is not an in-toto Statement v1 (`_type` is {data.get('_type')!r}, "
            f"expected {STATEMENT_TYPE!r})"
        )
    subjects = data.get("subject")
    if not isinstance(subjects, list) or not 1 <= len(subjects) <= MAX_SUBJECTS:
        raise StatementError(f"`subject` must be a list of 1 to {MAX_SUBJECTS} subjects")
    predicate_type = data.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise StatementError("`predicateType` must be a non-empty string")
    predicate = data.get("predicate")
    if predicate is None:
        predicate = {}
    if not isinstance(predicate, Mapping):
        raise StatementError("`predicate` must be an object")
    return Statement(
        tuple(_subject(item, i) for i, item in enumerate(subjects)), predicate_type, predicate
    )


def parse_bag_predicate(statement: Statement) -> BagPredicate:
    """The bag predicate of ``statement``: exactly one subject, `bag.json`, sha256 only."""
    if statement.predicate_type != PREDICATE_TYPE:
        raise StatementError(
            f"the predicate type is {statement.predicate_type!r}, not {PREDICATE_TYPE!r}"
        )
    if len(statement.subjects) != 1:
        raise StatementError(
            f"a bag statement has exactly one subject, this one has {len(statement.subjects)}"
        )
    subject = statement.subjects[0]
    if subject.name != SUBJECT_NAME or [alg for alg, _ in subject.digest] != ["sha256"]:
        raise StatementError(
            f"a bag statement's subject is {SUBJECT_NAME!r} with one sha256 digest, not "
            f"{subject.name!r} with {[alg for alg, _ in subject.digest]}"
        )
    try:
        return BagPredicate.from_json(statement.predicate)
    except ModelError as exc:
        raise StatementError(f"the {PREDICATE_TYPE} predicate is malformed: {exc}") from exc
