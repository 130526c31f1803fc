"""OIDC token request and validation against a real issuer on 127.0.0.1 with real RSA keys."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from envsecops.errors import ExitCode
from envsecops.gh.jwks import IssuerKeys, IssuerUnavailable, TokenRejected
from envsecops.gh.oidc import (
    OidcUnavailable,
    TokenRequestFailed,
    mask_commands,
    request_token,
    token_request_url,
    validate_token,
)
from tests.integration.oidc_issuer.server import HOSTILE, LocalIssuer
from tests.integration.oidc_issuer.tokens import encode, hs256, signing_key, unsigned

AUD = "sts.amazonaws.com"


def _no_sleep(_seconds: float) -> None:
    return


def _validate(issuer: LocalIssuer, token: str, **kwargs: Any) -> dict[str, str]:
    keys = kwargs.pop("keys", None) or IssuerKeys(issuer.url)
    return validate_token(token, audience=AUD, keys=keys, issuer=issuer.url, **kwargs)


def _rejected(issuer: LocalIssuer, token: str, claim: str) -> TokenRejected:
    with pytest.raises(TokenRejected) as caught:
        _validate(issuer, token)
    assert caught.value.claim == claim, caught.value.diagnostics()
    assert caught.value.exit_code is ExitCode.FINDINGS
    assert claim in caught.value.diagnostics()
    return caught.value


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# request_token -----------------------------------------------------------------------------


def test_request_token_gets_a_github_shaped_token(oidc_issuer: LocalIssuer) -> None:
    audience = "https://example.com/aud?x=1&y=2"
    token = request_token(oidc_issuer.environ(), audience, sleep=_no_sleep)
    payload = _payload(token)
    assert payload["aud"] == audience
    assert payload["run_attempt"] == "2"
    assert payload["iat"] - payload["nbf"] == 600
    assert payload["exp"] - payload["iat"] == 300
    (call,) = oidc_issuer.calls
    assert call.path == "/token"
    assert call.query == {"api-version": "2.0", "audience": audience}
    assert call.authorization == f"bearer {oidc_issuer.request_token}"


def test_request_url_without_query_gets_one(oidc_issuer: LocalIssuer) -> None:
    token = request_token(oidc_issuer.environ(query=""), AUD, sleep=_no_sleep)
    assert _payload(token)["aud"] == AUD
    assert oidc_issuer.calls[0].query == {"audience": AUD}


def test_token_request_url_encodes_the_audience() -> None:
    url = token_request_url("https://r.example/t?api-version=2.0", "a b&c=d/é")
    assert dict(parse_qsl(urlsplit(url).query)) == {"api-version": "2.0", "audience": "a b&c=d/é"}


@pytest.mark.parametrize(
    "missing", ["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
)
def test_missing_variables_deny_with_the_permission_yaml(
    oidc_issuer: LocalIssuer, missing: str
) -> None:
    environ = oidc_issuer.environ()
    del environ[missing]
    with pytest.raises(OidcUnavailable) as caught:
        request_token(environ, AUD, sleep=_no_sleep)
    text = caught.value.diagnostics()
    assert missing in text
    assert "id-token: write" in text
    assert "fork" in text
    assert caught.value.exit_code is ExitCode.FINDINGS
    assert oidc_issuer.calls == []


def test_transient_failures_are_retried(oidc_issuer: LocalIssuer) -> None:
    oidc_issuer.fail_token = [503, 500]
    token = request_token(oidc_issuer.environ(), AUD, retries=3, sleep=_no_sleep)
    assert _payload(token)["aud"] == AUD
    assert oidc_issuer.count("/token") == 3


def test_retries_are_bounded_then_infra_error(oidc_issuer: LocalIssuer) -> None:
    oidc_issuer.fail_token = [502] * 10
    delays: list[float] = []
    with pytest.raises(TokenRequestFailed) as caught:
        request_token(oidc_issuer.environ(), AUD, retries=2, sleep=delays.append)
    assert oidc_issuer.count("/token") == 3
    assert len(delays) == 2
    assert all(0 <= d <= 8 for d in delays)
    assert caught.value.exit_code is ExitCode.INFRA
    assert "HTTP 502" in caught.value.diagnostics()


def test_a_refused_request_is_not_retried_and_never_echoes_the_bearer(
    oidc_issuer: LocalIssuer,
) -> None:
    environ = oidc_issuer.environ()
    environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong-request-token-value"
    with pytest.raises(TokenRequestFailed) as caught:
        request_token(environ, AUD, sleep=_no_sleep)
    text = caught.value.diagnostics()
    assert "HTTP 401" in text
    assert "id-token: write" in text
    assert "wrong-request-token-value" not in text
    assert oidc_issuer.count("/token") == 1


def test_a_hanging_token_service_times_out(oidc_issuer: LocalIssuer) -> None:
    oidc_issuer.token_delay = 1.0
    with pytest.raises(TokenRequestFailed) as caught:
        request_token(oidc_issuer.environ(), AUD, retries=1, timeout=0.2, sleep=_no_sleep)
    assert "after 2 attempts" in caught.value.diagnostics()


@pytest.mark.parametrize(
    "body", [{"token": "x"}, {"value": 7}, {"value": "not a jwt"}, ["value"], {"value": "a.b"}]
)
def test_an_answer_without_a_jwt_fails(oidc_issuer: LocalIssuer, body: Any) -> None:
    oidc_issuer.token_body = body
    with pytest.raises(TokenRequestFailed, match="without a JWT"):
        request_token(oidc_issuer.environ(), AUD, sleep=_no_sleep)


def test_plain_http_to_a_remote_host_is_refused_before_connecting() -> None:
    environ = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://runner.example.com/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
    }
    with pytest.raises(TokenRequestFailed, match="not an https"):
        request_token(environ, AUD, sleep=_no_sleep)


@pytest.mark.parametrize("audience", ["", " sts", "a\nb"])
def test_a_bad_audience_is_refused(oidc_issuer: LocalIssuer, audience: str) -> None:
    with pytest.raises(OidcUnavailable, match="audience"):
        request_token(oidc_issuer.environ(), audience, sleep=_no_sleep)


def test_mask_commands_mask_the_jwt(oidc_issuer: LocalIssuer) -> None:
    token = oidc_issuer.mint()
    assert mask_commands(token) == [f"::add-mask::{token}"]


# validate_token: the good cases -------------------------------------------------------------


def test_a_valid_token_validates_to_string_claims(oidc_issuer: LocalIssuer) -> None:
    claims = _validate(oidc_issuer, oidc_issuer.mint())
    assert all(isinstance(v, str) for v in claims.values())
    assert claims["run_attempt"] == "2"
    assert claims["repository"] == "octo-org/octo-repo"
    assert int(claims["iat"]) - int(claims["nbf"]) == 600


def test_the_immutable_subject_form_validates(oidc_issuer: LocalIssuer) -> None:
    claims = _validate(oidc_issuer, oidc_issuer.mint(oidc_issuer.claims(AUD, immutable=True)))
    assert claims["sub"] == "repo:octo-org@65/octo-repo@74:ref:refs/heads/main"


def test_a_requested_token_validates_end_to_end(oidc_issuer: LocalIssuer) -> None:
    token = request_token(oidc_issuer.environ(), AUD, sleep=_no_sleep)
    assert _validate(oidc_issuer, token)["aud"] == AUD


def test_key_rotation_refetches_the_key_set_once(oidc_issuer: LocalIssuer) -> None:
    keys = IssuerKeys(oidc_issuer.url)
    _validate(oidc_issuer, oidc_issuer.mint(), keys=keys)
    oidc_issuer.rotate()
    _validate(oidc_issuer, oidc_issuer.mint(), keys=keys)
    assert keys.jwks_fetches == 2
    assert oidc_issuer.count("/.well-known/openid-configuration") == 1


# validate_token: every attack ---------------------------------------------------------------


def test_alg_none_is_rejected(oidc_issuer: LocalIssuer) -> None:
    token = encode(oidc_issuer.header(alg="none"), oidc_issuer.claims(), unsigned)
    _rejected(oidc_issuer, token, "alg")
    assert oidc_issuer.calls == []


def test_hs256_signed_with_the_public_key_is_rejected(oidc_issuer: LocalIssuer) -> None:
    header = oidc_issuer.header(alg="HS256")
    token = encode(header, oidc_issuer.claims(), hs256(oidc_issuer.key.public_pem()))
    _rejected(oidc_issuer, token, "alg")


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "iss", "aud", "sub"])
def test_each_required_registered_claim_is_required(oidc_issuer: LocalIssuer, claim: str) -> None:
    _rejected(oidc_issuer, oidc_issuer.mint(oidc_issuer.claims(**{claim: None})), claim)


@pytest.mark.parametrize("claim", ["repository", "run_id", "run_attempt", "job_workflow_ref"])
def test_github_claims_are_required(oidc_issuer: LocalIssuer, claim: str) -> None:
    _rejected(oidc_issuer, oidc_issuer.mint(oidc_issuer.claims(**{claim: None})), claim)


@pytest.mark.parametrize("aud", ["https://github.com/octo-org", [AUD], [AUD, "other"], ""])
def test_a_wrong_or_list_audience_is_rejected(oidc_issuer: LocalIssuer, aud: Any) -> None:
    _rejected(oidc_issuer, oidc_issuer.mint(oidc_issuer.claims(aud=aud)), "aud")


@pytest.mark.parametrize("suffix", ["/", "/x", ".evil.example", " "])
def test_a_near_miss_issuer_is_rejected(oidc_issuer: LocalIssuer, suffix: str) -> None:
    token = oidc_issuer.mint(oidc_issuer.claims(iss=oidc_issuer.url + suffix))
    _rejected(oidc_issuer, token, "iss")


def test_github_issuer_on_a_local_token_is_rejected(oidc_issuer: LocalIssuer) -> None:
    token = oidc_issuer.mint(oidc_issuer.claims(iss="https://token.actions.githubusercontent.com"))
    _rejected(oidc_issuer, token, "iss")


def test_an_unknown_kid_refetches_once_then_fails(oidc_issuer: LocalIssuer) -> None:
    keys = IssuerKeys(oidc_issuer.url)
    _validate(oidc_issuer, oidc_issuer.mint(), keys=keys)
    stranger = signing_key("stranger")
    with pytest.raises(TokenRejected) as caught:
        _validate(oidc_issuer, oidc_issuer.mint(key=stranger), keys=keys)
    assert caught.value.claim == "kid"
    assert keys.jwks_fetches == 2


def test_a_forged_signature_with_the_issuers_kid_is_rejected(oidc_issuer: LocalIssuer) -> None:
    stranger = signing_key("stranger")
    token = encode(oidc_issuer.header(), oidc_issuer.claims(), stranger.rs256())
    _rejected(oidc_issuer, token, "signature")


def test_a_tampered_payload_is_rejected(oidc_issuer: LocalIssuer) -> None:
    head, _, sig = oidc_issuer.mint().split(".")
    other = oidc_issuer.mint(oidc_issuer.claims(repository="evil/repo", sub="repo:evil/repo:x:y"))
    _rejected(oidc_issuer, f"{head}.{other.split('.')[1]}.{sig}", "signature")


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
def test_keys_named_by_the_token_are_never_fetched(header: str) -> None:
    with LocalIssuer() as real, LocalIssuer() as attacker:
        attacker.key = signing_key("stranger")
        pointer: Any = {
            "jku": f"{attacker.url}/.well-known/jwks",
            "x5u": f"{attacker.url}/cert.pem",
            "jwk": attacker.key.jwk(),
            "x5c": ["MIIB"],
        }[header]
        changes: dict[str, Any] = {header: pointer, "kid": attacker.key.kid}
        token = encode(real.header(**changes), real.claims(), attacker.key.rs256())
        _rejected(real, token, header)
        assert attacker.calls == []


@pytest.mark.parametrize(("crit", "claim"), [(["exp"], "header"), (["b64"], "crit")])
def test_a_crit_header_is_rejected(oidc_issuer: LocalIssuer, crit: list[str], claim: str) -> None:
    header = oidc_issuer.header(crit=crit, b64=True)
    token = encode(header, oidc_issuer.claims(), oidc_issuer.key.rs256())
    _rejected(oidc_issuer, token, claim)


def test_an_expired_token_is_rejected(oidc_issuer: LocalIssuer) -> None:
    past = int(time.time()) - 400
    claims = oidc_issuer.claims(iat=past, nbf=past - 600, exp=past + 300)
    _rejected(oidc_issuer, oidc_issuer.mint(claims), "exp")


def test_a_future_iat_is_rejected(oidc_issuer: LocalIssuer) -> None:
    now = int(time.time())
    claims = oidc_issuer.claims(iat=now + 120, nbf=now - 600, exp=now + 300)
    _rejected(oidc_issuer, oidc_issuer.mint(claims), "iat")


def test_a_future_nbf_is_rejected(oidc_issuer: LocalIssuer) -> None:
    now = int(time.time())
    claims = oidc_issuer.claims(iat=now, nbf=now + 120, exp=now + 300)
    _rejected(oidc_issuer, oidc_issuer.mint(claims), "nbf")


def test_a_long_lived_token_is_rejected(oidc_issuer: LocalIssuer) -> None:
    now = int(time.time())
    claims = oidc_issuer.claims(iat=now, nbf=now - 600, exp=now + 7200)
    _rejected(oidc_issuer, oidc_issuer.mint(claims), "exp")


@pytest.mark.parametrize(
    ("claim", "value"), [("run_attempt", 2), ("repository_id", 74), ("ref_protected", True)]
)
def test_non_string_claims_are_rejected(oidc_issuer: LocalIssuer, claim: str, value: Any) -> None:
    _rejected(oidc_issuer, oidc_issuer.mint(oidc_issuer.claims(**{claim: value})), claim)


@pytest.mark.parametrize(
    "sub",
    [
        "repo:evil-org/octo-repo:ref:refs/heads/main",
        "repo:octo-org@66/octo-repo@74:ref:refs/heads/main",
        "repo:octo-org@65/octo-repo:ref:refs/heads/main",
        "nonsense:octo-org/octo-repo",
        "repo:",
    ],
)
def test_a_subject_that_disagrees_or_does_not_parse_is_rejected(
    oidc_issuer: LocalIssuer, sub: str
) -> None:
    _rejected(oidc_issuer, oidc_issuer.mint(oidc_issuer.claims(sub=sub)), "sub")


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "a.b.c", "x" * 20000 + ".a.b"])
def test_garbage_is_rejected_as_a_token(oidc_issuer: LocalIssuer, token: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        _validate(oidc_issuer, token)
    assert caught.value.claim in {"token", "header"}


# the issuer itself --------------------------------------------------------------------------


def test_a_discovery_document_for_another_issuer_is_refused(oidc_issuer: LocalIssuer) -> None:
    oidc_issuer.discovery = {"issuer": oidc_issuer.url + "/", "jwks_uri": "x"}
    with pytest.raises(IssuerUnavailable, match="names issuer") as caught:
        _validate(oidc_issuer, oidc_issuer.mint())
    assert caught.value.exit_code is ExitCode.INFRA


def test_a_jwks_uri_off_the_issuers_origin_is_refused(oidc_issuer: LocalIssuer) -> None:
    with LocalIssuer() as other:
        oidc_issuer.discovery = {
            "issuer": oidc_issuer.url,
            "jwks_uri": f"{other.url}/.well-known/jwks",
        }
        with pytest.raises(IssuerUnavailable, match="origin"):
            _validate(oidc_issuer, oidc_issuer.mint())
        assert other.calls == []


@pytest.mark.parametrize("jwks", [{"keys": "nope"}, [], {"nokeys": []}])
def test_a_malformed_key_set_is_refused(oidc_issuer: LocalIssuer, jwks: Any) -> None:
    oidc_issuer.jwks = jwks
    with pytest.raises(IssuerUnavailable, match="keys"):
        _validate(oidc_issuer, oidc_issuer.mint())


def test_weak_and_private_keys_in_the_key_set_are_ignored(oidc_issuer: LocalIssuer) -> None:
    weak = signing_key("weak", 1024)
    oidc_issuer.jwks = {"keys": [weak.jwk()]}
    _rejected(oidc_issuer, oidc_issuer.mint(key=weak), "kid")


def test_duplicate_kids_in_the_key_set_are_refused(oidc_issuer: LocalIssuer) -> None:
    twin = {**signing_key("stranger").jwk(), "kid": oidc_issuer.key.kid}
    oidc_issuer.jwks = {"keys": [oidc_issuer.key.jwk(), twin]}
    _rejected(oidc_issuer, oidc_issuer.mint(), "kid")


def test_an_unreachable_issuer_is_an_infra_error() -> None:
    with LocalIssuer() as gone:
        url = gone.url
        token = gone.mint()
    keys = IssuerKeys(url, retries=0, timeout=1)
    with pytest.raises(IssuerUnavailable) as caught:
        validate_token(token, audience=AUD, keys=keys, issuer=url)
    assert caught.value.exit_code is ExitCode.INFRA


def test_a_plain_http_remote_issuer_is_refused() -> None:
    with pytest.raises(IssuerUnavailable, match="https"):
        IssuerKeys("http://token.actions.githubusercontent.com")


@pytest.mark.parametrize("trust_env", [False, True])
def test_proxies_from_the_environment_are_ignored_unless_trusted(
    oidc_issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch, trust_env: bool
) -> None:
    with LocalIssuer() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        keys = IssuerKeys(oidc_issuer.url, trust_env=trust_env, retries=0)
        token = oidc_issuer.mint()
        if trust_env:  # the proxy answers (404) instead of the issuer: proof the test bites
            with pytest.raises(IssuerUnavailable):
                _validate(oidc_issuer, token, keys=keys)
            assert proxy.calls
        else:
            assert _validate(oidc_issuer, token, keys=keys)["aud"] == AUD
            assert proxy.calls == []


@pytest.mark.parametrize(("kind", "claim"), sorted(HOSTILE.items()))
def test_every_hostile_token_of_the_issuer_is_refused(
    oidc_issuer: LocalIssuer, kind: str, claim: str
) -> None:
    _rejected(oidc_issuer, oidc_issuer.hostile(kind, AUD), claim)
    assert all(call.path != "/attacker/jwks" for call in oidc_issuer.calls)
