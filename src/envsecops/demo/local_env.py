"""The process environment the demo's attest and verify runs see, changed and always restored.

The demo runs the chain the way it runs on a laptop, wherever it is started: inside a GitHub
Actions job (the project's own CI runs the demo in its tests) the runner's variables would
make attest and verify behave as a real gate step (keyless signing, the default-branch policy
through the API, writing that job's step outputs), so the demo hides them for its own runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

ACTIONS_MARKERS = (
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
"""What makes attest and verify act as an Actions step: hidden during the demo's own runs."""


@contextmanager
def changed_environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    """Set (a string) or unset (None) variables of ``os.environ``; restore them afterwards."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def present_markers() -> list[str]:
    """The Actions variables set in this process, which the demo hides from its own runs."""
    return [name for name in ACTIONS_MARKERS if name in os.environ]


@contextmanager
def outside_actions() -> Iterator[None]:
    """Run as outside GitHub Actions: the Actions markers are unset, then restored."""
    with changed_environment(dict.fromkeys(ACTIONS_MARKERS)):
        yield
