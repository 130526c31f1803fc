"""The stored form: spliced serialisation equals RFC 8785 of the whole entry, and parses back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envsecops.canonical import canonical_json, digest
from envsecops.ledger.codec import decode, encode, serialise
from envsecops.model.bag import ModelError
from envsecops.model.ledger import EntryKind, LedgerEntry

SAFE_INT = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
JSON = st.recursive(
    st.none() | st.booleans() | SAFE_INT | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(
    body=st.dictionaries(st.text(), JSON, max_size=6),
    kind=st.sampled_from(list(EntryKind)),
    seq=st.none() | st.integers(min_value=0, max_value=2**40),
    prev=st.none() | st.text(max_size=80),
)
def test_serialise_is_the_canonical_json_of_the_whole_entry(
    body: dict[str, Any], kind: EntryKind, seq: int | None, prev: str | None
) -> None:
    entry = LedgerEntry(kind, body, "2026-01-01T00:00:00.000000Z", seq, prev)
    value, data = serialise(entry)
    assert value == entry.digest == digest(entry.content())
    assert data == canonical_json(entry.to_json())
    stored = decode(data)
    assert (stored.entry, stored.digest, stored.data) == (entry, value, data)


def test_encode_and_decode_round_trip() -> None:
    stored = encode(
        "l", "mint-issued", {"k": ["v", 1, None, True]}, "2026-01-01T00:00:00Z", 3, None
    )
    assert stored.entry.kind is EntryKind.MINT_ISSUED
    assert decode(stored.data) == stored


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"[" * 100_000, "not usable JSON"),
        (b'{"digest":"x","n":' + b"9" * 5000 + b"}", "not usable JSON"),
        (
            b'{"digest":"x","version":"1","body":{"f":NaN},"kind":"drift","recorded_at":"t"}',
            "not canonical JSON",
        ),
    ],
    ids=["deep", "huge-int", "nan"],
)
def test_hostile_lines_are_model_errors_not_crashes(raw: bytes, why: str) -> None:
    with pytest.raises(ModelError, match=why):
        decode(raw)


def test_an_unknown_member_is_not_canonical() -> None:
    stored = encode("l", EntryKind.DRIFT, {}, "2026-01-01T00:00:00Z", 0, None)
    tampered = stored.data[:-1] + b',"zz":1}'
    with pytest.raises(ModelError, match="unknown members"):
        decode(tampered)


def test_a_recorded_at_without_a_zone_is_refused() -> None:
    stored = encode("l", EntryKind.DRIFT, {}, "2026-01-01T00:00:00", 0, None)
    with pytest.raises(ModelError, match="no time zone"):
        decode(stored.data)
