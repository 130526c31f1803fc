"""STS's names and limits: tag values, SourceIdentity, RoleSessionName, DurationSeconds."""

from __future__ import annotations

import re

import pytest

from envsecops.creds.aws_names import (
    MAX_TAG_VALUE,
    check_duration,
    role_session_name,
    sanitise_tag,
    session_tags,
    source_identity,
    tag_char_allowed,
)
from envsecops.creds.interface import MintRequestInvalid

NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{2,64}$")


@pytest.mark.parametrize(
    "value",
    [
        "sha256:" + "0123456789abcdef" * 4,
        "octo-policy@sha256:0123456789ab",
        "dec_0123456789abcdef0123456789abcdef",
        "Déploiement prod 東京 ١٢٣",  # letters, spaces and digits of any script
        "a/b=c+d-e@f.g:h_i",
        "",
    ],
)
def test_allowed_values_pass_unchanged(value: str) -> None:
    result = sanitise_tag(value, what="x")
    assert result.value == value
    assert result.note is None


@pytest.mark.parametrize(
    "ch", ["#", "!", "<", ">", ";", "*", "\n", "\t", "\x00", "😀", "́", "|", "~", ","]
)
def test_forbidden_characters_become_underscores(ch: str) -> None:
    assert not tag_char_allowed(ch)
    result = sanitise_tag(f"a{ch}b", what="policy_id")
    assert result.value == "a_b"
    assert result.note is not None
    assert result.note.startswith("tag policy_id: 1 character(s) outside")


def test_long_values_keep_their_head_and_a_digest_of_the_original() -> None:
    first = sanitise_tag("x" * 300, what="env_hash")
    second = sanitise_tag("x" * 299 + "y", what="env_hash")
    assert len(first.value) == MAX_TAG_VALUE
    assert re.fullmatch(r"x{239}\+[0-9a-f]{16}", first.value)
    assert first.value != second.value
    assert first.note is not None
    assert "cut to 256 characters" in first.note
    assert sanitise_tag("x" * 256, what="env_hash").note is None


def test_length_is_counted_as_sts_counts_it() -> None:
    wide = "𠀀" * 200  # a letter beyond the BMP: two UTF-16 code units each
    result = sanitise_tag(wide, what="x")
    assert len(result.value.encode("utf-16-le")) // 2 <= MAX_TAG_VALUE
    assert re.search(r"\+[0-9a-f]{16}$", result.value)


def test_the_note_quotes_the_original_safely() -> None:
    note = sanitise_tag("a\nb", what="decision_id").note
    assert note is not None
    assert "\n" not in note
    assert "(original 'a\\nb')" in note


def test_session_tags_come_in_key_order() -> None:
    env, policy, decision = session_tags("sha256:ab", "p@sha256:cd", "dec_1")
    assert (env.value, policy.value, decision.value) == ("sha256:ab", "p@sha256:cd", "dec_1")


def test_source_identity_is_the_decision_id_within_the_rules() -> None:
    assert source_identity("dec_0123456789abcdef0123456789abcdef").note is None
    rewritten = source_identity("dec:1/ü")
    assert rewritten.value == "dec_1__"
    assert rewritten.note is not None
    long = source_identity("d" * 100)
    assert NAME.match(long.value)
    assert re.fullmatch(r"d{47}\+[0-9a-f]{16}", long.value)
    with pytest.raises(MintRequestInvalid, match="shorter than the 2 characters"):
        source_identity("d")


def test_role_session_name() -> None:
    assert (
        role_session_name("22259804324", "2", "ab12" * 16) == "envsecops-22259804324-2-ab12ab12ab12"
    )
    for run_id in ("1", "9" * 200, "a b/c"):
        assert NAME.match(role_session_name(run_id, "10", "ff" * 32))


@pytest.mark.parametrize(("asked", "given"), [(None, 900), (900, 900), (1800, 1800), (3600, 3600)])
def test_durations_within_the_chaining_cap(asked: int | None, given: int) -> None:
    assert check_duration(asked) == given


@pytest.mark.parametrize("asked", [899, 3601, 0, -1, 43200, True])
def test_durations_outside_are_refused(asked: int) -> None:
    with pytest.raises(MintRequestInvalid) as caught:
        check_duration(asked)
    assert "DurationSeconds" in caught.value.message
    assert "max-lifetime" in (caught.value.fix or "")
