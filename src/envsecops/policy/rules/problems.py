"""Components the bag could not read: `component.problem`, and `cataloger.failed` records.

A component whose status is neither ``ok`` nor ``digest-only`` (unreadable, vanished, changed
while hashing, a special file, a symlink loop or escape) has no trustworthy content to judge,
so no policy entry can allow it: the fix is on the runner. A ``cataloger-failed:<id>`` runner
record means a whole cataloger stopped part-way, so the bag is incomplete; it is reported as
`cataloger.failed` only (its own ``unreadable`` status is not reported twice).
``path-entry`` records (PATH directories, not binaries) reach this check only through their
status, like every other component.
"""

from __future__ import annotations

from collections.abc import Iterator

from envsecops.model.bag import ComponentKind, Status
from envsecops.model.decision import Reason
from envsecops.policy.rules.common import USABLE, Inputs, quoted, subject

FAILED_PREFIX = "cataloger-failed:"
_FIX = {
    Status.UNREADABLE: "make it readable by the job's user (or remove it) and attest again",
    Status.VANISHED: "it disappeared while the inventory ran (or a configured glob matched "
    "nothing): stop whatever deletes it, fix the glob, or attest again once the job is settled",
    Status.CHANGED: "something rewrote it while it was hashed: attest again once nothing "
    "writes to it",
    Status.SPECIAL: "a FIFO, socket or device sits where a file belongs: remove it",
    Status.LOOP: "a symbolic link loops: remove or repair the link",
    Status.OUTSIDE: "a symbolic link points outside the tree it belongs to: replace it with the "
    "file itself or remove it",
}


def check(inputs: Inputs) -> Iterator[Reason]:
    """One reason per component with a problem status, and per failed cataloger."""
    for component in inputs.bag.components:
        if component.kind is ComponentKind.RUNNER and component.name.startswith(FAILED_PREFIX):
            props = dict(component.properties)
            cataloger = component.name[len(FAILED_PREFIX) :]
            partial = props.get("partial_components", "?")
            error = quoted(props.get("error", "no error recorded").splitlines()[0], 300)
            yield Reason(
                "cataloger.failed",
                f"runner {component.name}",
                f"the {cataloger} cataloger failed after {partial} components ({error}), so "
                f"the bag is incomplete and nothing it would have listed can be judged; fix "
                f"the cause and attest again — no policy entry allows this",
            )
            continue
        if component.status in USABLE:
            continue
        detail = dict(component.properties).get("detail")
        found = f"its status is {component.status.value}"
        if detail:
            found += f" ({quoted(detail, 200)})"
        yield Reason(
            "component.problem",
            subject(component),
            f"{found}, so its content cannot be judged; "
            f"{_FIX.get(component.status, 'attest again')} — no policy entry allows this",
        )
