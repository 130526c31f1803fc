"""The one Markdown-escaping filter and jinja2 environment every job-summary template uses.

Kept apart from the pin-check summary so that other stages' summaries (record-decision)
escape untrusted text the same way without loading the pin-check engine.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import jinja2

MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~&@$")
"""ASCII punctuation that can start Markdown, GitHub math or HTML; all are backslash-escapable."""
FOLDED = {"\n": " ", "\r": " ", "\t": " "}


def markdown_escape(value: object, limit: int | None = None) -> str:
    """Escape untrusted text for a Markdown table cell or list item (the template's `md`).

    Clips to ``limit`` characters, folds line breaks and tabs to spaces, makes other control
    and invisible format characters (bidi overrides, zero-width) visible as ``⟨U+XXXX⟩``, and
    backslash-escapes every ASCII punctuation character that Markdown or HTML could read as
    syntax (``|`` cannot split a cell, ``<script>`` stays text, backticks open no code span).
    """
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    out: list[str] = []
    for char in text:
        if char in MARKDOWN_SPECIAL:
            out.append("\\" + char)
        elif char in FOLDED:
            out.append(FOLDED[char])
        elif unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}:
            out.append(f"⟨U+{ord(char):04X}⟩")
        else:
            out.append(char)
    return "".join(out)


@cache
def template_environment() -> jinja2.Environment:
    """The jinja2 environment over the packaged `templates/`, with the `md` filter."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("envsecops", "templates"),
        autoescape=False,  # noqa: S701 - Markdown, escaped by the `md` filter instead
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = markdown_escape
    return environment
