"""The cataloger interface: one verb, `catalog()`, yielding the components it finds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from envsecops.errors import InfraError
from envsecops.model.bag import Component


class CatalogError(InfraError):
    """A cataloger could not run at all (syft crashed, a database is unreadable...)."""


@dataclass(frozen=True)
class CatalogContext:
    """What every cataloger may read: the environment snapshot, roots, and what to include.

    ``environ`` is a snapshot taken once (catalogers never read ``os.environ`` themselves),
    ``root`` lets tests point every absolute path (``/etc``, ``/opt/hostedtoolcache``...) at a
    temporary tree, and ``claims`` are validated OIDC claims when a token was available.
    """

    environ: Mapping[str, str]
    root: Path = Path("/")
    home: Path | None = None
    workspace: Path | None = None
    config_globs: tuple[str, ...] = ()
    claims: Mapping[str, str] = field(default_factory=dict)

    def host_path(self, absolute: str) -> Path:
        """Map an absolute path of the runner (``/etc/os-release``) below ``root``."""
        return self.root / absolute.lstrip("/")


class Cataloger(ABC):
    """Finds one kind of thing in the bag."""

    id: str

    @abstractmethod
    def catalog(self, context: CatalogContext) -> Iterator[Component]:
        """Yield every component found; problems are components with a status, not raises."""
