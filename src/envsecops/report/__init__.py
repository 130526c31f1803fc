"""Renderers: each turns a finished result into one output format, deciding nothing.

The registry names modules rather than importing them, so a run loads only the renderer
it uses (the SARIF and GitHub renderers pull in more than the text one needs).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from envsecops.pins.engine import PinReport
    from envsecops.report.context import RenderContext

Renderer = Callable[["PinReport", "RenderContext"], str]

RENDERER_BY_NAME: dict[str, str] = {
    "text": "envsecops.report.pins_text",
    "json": "envsecops.report.pins_json",
    "sarif": "envsecops.report.pins_sarif",
    "github": "envsecops.report.pins_github",
}


def renderer(name: str) -> Renderer:
    """The ``render`` function of the named format."""
    return cast(Renderer, import_module(RENDERER_BY_NAME[name]).render)
