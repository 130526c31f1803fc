"""The provider interface's values: secrets stay hidden, errors stay clean."""

from __future__ import annotations

import copy
import json
import pickle

import pytest

from envsecops.creds.interface import (
    IssuedCredential,
    MintError,
    MintRequestInvalid,
    ProviderRefused,
    fingerprint,
    scrub,
    session_label,
)
from envsecops.errors import ExitCode, InfraError
from envsecops.model.decision import Credential

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
SESSION = "FQoGZXIvYXdzEXAMPLE//////////wEaDEXAMPLE"


def _issued() -> IssuedCredential:
    credential = Credential(
        provider="aws",
        role="arn:aws:iam::123456789012:role/deploy",
        session_name="envsecops-1-1-abc",
        key_id="ASIAEXAMPLEKEYID",
        expires_at="2026-01-01T00:15:00Z",
        tags=(("env_hash", "sha256:ab"),),
    )
    return IssuedCredential(
        credential,
        secrets={"secret_access_key": SECRET, "session_token": SESSION},
        exports={"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": SESSION},
        notes=("tags: a note",),
    )


def test_repr_str_and_json_never_show_a_secret() -> None:
    issued = _issued()
    for text in (repr(issued), str(issued), json.dumps(issued.to_json())):
        assert SECRET not in text
        assert SESSION not in text
    assert issued.to_json()["notes"] == ["tags: a note"]
    assert issued.to_json()["key_id"] == "ASIAEXAMPLEKEYID"


def test_an_issued_credential_cannot_be_pickled_or_copied() -> None:
    issued = _issued()
    with pytest.raises(TypeError, match="never serialised"):
        pickle.dumps(issued)
    with pytest.raises(TypeError):
        copy.copy(issued)


def test_secrets_and_exports_are_read_only() -> None:
    issued = _issued()
    with pytest.raises(TypeError):
        issued.secrets["x"] = "y"  # type: ignore[index]


def test_mask_values_cover_the_key_id_and_every_secret_once() -> None:
    assert _issued().mask_values() == ["ASIAEXAMPLEKEYID", SECRET, SESSION]


def test_scrub_redacts_escapes_and_truncates() -> None:
    text = f"token {SECRET} rejected\n\x1b[2J{SESSION}"
    cleaned = scrub(text, [SECRET, SESSION])
    assert cleaned == "token [redacted] rejected\\n\\x1b[2J[redacted]"
    assert len(scrub("x" * 1000)) == 300
    assert scrub("x" * 1000).endswith("…")
    assert scrub(SECRET[:20] + "\n" + SECRET[20:], [SECRET]) != SECRET


def test_scrub_redacts_before_truncating() -> None:
    cleaned = scrub("a" * 290 + SECRET, [SECRET])
    assert SECRET[:5] not in cleaned


def test_errors_carry_service_call_target_and_retryability() -> None:
    error = MintError("m", fix="f", service="S", call="C", target="T", retryable=True, code="X")
    assert isinstance(error, InfraError)
    assert error.exit_code == ExitCode.INFRA
    assert error.diagnostics() == "m\n  fix: f"
    again = error.with_attempts(3)
    assert again.message == "m (gave up after 3 attempts)"
    assert (again.attempts, again.retryable, again.code, again.target) == (3, True, "X", "T")
    assert error.with_attempts(1) is error
    assert repr(error) == "MintError('m', retryable=True)"


def test_refusals_and_invalid_requests_are_never_retryable() -> None:
    refused = ProviderRefused("no", fix="f", service="S", call="C", target="T", retryable=True)
    assert not refused.retryable
    assert type(refused.with_attempts(2)) is ProviderRefused
    invalid = MintRequestInvalid("bad", fix="f", service="S", call="C", target="T")
    assert not invalid.retryable
    assert invalid.exit_code == ExitCode.USAGE
    assert isinstance(invalid, MintError)


def test_session_label_fits_64_allowed_characters() -> None:
    assert session_label("22259804324", "2", "ab" * 32) == "envsecops-22259804324-2-abababababab"
    long = session_label("9" * 100, "77777", "ff" * 32)
    assert len(long) <= 64
    assert long == "envsecops-" + "9" * 24 + "-7777-ffffffffffff"
    assert session_label("", "", "") == "envsecops-local-1-nohash"
    assert session_label("1 2", "a/b", "x:y") == "envsecops-1_2-a_b-x_y"


def test_fingerprint_is_short_and_stable() -> None:
    assert fingerprint("token") == fingerprint("token")
    assert fingerprint("token").startswith("sha256:")
    assert len(fingerprint("token")) == 7 + 16
    assert "token" not in fingerprint("token")
