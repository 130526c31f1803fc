"""Purls reduced to ``pkg:type/namespace/name``: what `packages` and `sbom` patterns match.

``#subpath``, ``?qualifiers`` and ``@version`` are dropped (the version is matched on its own,
from ``component.version``), each segment is percent-decoded as the purl spec says, the type is
lower-cased, and for the types whose names the spec calls case-insensitive (`FOLDED_TYPES`)
namespace and name are lower-cased too (PyPI names are also PEP 503 normalised), so that
``pkg:pypi/PyYAML`` in a policy denies the ``pkg:pypi/pyyaml`` a bag records. Patterns are
reduced the same way, with their globs kept. Nothing here raises, whatever the text.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

FOLDED_TYPES = frozenset({"apk", "bitbucket", "composer", "deb", "github", "hex", "pypi"})
"""Purl types whose namespace and name are case-insensitive in the purl spec."""
_PEP503 = re.compile(r"[-_.]+")


_SIMPLE = re.compile(r"pkg:([a-z0-9.+-]+)/([^@?#%\s]+)(?:@[^/?#@]*)?(?:[?#].*)?\Z", re.S)
"""A purl as the catalogers write them (nothing to decode or repair): the fast path."""


def base_purl(purl: str) -> str:
    """``pkg:type/namespace/name`` of a purl or pattern (see the module docstring)."""
    return base_and_type(purl)[0]


def base_and_type(purl: str) -> tuple[str, str]:
    """`base_purl` and the purl type, in one pass (the fast path for catalogers' purls)."""
    simple = _SIMPLE.match(purl)
    if simple is not None:
        kind, path = simple.groups()
        if "//" not in path and path[0] != "/" and path[-1] != "/":
            if kind in FOLDED_TYPES:
                path = path.lower()
                if kind == "pypi":
                    head, slash, name = path.rpartition("/")
                    path = head + slash + _PEP503.sub("-", name)
            return f"pkg:{kind}/{path}", kind
    base = reduce_purl(purl)
    return base, purl_type(base)


def reduce_purl(purl: str) -> str:
    """`base_purl` for any text: each step of the purl spec's parsing, never raising."""
    text = purl.strip().partition("#")[0].partition("?")[0]
    scheme, _, rest = text.partition(":")
    rest = rest.lstrip("/")
    head, slash, last = rest.rpartition("/")
    if "@" in last:
        last = last.rpartition("@")[0]
    segments = [*head.split("/"), last] if slash else [last]
    kind = unquote(segments[0]).lower()
    parts = [unquote(s) for s in segments[1:] if s]
    if kind in FOLDED_TYPES:
        parts = [p.lower() for p in parts]
        if kind == "pypi" and parts:
            parts[-1] = _PEP503.sub("-", parts[-1])
    return "/".join([f"{scheme.lower()}:{kind}", *parts])


def purl_type(base: str) -> str:
    """The type of a reduced purl (``pypi`` of ``pkg:pypi/x``)."""
    return base.partition(":")[2].partition("/")[0]
