"""The canonical JSON fast path gives exactly the rfc8785 package's bytes."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from envsecops.canonical import canonical_json

_TEXT = st.characters(blacklist_categories=["Cs"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(alphabet=_TEXT)
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(alphabet=_TEXT), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(VALUES)
def test_fast_path_matches_rfc8785(value: Any) -> None:
    assert canonical_json(value) == bytes(rfc8785.dumps(value))


def test_values_outside_the_fast_path_still_canonicalise() -> None:
    for value in ({"\U0001f600": 1, "\uffff": 2}, {"a": 1.5}, [2**60], {"x": "\x00\x1f\u2028"}):
        try:
            expected = bytes(rfc8785.dumps(value))
        except rfc8785.IntegerDomainError:
            continue
        assert canonical_json(value) == expected


TEXT_TREES = st.recursive(
    st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(TEXT_TREES)
def test_digest_of_strings_is_the_rfc8785_digest(value: Any) -> None:
    from envsecops.canonical import digest, digest_of_strings

    try:
        expected = digest(value)
    except rfc8785.CanonicalizationError:  # a lone surrogate is refused on both paths
        with pytest.raises(rfc8785.CanonicalizationError):
            digest_of_strings(value)
        return
    assert digest_of_strings(value) == expected


def test_digest_of_strings_sorts_astral_keys_as_rfc8785_does() -> None:
    from envsecops.canonical import digest, digest_of_strings

    value = {"\U0001f600": "a", "\ufb01": "b"}  # code point order and UTF-16 order differ
    assert digest_of_strings(value) == digest(value)
