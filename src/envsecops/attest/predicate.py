"""The bag predicate (`https://envsecops.dev/bag/v1`): the bag summary and the job binding.

No I/O. Every record validates itself when built or parsed, so a predicate object that
exists is well formed. The JSON form is documented in docs/attestation.md and described by
schemas/bag-predicate.v1.json; parsing is strict (unknown fields are refused), because a
field this version does not understand could carry meaning a verifier would then ignore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from envsecops.attest.binding import Binding
from envsecops.canonical import is_digest
from envsecops.model.bag import BAG_VERSION, Bag, ComponentKind, ModelError, RunnerFacts, Status

PREDICATE_TYPE = "https://envsecops.dev/bag/v1"
PROBLEM_STATUSES = tuple(s for s in Status if s not in (Status.OK, Status.DIGEST_ONLY))


def _counts(data: Any, names: tuple[str, ...], what: str) -> dict[str, int]:
    if not isinstance(data, Mapping) or set(data) != set(names):
        raise ModelError(f"`{what}` must count exactly {sorted(names)}")
    if not all(type(v) is int and v >= 0 for v in data.values()):
        raise ModelError(f"`{what}` counts must be non-negative integers")
    return dict(data)


@dataclass(frozen=True, slots=True)
class BagSummary:
    """What the predicate says about the bag: its env hash, counts and runner facts."""

    env_hash: str
    bag_version: str
    tool: str
    created_at: str
    components: int
    volatile: int
    digest_only: int
    by_kind: tuple[tuple[str, int], ...]
    problems_by_status: tuple[tuple[str, int], ...]
    notes: int
    runner: RunnerFacts

    @classmethod
    def of(cls, bag: Bag, *, env_hash: str | None = None) -> BagSummary:
        """Summarise ``bag``.

        ``env_hash``, when given, must be ``bag.env_hash`` as the caller has just computed or
        verified it: each computation canonicalises the whole bag again (seconds for 100,000
        components), so callers holding it pass it on.
        """
        kinds = {k.value: 0 for k in ComponentKind}
        problems = {s.value: 0 for s in PROBLEM_STATUSES}
        for component in bag.components:
            kinds[component.kind.value] += 1
            if component.status in PROBLEM_STATUSES:
                problems[component.status.value] += 1
        return cls(
            env_hash=bag.env_hash if env_hash is None else env_hash,
            bag_version=BAG_VERSION,
            tool=bag.tool,
            created_at=bag.created_at,
            components=len(bag.components),
            volatile=sum(1 for c in bag.components if c.volatile),
            digest_only=sum(1 for c in bag.components if c.status is Status.DIGEST_ONLY),
            by_kind=tuple(sorted(kinds.items())),
            problems_by_status=tuple(sorted(problems.items())),
            notes=len(bag.notes),
            runner=bag.runner,
        )

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form."""
        by_status = dict(self.problems_by_status)
        return {
            "env_hash": self.env_hash,
            "bag_version": self.bag_version,
            "tool": self.tool,
            "created_at": self.created_at,
            "components": {
                "total": self.components,
                "volatile": self.volatile,
                "digest_only": self.digest_only,
                "by_kind": dict(self.by_kind),
            },
            "problems": {"total": sum(by_status.values()), "by_status": by_status},
            "notes": self.notes,
            "runner": self.runner.to_json(),
        }

    @classmethod
    def from_json(cls, data: Any) -> BagSummary:
        """Parse and validate; totals must add up, unknown fields are refused."""
        fields = {"env_hash", "bag_version", "tool", "created_at", "components"}
        fields |= {"problems", "notes", "runner"}
        if not isinstance(data, Mapping) or set(data) != fields:
            raise ModelError(f"`bag` must have exactly the fields {sorted(fields)}")
        comps, problems = data["components"], data["problems"]
        if not isinstance(comps, Mapping) or set(comps) != {
            "total",
            "volatile",
            "digest_only",
            "by_kind",
        }:
            raise ModelError("`bag.components` must have total, volatile, digest_only, by_kind")
        if not isinstance(problems, Mapping) or set(problems) != {"total", "by_status"}:
            raise ModelError("`bag.problems` must have total and by_status")
        by_kind = _counts(comps["by_kind"], tuple(k.value for k in ComponentKind), "by_kind")
        by_status = _counts(
            problems["by_status"], tuple(s.value for s in PROBLEM_STATUSES), "by_status"
        )
        numbers = _counts(
            {k: comps[k] for k in ("total", "volatile", "digest_only")}
            | {"problems": problems["total"], "notes": data["notes"]},
            ("total", "volatile", "digest_only", "problems", "notes"),
            "bag",
        )
        if sum(by_kind.values()) != numbers["total"] or numbers["problems"] != sum(
            by_status.values()
        ):
            raise ModelError("the component or problem counts do not add up to their totals")
        if not isinstance(data["env_hash"], str) or not is_digest(data["env_hash"]):
            raise ModelError("`bag.env_hash` must be a sha256:<64 hex> digest")
        for name in ("bag_version", "tool", "created_at"):
            if not isinstance(data[name], str):
                raise ModelError(f"`bag.{name}` must be a string")
        return cls(
            env_hash=data["env_hash"],
            bag_version=data["bag_version"],
            tool=data["tool"],
            created_at=data["created_at"],
            components=numbers["total"],
            volatile=numbers["volatile"],
            digest_only=numbers["digest_only"],
            by_kind=tuple(sorted(by_kind.items())),
            problems_by_status=tuple(sorted(by_status.items())),
            notes=numbers["notes"],
            runner=RunnerFacts.from_json(data["runner"]),
        )


@dataclass(frozen=True, slots=True)
class BagPredicate:
    """The whole predicate: the bag summary and the binding."""

    bag: BagSummary
    binding: Binding

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form."""
        return {"bag": self.bag.to_json(), "binding": self.binding.to_json()}

    @classmethod
    def from_json(cls, data: Any) -> BagPredicate:
        """Parse and validate."""
        if not isinstance(data, Mapping) or set(data) != {"bag", "binding"}:
            raise ModelError("the predicate must have exactly `bag` and `binding`")
        return cls(BagSummary.from_json(data["bag"]), Binding.from_json(data["binding"]))
