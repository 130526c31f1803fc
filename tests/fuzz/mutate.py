"""Strategies that damage valid samples: byte flips, cuts, splices, hostile tokens, nesting."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

HOSTILE_TEXT = (
    "\ufeff",  # a BOM, in the middle as well as at the start
    "\x00",
    "\x1b[31m",
    "\u202e",  # right-to-left override
    "\u2028",
    "\x85",
    "\r",
    "\r\n",
    "\t",
    "\ud800",  # a lone surrogate (unencodable: only reaches text parsers)
    "9" * 5000,  # an integer longer than Python converts by default (4300 digits)
    "1e999",
    "-0",
    "NaN",
    "&a [*a, *a, *a, *a]",
    "*a",
    "<<: *a",
    "!!python/object:os.system",
    "{{",
    "${{ github.event.issue.title }}",
    "::add-mask::x",
    '"',
    "'",
    "\\",
    "#",
    "//",
    "/*",
    "*/",
    ",",
    ":",
    "- ",
    "[" * 200,
    "{" * 200,
    "\u0000\uffff",
    "é",
    "😀",
)


@st.composite
def mutated_bytes(draw: st.DrawFn, seeds: Sequence[bytes], *, max_size: int = 1 << 16) -> bytes:
    """One of ``seeds`` with up to four random edits (flip, delete, insert, cut, splice)."""
    data = bytearray(draw(st.sampled_from(list(seeds))))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("flip", "delete", "insert", "cut", "splice", "repeat")))
        at = draw(st.integers(0, len(data))) if data else 0
        if op == "flip" and data:
            at = min(at, len(data) - 1)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete" and data:
            end = min(len(data), at + draw(st.integers(1, 16)))
            del data[at:end]
        elif op == "insert":
            token = draw(
                st.one_of(
                    st.sampled_from(HOSTILE_TEXT).map(lambda t: t.encode("utf-8", "surrogatepass")),
                    st.binary(min_size=1, max_size=8),
                )
            )
            data[at:at] = token
        elif op == "cut":
            del data[at:]
        elif op == "splice":
            other = draw(st.sampled_from(list(seeds)))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(0, 64))]
        elif op == "repeat" and data:
            end = min(len(data), at + draw(st.integers(1, 32)))
            data[at:at] = data[at:end] * draw(st.integers(2, 8))
    return bytes(data[:max_size])


def mutated_text(seeds: Sequence[str]) -> st.SearchStrategy[str]:
    """Mutations of text samples, decoded leniently so that every result is a ``str``."""
    raw = [s.encode("utf-8", "surrogatepass") for s in seeds]
    return mutated_bytes(raw).map(lambda b: b.decode("utf-8", "replace"))


def any_bytes(seeds: Sequence[bytes], *, prefix: bytes = b"") -> st.SearchStrategy[bytes]:
    """Mutated seeds, random bytes, random text, and deep nesting, in one strategy."""
    return st.one_of(
        mutated_bytes(seeds),
        mutated_bytes(seeds),
        st.binary(max_size=512),
        st.text(max_size=256).map(lambda t: prefix + t.encode("utf-8", "surrogatepass")),
        st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 5000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    )


def json_values(max_leaves: int = 20) -> st.SearchStrategy[object]:
    """Arbitrary JSON-shaped values: what a hostile producer can put in any field."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(["sha256:", "sha256:" + "0" * 64, "pkg:pypi/x@1", "", "a" * 300]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


@st.composite
def json_edits(draw: st.DrawFn, document: bytes) -> bytes:
    """``document`` (a JSON text) with one value, found by a random walk, made hostile."""
    import json

    data = json.loads(document)
    node = data
    path: list[str | int] = []
    while isinstance(node, (dict, list)) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        path.append(key)
        node = node[key]
    op = draw(st.sampled_from(("replace", "drop", "duplicate-key")))
    if not path:
        return json.dumps(draw(json_values(6))).encode()
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if op == "drop":
        del parent[last]
        return json.dumps(data).encode()
    if op == "duplicate-key" and isinstance(last, str):
        text = json.dumps(data)
        pair = json.dumps({last: draw(json_values(3))})[1:-1]
        return text.replace(f"{json.dumps(last)}:", f"{pair}, {json.dumps(last)}:", 1).encode()
    parent[last] = draw(json_values(6))
    return json.dumps(data).encode()
