"""Runner facts and the model's error type and field readers, shared by the bag records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ModelError(ValueError):
    """A record's JSON does not have the shape its type requires."""


def _str(data: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ModelError(f"`{key}` must be a string, not {type(value).__name__}")
    return value


def _req(data: Mapping[str, Any], key: str) -> str:
    value = _str(data, key)
    assert value is not None  # noqa: S101 - _str raised otherwise
    return value


RUNNER_FACTS = (
    "os",
    "os_version",
    "arch",
    "kernel",
    "image_os",
    "image_version",
    "runner_environment",
    "container_image",
)


@dataclass(frozen=True, slots=True)
class RunnerFacts:
    """Facts about the runner; ``origins`` says where each came from (oidc, env, file...)."""

    facts: tuple[tuple[str, str], ...] = ()
    origins: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """One fact, or None."""
        return dict(self.facts).get(name)

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form."""
        return {"facts": dict(self.facts), "origins": dict(self.origins)}

    @classmethod
    def from_json(cls, data: Any) -> RunnerFacts:
        """Parse and validate runner facts."""
        if not isinstance(data, Mapping):
            raise ModelError("`runner` must be a JSON object")
        pairs = []
        for part in ("facts", "origins"):
            value = data.get(part, {})
            if not isinstance(value, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise ModelError(f"`runner.{part}` must map strings to strings")
            pairs.append(tuple(sorted(value.items())))
        return cls(facts=pairs[0], origins=pairs[1])
