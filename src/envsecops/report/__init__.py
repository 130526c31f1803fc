"""Renderers: each turns a finished result into one output format, deciding nothing."""

from __future__ import annotations

from collections.abc import Callable

from envsecops.pins.engine import PinReport
from envsecops.report import pins_github, pins_json, pins_sarif, pins_text
from envsecops.report.context import RenderContext

Renderer = Callable[[PinReport, RenderContext], str]

RENDERER_BY_NAME: dict[str, Renderer] = {
    "text": pins_text.render,
    "json": pins_json.render,
    "sarif": pins_sarif.render,
    "github": pins_github.render,
}
