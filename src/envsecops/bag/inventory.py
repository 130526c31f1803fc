"""Take the inventory: run every cataloger over one environment snapshot and assemble the Bag.

A cataloger that raises is never silently dropped: whatever it yielded before the failure is
kept, and a ``cataloger-failed:<id>`` component (kind runner, status unreadable) records what
went wrong, so the bag is still produced but fails closed under the default policy. An empty
list of catalogers is an error, not an empty bag.

Supplementary catalogers (``extra``, e.g. syft) run after the built-in ones; a component of
theirs whose purl a built-in cataloger already reported is merged away (the built-in record
carries the precise path and digest), and a note says how many were.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from envsecops import __version__
from envsecops.bag.interface import CatalogContext, Cataloger, CatalogError
from envsecops.errors import EnvsecopsError
from envsecops.model.bag import Bag, Component, ComponentKind, RunnerFacts, Status

if TYPE_CHECKING:
    from envsecops.bag.hashing import Hasher

Progress = Callable[[int, int | None, str], None]
"""``(done, total, what)`` — the shape of :class:`envsecops.attest.outputs.ProgressLines`."""

SOURCE = "inventory"
NO_CLAIMS_NOTE = (
    "no validated OIDC claims: runner_environment and the other runner facts come from "
    "environment variables and files, which any earlier step can change (see runner.origins)"
)
MAX_ERROR_CHARS = 2000


def default_catalogers(hasher: Hasher | None = None) -> list[Cataloger]:
    """The built-in catalogers, in the order they run (an explicit registry).

    ``hasher`` is shared by the catalogers that hash file content, so one worker pool serves
    them all (each makes its own when it is None).
    """
    from envsecops.bag.actions import Actions
    from envsecops.bag.configs import Configs
    from envsecops.bag.env import Env
    from envsecops.bag.node_packages import NodePackages
    from envsecops.bag.os_packages import OsPackages
    from envsecops.bag.path_binaries import PathBinaries
    from envsecops.bag.python_packages import PythonPackages
    from envsecops.bag.runner import Runner
    from envsecops.bag.tool_cache import ToolCache

    return [
        Runner(),
        PathBinaries(hasher),
        ToolCache(hasher),
        OsPackages(),
        PythonPackages(),
        NodePackages(),
        Configs(hasher),
        Actions(hasher),
        Env(),
    ]


class HashProgress:
    """Adapts the hasher's ``advance(files, nbytes)`` to a ``(done, total, what)`` reporter."""

    def __init__(self, report: Progress) -> None:
        self.report = report
        self.files = 0
        self.nbytes = 0

    def advance(self, files: int, nbytes: int) -> None:
        """Count and report."""
        self.files += files
        self.nbytes += nbytes
        self.report(self.files, None, f"files hashed ({self.nbytes / 1e6:,.0f} MB)")


def context_from_environment(
    environ: Mapping[str, str],
    *,
    root: Path = Path("/"),
    claims: Mapping[str, str] | None = None,
    config_globs: Iterable[str] = (),
) -> CatalogContext:
    """A catalog context from one snapshot of the environment.

    ``home`` (``$HOME``) and ``workspace`` (``$GITHUB_WORKSPACE``) are runner paths, read below
    ``root`` like every other absolute path; relative values are ignored.
    """
    snapshot = dict(environ)
    home = snapshot.get("HOME", "")
    workspace = snapshot.get("GITHUB_WORKSPACE", "")
    return CatalogContext(
        environ=snapshot,
        root=root,
        home=Path(home) if home.startswith("/") else None,
        workspace=Path(workspace) if workspace.startswith("/") else None,
        config_globs=tuple(config_globs),
        claims=dict(claims or {}),
    )


def failure_component(cataloger_id: str, exc: BaseException, partial: int) -> Component:
    """The record of a cataloger that raised: unreadable, so the default policy denies."""
    text = exc.diagnostics() if isinstance(exc, EnvsecopsError) else f"{type(exc).__name__}: {exc}"
    return Component(
        kind=ComponentKind.RUNNER,
        name=f"cataloger-failed:{cataloger_id}",
        source=SOURCE,
        status=Status.UNREADABLE,
        properties=(
            ("error", text[:MAX_ERROR_CHARS]),
            ("partial_components", str(partial)),
        ),
    )


def run_cataloger(cataloger: Cataloger, context: CatalogContext) -> list[Component]:
    """Everything one cataloger yields; a failure becomes a component, never an exception."""
    found: list[Component] = []
    try:
        for component in cataloger.catalog(context):
            if not isinstance(component, Component):
                raise TypeError(f"yielded a {type(component).__name__}, not a Component")
            found.append(component)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded; the bag fails closed
        found.append(failure_component(cataloger.id, exc, len(found)))
    return found


def _facts(context: CatalogContext) -> tuple[RunnerFacts, list[Component]]:
    from envsecops.bag.runner import runner_facts

    try:
        return runner_facts(context), []
    except Exception as exc:  # noqa: BLE001 - recorded like a crashed cataloger
        return RunnerFacts(), [failure_component("runner-facts", exc, 0)]


def _check_ids(catalogers: Sequence[Cataloger]) -> None:
    if not catalogers:
        raise CatalogError(
            "no catalogers to run: an empty inventory proves nothing",
            fix="run the default catalogers (pass catalogers=None)",
        )
    ids = [c.id for c in catalogers]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogError(f"cataloger id(s) {', '.join(duplicated)} used twice")


def take_inventory(
    context: CatalogContext,
    catalogers: Sequence[Cataloger] | None = None,
    *,
    extra: Sequence[Cataloger] = (),
    progress: Progress | None = None,
    tool_version: str = __version__,
    notes: Iterable[str] = (),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Bag:
    """Run ``catalogers`` (default: :func:`default_catalogers`) and ``extra``; build the Bag."""
    with ExitStack() as stack:
        if catalogers is None:
            from envsecops.bag.hashing import Hasher

            hash_progress = HashProgress(progress) if progress is not None else None
            catalogers = default_catalogers(stack.enter_context(Hasher(progress=hash_progress)))
        return _take(context, list(catalogers), extra, progress, tool_version, notes, clock)


def _take(
    context: CatalogContext,
    chosen: list[Cataloger],
    extra: Sequence[Cataloger],
    progress: Progress | None,
    tool_version: str,
    notes: Iterable[str],
    clock: Callable[[], datetime],
) -> Bag:
    _check_ids([*chosen, *extra])
    created_at = clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    said = list(notes)
    if not context.claims:
        said.append(NO_CLAIMS_NOTE)
    total = len(chosen) + len(extra)
    components: list[Component] = []
    for done, cataloger in enumerate(chosen, start=1):
        components.extend(_timed(cataloger, context, said))
        if progress is not None:
            progress(done, total, f"catalogers done ({cataloger.id})")
    known = {c.purl for c in components if c.purl}
    for done, cataloger in enumerate(extra, start=len(chosen) + 1):
        found = _timed(cataloger, context, said)
        kept = [c for c in found if not c.purl or c.purl not in known]
        if len(kept) < len(found):
            said.append(
                f"{cataloger.id}: {len(found) - len(kept)} of {len(found)} components were "
                "already reported (same purl) by the built-in catalogers and were merged"
            )
        components.extend(kept)
        if progress is not None:
            progress(done, total, f"catalogers done ({cataloger.id})")
    facts, problems = _facts(context)
    components.extend(problems)
    return Bag.build(
        facts, components, created_at=created_at, tool=f"envsecops {tool_version}", notes=said
    )


def _timed(cataloger: Cataloger, context: CatalogContext, notes: list[str]) -> list[Component]:
    start = time.monotonic()
    found = run_cataloger(cataloger, context)
    failed = any(c.source == SOURCE and c.status is Status.UNREADABLE for c in found)
    state = "FAILED" if failed else "ok"
    notes.append(
        f"{cataloger.id}: {state}, {len(found)} components in {time.monotonic() - start:.1f} s"
    )
    return found
