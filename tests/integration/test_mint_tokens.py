"""The OIDC tokens mint accepts: validated against the pinned issuer, never passed on unchecked.

moto's STS accepts any token, so mint must refuse every hostile one itself, before STS: for
this job's token (audience ``envsecops``, which binds the job) a refusal before anything is
recorded; for the provider's token (requested after the intent) a refusal recorded as
mint-failed. Either way the proxy in front of STS sees no request. ``--oidc-issuer`` pins the
issuer exactly: a trailing slash or another issuer fails closed.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.creds.leaks import assert_no_secret
from tests.integration.creds.mint_scene import (  # noqa: F401 - fixtures
    BINDING_AUDIENCE,
    STS_AUDIENCE,
    MintScene,
    RecordingIssuer,
    RunCli,
    mint_roles_fixture,
    scene_fixture,
)
from tests.integration.oidc_issuer.server import HOSTILE

KINDS = sorted(HOSTILE)


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_job_token_is_refused_before_anything(
    scene: MintScene, run_cli: RunCli, kind: str
) -> None:
    scene.ready(run_cli)
    scene.issuer.override[BINDING_AUDIENCE] = scene.issuer.hostile(kind, BINDING_AUDIENCE)
    result = scene.mint(run_cli)
    assert result.code == 1, result.err
    assert "refused (token.rejected)" in result.err
    assert f"OIDC token rejected ({HOSTILE[kind]})" in result.err
    scene.assert_no_sts_call()
    assert scene.kinds() == []
    assert scene.exported() == {}
    assert [c for c in scene.issuer.calls if c.query.get("audience") == STS_AUDIENCE] == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_provider_token_is_refused_and_recorded_as_a_failed_mint(
    scene: MintScene, run_cli: RunCli, kind: str
) -> None:
    scene.ready(run_cli)
    hostile = scene.issuer.hostile(kind, STS_AUDIENCE)
    scene.issuer.override[STS_AUDIENCE] = hostile
    result = scene.mint(run_cli)
    assert result.code == 1, result.err
    assert f"OIDC token rejected ({HOSTILE[kind]})" in result.err
    assert "recorded mint-failed in file:" in result.err
    scene.assert_no_sts_call()
    assert scene.exported() == {}
    assert scene.kinds() == ["mint-intent", "mint-failed"]
    failed = json.loads(scene.ledger.read_text(encoding="utf-8").splitlines()[1])
    assert f"OIDC token rejected ({HOSTILE[kind]})" in failed["body"]["error"]
    assert f"::add-mask::{hostile}" in result.out.splitlines(), "masked as soon as it arrived"
    unmasked = [line for line in result.out.splitlines() if not line.startswith("::add-mask::")]
    assert_no_secret({hostile}, unmasked, result.err, scene.ledger.read_text(encoding="utf-8"))


def test_a_provider_token_for_another_run_is_refused(scene: MintScene, run_cli: RunCli) -> None:
    scene.ready(run_cli)
    scene.issuer.override[STS_AUDIENCE] = scene.issuer.mint(
        scene.issuer.claims(STS_AUDIENCE, run_id="99")
    )
    result = scene.mint(run_cli)
    assert result.code == 1, result.err
    assert "refused (token.job)" in result.err
    scene.assert_no_sts_call()
    assert scene.kinds() == ["mint-intent", "mint-failed"]


def test_the_issuer_pin_is_exact_a_trailing_slash_fails_closed(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli)
    result = scene.mint(run_cli, "--oidc-issuer", scene.issuer.url + "/")
    assert result.code == 1, result.err
    assert "refused (token.rejected)" in result.err
    assert "not the pinned" in result.err
    scene.assert_no_sts_call()
    assert scene.kinds() == []


def test_tokens_of_an_issuer_other_than_the_pinned_one_are_refused(
    scene: MintScene, run_cli: RunCli
) -> None:
    scene.ready(run_cli)
    with RecordingIssuer() as other:
        result = scene.mint(run_cli, "--oidc-issuer", other.url)
    assert result.code == 1, result.err
    assert "refused (token.rejected)" in result.err
    scene.assert_no_sts_call()


def test_a_plain_http_issuer_beyond_loopback_is_refused(scene: MintScene, run_cli: RunCli) -> None:
    scene.ready(run_cli)
    result = scene.mint(run_cli, "--oidc-issuer", "http://issuer.example.com")
    assert result.code == 1, result.err
    assert "is not an https:// URL" in result.err
    scene.assert_no_sts_call()
