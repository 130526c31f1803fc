"""Audit queries over ledger entries (no I/O): the record body, `why`, list filters, export rows.

Every entry that `envsecops record` (and mint-creds) appends has the same body shape, so an
entry answers on its own: ``decision_id``, the whole ``decision``, and where they apply the
``credential`` issued (never a secret), the ``drift`` diff, the ``pin_check`` counts and the
``error`` of a failed mint. Reading is strict: a body that does not have that shape is kept
as a record with a ``problem`` and reported, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from envsecops.canonical import digest
from envsecops.model.bag import BagDiff, ModelError
from envsecops.model.decision import Credential, Decision, Verdict
from envsecops.model.ledger import EntryKind, LedgerEntry

OPTIONAL_PARTS = ("drift", "pin_check", "error", "intent")


def record_body(
    decision: Decision,
    *,
    credential: Credential | None = None,
    drift: BagDiff | None = None,
    pin_check: Mapping[str, Any] | None = None,
    error: str | None = None,
    intent: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body of one ledger entry about ``decision`` (any kind); None parts are left out."""
    body: dict[str, Any] = {"decision_id": decision.decision_id, "decision": decision.to_json()}
    if credential is not None:
        body["credential"] = credential.to_json()
    parts = {
        "drift": drift.to_json() if drift else None,
        "pin_check": dict(pin_check) if pin_check is not None else None,
        "error": error,
        "intent": dict(intent) if intent is not None else None,
    }
    body.update({name: value for name, value in parts.items() if value is not None})
    return body


def record_digest(kind: EntryKind, body: Mapping[str, Any]) -> str:
    """Names a record in every ledger (entry digests differ: each ledger has its own seq)."""
    return digest({"kind": kind.value, "body": dict(body)})


@dataclass(frozen=True, slots=True)
class Record:
    """A ledger entry read back: where it was found and its parsed parts, or what is wrong."""

    entry: LedgerEntry
    ledgers: tuple[str, ...]
    decision_id: str | None = None
    decision: Decision | None = None
    credential: Credential | None = None
    problem: str | None = None

    @property
    def when(self) -> datetime | None:
        """When the ledger recorded the entry, or None when the stamp does not parse."""
        return parse_time(self.entry.recorded_at)

    def where(self) -> str:
        """Ledger names and the seq, for listing the entries read."""
        seq = f" seq {self.entry.seq}" if self.entry.seq is not None else ""
        return f"{', '.join(self.ledgers)}{seq}"


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time (a date means midnight; no zone means UTC), or None."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parse(entry: LedgerEntry, ledgers: tuple[str, ...]) -> Record:
    body = entry.body
    decision_id = body.get("decision_id")
    if not isinstance(decision_id, str) or not decision_id:
        return Record(entry, ledgers, problem="the body has no string `decision_id`")
    try:
        decision = Decision.from_json(body["decision"]) if "decision" in body else None
        credential = Credential.from_json(body["credential"]) if "credential" in body else None
    except ModelError as exc:
        return Record(entry, ledgers, decision_id, problem=f"the body does not parse: {exc}")
    if decision is not None and decision.decision_id != decision_id:
        return Record(entry, ledgers, decision_id, problem="`decision_id` names another decision")
    if entry.kind is EntryKind.DECISION and decision is None:
        return Record(entry, ledgers, decision_id, problem="a decision entry without `decision`")
    if entry.kind is EntryKind.MINT_ISSUED and credential is None:
        return Record(
            entry, ledgers, decision_id, problem="a mint-issued entry without a credential"
        )
    return Record(entry, ledgers, decision_id, decision, credential)


def read_records(sources: Iterable[tuple[str, Iterable[LedgerEntry]]]) -> list[Record]:
    """Every record from every ledger, the same record in several ledgers merged, oldest first.

    Two ledgers hold the same record when kind and body are equal (each ledger stamps its own
    seq and time); the merged record keeps the first ledger's entry and names every ledger.
    The same body appended twice to one ledger stays two records.
    """
    groups: list[tuple[LedgerEntry, list[str]]] = []
    by_key: dict[str, list[int]] = {}
    listed = list(sources)
    for name, entries in listed:
        for entry in entries:
            if len(listed) == 1:  # one ledger: nothing to merge, no digest to compute
                groups.append((entry, [name]))
                continue
            key = record_digest(entry.kind, entry.body)
            spots = by_key.setdefault(key, [])
            spot = next((i for i in spots if name not in groups[i][1]), None)
            if spot is None:  # new, or written twice to this ledger: both are kept
                spots.append(len(groups))
                groups.append((entry, [name]))
            else:
                groups[spot][1].append(name)
    records = [_parse(entry, tuple(names)) for entry, names in groups]
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(records, key=lambda r: (r.when or floor, r.entry.seq or 0))


@dataclass(frozen=True, slots=True)
class Filters:
    """`audit list`/`export` filters; None means any."""

    repository: str | None = None
    verdict: Verdict | None = None
    since: datetime | None = None

    def keep(self, record: Record) -> bool:
        """Whether a record passes; unreadable records always pass (never hidden)."""
        if record.problem is not None:
            return True
        decision = record.decision
        if self.repository is not None and (
            decision is None or decision.principal.get("repository") != self.repository
        ):
            return False
        if self.verdict is not None and (decision is None or decision.verdict is not self.verdict):
            return False
        when = record.when
        return self.since is None or when is None or when >= self.since


_COLUMN_NAMES = (
    "ledgers seq recorded_at kind digest decision_id verdict mode repository workflow_ref "
    "run_id run_attempt actor env_hash policy_id decision_expires_at provider role "
    "session_name key_id credential_expires_at reasons problem"
)
COLUMNS = tuple(_COLUMN_NAMES.split())
"""The flat columns of `audit list` and the CSV export, in order."""


def row(record: Record) -> dict[str, str]:
    """One record as flat text columns (`COLUMNS`) for `audit list` and CSV export."""
    entry, decision, credential = record.entry, record.decision, record.credential
    out = dict.fromkeys(COLUMNS, "")
    out |= {
        "ledgers": " ".join(record.ledgers),
        "seq": "" if entry.seq is None else str(entry.seq),
        "recorded_at": entry.recorded_at,
        "kind": entry.kind.value,
        "digest": entry.digest,
        "decision_id": record.decision_id or "",
        "problem": record.problem or "",
    }
    if decision is not None:
        claims = decision.principal
        out |= {
            "verdict": decision.verdict.value,
            "mode": decision.mode.value,
            "env_hash": decision.env_hash,
            "policy_id": decision.policy_id,
            "decision_expires_at": decision.expires_at,
            "reasons": "; ".join(r.code for r in decision.reasons),
        }
        for claim in ("repository", "workflow_ref", "run_id", "run_attempt", "actor"):
            out[claim] = claims.get(claim) or ""
    if credential is not None:
        out |= {
            "provider": credential.provider,
            "role": credential.role,
            "session_name": credential.session_name,
            "key_id": credential.key_id,
            "credential_expires_at": credential.expires_at,
        }
    return out


FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
"""Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a `'` before it."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def export_line(record: Record) -> dict[str, Any]:
    """One JSON-lines export object: the verbatim entry (its digest re-checkable) and context."""
    line: dict[str, Any] = {
        "format": "envsecops-ledger-export",
        "version": "1",
        "ledgers": list(record.ledgers),
        "entry": record.entry.to_json(),
    }
    if record.problem is not None:
        line["problem"] = record.problem
    return line


@dataclass(frozen=True, slots=True)
class Explanation:
    """`audit why` for one decision: the paragraph, the records read, and what is wrong."""

    decision_id: str
    paragraph: str
    records: tuple[Record, ...]
    anomalies: tuple[str, ...]


def explain(records: Iterable[Record], ident: str) -> list[Explanation]:
    """Explain every decision that ``ident`` names: a decision id, access key id or session."""
    ident = ident.strip()
    pool = list(records)
    matched: dict[str, str] = {}
    for record in pool:
        credential = record.credential
        if record.decision_id is None:
            continue
        if record.decision_id == ident:
            what = f"Decision {ident}"
        elif credential is not None and credential.key_id == ident:
            what = f"Access key {ident}"
        elif credential is not None and ident in (credential.session_name, credential.session_arn):
            what = f"Session {ident}"
        else:
            continue
        matched.setdefault(record.decision_id, what)
    return [
        _explain(decision_id, what, [r for r in pool if r.decision_id == decision_id])
        for decision_id, what in matched.items()
    ]


def _of(group: list[Record], kind: EntryKind) -> list[Record]:
    return [r for r in group if r.entry.kind is kind]


def _anomalies(decision: Decision, group: list[Record]) -> list[str]:
    found = [f"{r.entry.digest} could not be read: {r.problem}" for r in group if r.problem]
    if not _of(group, EntryKind.DECISION):
        found.append("no `decision` entry was recorded; the decision is the copy in a later entry")
    if len({digest(r.decision.to_json()) for r in group if r.decision is not None}) > 1:
        found.append("the entries disagree about the decision's content")
    intents = [r.when for r in _of(group, EntryKind.MINT_INTENT) if r.when is not None]
    if intents and decision.verdict is not Verdict.ALLOW:
        found.append("an intent to mint was recorded although the decision was a deny")
    expires = parse_time(decision.expires_at)
    for issued in _of(group, EntryKind.MINT_ISSUED):
        name = issued.credential.key_id if issued.credential else issued.entry.digest
        if decision.verdict is not Verdict.ALLOW:
            found.append(f"credential {name} was issued although the decision was a deny")
        when = issued.when
        if when is None or not any(t <= when for t in intents):
            found.append(f"credential {name} has no mint-intent entry recorded before it")
        if when is None or expires is None or when > expires:
            found.append(f"credential {name} was issued after the decision expired")
    return found


def _principal(decision: Decision) -> str:
    claims = decision.principal

    def claim(name: str) -> str:
        return claims.get(name) or "unknown"

    origin = (
        "from the validated OIDC token"
        if decision.principal.origin == "oidc"
        else f"taken from {decision.principal.origin}, not verified"
    )
    return (
        f"for repository {claim('repository')} (workflow {claim('workflow_ref')}, run "
        f"{claim('run_id')}, attempt {claim('run_attempt')}, job {decision.job}, actor "
        f"{claim('actor')}; principal {origin})"
    )


def _explain(decision_id: str, what: str, group: list[Record]) -> Explanation:
    decisions = [r.decision for r in group if r.decision is not None]
    if not decisions:
        anomalies = [f"no entry for decision {decision_id} carries the decision itself"]
        anomalies += [
            f"{r.entry.digest} could not be read: {r.problem}" for r in group if r.problem
        ]
        paragraph = f"{what} names decision {decision_id}, but no entry read records its decision."
        return Explanation(decision_id, paragraph, tuple(group), tuple(anomalies))
    first = _of(group, EntryKind.DECISION)
    decision = first[0].decision if first and first[0].decision else decisions[0]
    allowed = decision.verdict is Verdict.ALLOW
    issued = [r for r in _of(group, EntryKind.MINT_ISSUED) if r.credential is not None]
    verb = "allowed" if allowed else "denied"
    by_decision = what.startswith("Decision")
    if issued and by_decision:
        opening = f"{what} {verb} a credential; {_count(len(issued), 'was', 'were')} issued."
    elif issued and allowed:
        opening = f"{what} existed because decision {decision_id} allowed it."
    elif issued:
        opening = f"{what} was issued under decision {decision_id}, which DENIED it."
    elif by_decision:
        opening = f"{what} {verb} the request; no credential was issued under it."
    else:
        opening = (
            f"{what} names decision {decision_id}, which {verb} the request, but no "
            "mint-issued entry read records a credential for it."
        )
    sentences = [
        opening,
        f"The decision was made at {decision.issued_at} in {decision.mode.value} mode over the "
        f"bag with env hash {decision.env_hash} (attestation {decision.attestation_digest}) "
        f"under policy {decision.policy_id} (read from {decision.policy_source}"
        f"{': ' + decision.policy_ref if decision.policy_ref else ''}), "
        f"{_principal(decision)}, and was valid until {decision.expires_at}.",
    ]
    intents = _of(group, EntryKind.MINT_INTENT)
    for record in issued:
        credential = record.credential
        assert credential is not None  # noqa: S101 - filtered above
        intent = (
            f"the intent to mint was recorded at {intents[0].entry.recorded_at}; "
            if intents
            else ""
        )
        sentences.append(
            f"For it, {intent}{credential.provider} issued role {credential.role} as session "
            f"{credential.session_name} (access key {credential.key_id}) at "
            f"{record.entry.recorded_at}, valid until {credential.expires_at}."
        )
    for record in _of(group, EntryKind.MINT_FAILED):
        error = record.entry.body.get("error")
        sentences.append(f"Minting failed at {record.entry.recorded_at}: {error}.")
    if not allowed and decision.reasons:
        shown = "; ".join(f"{r.code} ({r.subject}): {r.message}" for r in decision.reasons[:3])
        more = len(decision.reasons) - 3
        tail = f"; and {more} more" if more > 0 else ""
        reasons = "1 reason" if len(decision.reasons) == 1 else f"{len(decision.reasons)} reasons"
        sentences.append(f"It was denied for {reasons}: {shown}{tail}.")
    drift = _of(group, EntryKind.DRIFT)
    if drift:
        sentences.append(f"Drift was recorded at {drift[0].entry.recorded_at}.")
    paragraph = " ".join(sentences)
    return Explanation(decision_id, paragraph, tuple(group), tuple(_anomalies(decision, group)))


def _count(number: int, one: str, many: str) -> str:
    return f"one {one}" if number == 1 else f"{number} {many}"
