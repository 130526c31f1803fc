"""What a policy says about one recorded bag outside `verify`: read bag.json, evaluate, verdict.

`envsecops policy test` and `envsecops policy diff` both judge bags that were recorded
earlier, with no attestation and no job around them: only the policy part of verify
(DESIGN §3, step 4) applies. An empty allowlist is a deny here as it is in verify.
"""

from __future__ import annotations

from pathlib import Path

from envsecops.attest.encoding import EncodingError, load_json_object
from envsecops.errors import InputError
from envsecops.model.bag import Bag, ModelError
from envsecops.model.decision import Reason, Verdict
from envsecops.policy.evaluate import evaluate
from envsecops.policy.model import Policy


def read_bag(path: Path, display: str) -> Bag:
    """Parse one bag.json (strict JSON, the stated env hash rechecked); InputError naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the bag: {exc.strerror or exc}", path=display) from exc
    try:
        return Bag.from_json(load_json_object(data, "the bag", max_bytes=None))
    except EncodingError as exc:
        raise InputError(
            str(exc), path=display, fix="point at a bag.json written by `envsecops attest`"
        ) from exc
    except ModelError as exc:
        raise InputError(
            f"not a usable bag.json: {exc}",
            path=display,
            fix="point at a bag.json written by `envsecops attest`, unedited",
        ) from exc


def policy_reasons(policy: Policy, bag: Bag) -> tuple[Reason, ...]:
    """Every reason ``policy`` has to deny ``bag``, sorted by (code, subject); empty = allow.

    No pin-check report goes with a recorded bag, so no `pins.finding` reason can arise; an
    empty allowlist is a `policy.empty` reason (the evaluator adds it), never allow-all.
    """
    return tuple(evaluate(policy, bag))


def verdict_of(reasons: tuple[Reason, ...]) -> Verdict:
    """Allow exactly when there is no reason to deny."""
    return Verdict.DENY if reasons else Verdict.ALLOW
