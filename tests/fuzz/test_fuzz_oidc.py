"""JWTs (gh/oidc.validate_token) and the issuer's key set (IssuerKeys), fed locally.

No network: the key source is a static one, or an IssuerKeys whose two fetches return
documents the test makes. A random or damaged token is refused with TokenRejected unless
the damage left its signed bytes intact, in which case it yields the very claims signed.
"""

from __future__ import annotations

import json
import time
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from hypothesis import example, given
from hypothesis import strategies as st

from envsecops.errors import EnvsecopsError
from envsecops.gh.jwks import IssuerKeys, KeySource, TokenRejected
from envsecops.gh.oidc import GITHUB_ISSUER, validate_token
from tests.fuzz.budget import fuzz_settings, ran
from tests.fuzz.mutate import json_values, mutated_text
from tests.integration.oidc_issuer.tokens import (
    b64url,
    encode,
    github_claims,
    hs256,
    signing_key,
    unsigned,
)

AUDIENCE = "sts.amazonaws.com"
KID = "fuzz-key"
JWKS_URI = GITHUB_ISSUER + "/.well-known/jwks"


class StaticKeys(KeySource):
    """One RSA key by its kid; any other kid is refused as IssuerKeys would."""

    def key(self, kid: str) -> RSAPublicKey:
        """The fuzz key, or TokenRejected."""
        if kid != KID:
            raise TokenRejected(f"no key with `kid` {kid!r}", claim="kid")
        return signing_key(KID).private.public_key()


@cache
def _good() -> tuple[str, dict[str, str]]:
    claims = github_claims(GITHUB_ISSUER, AUDIENCE, now=int(time.time()))
    header = {"typ": "JWT", "alg": "RS256", "kid": KID}
    token = encode(header, claims, signing_key(KID).rs256())
    return token, validate_token(token, audience=AUDIENCE, keys=StaticKeys())


def _refused_or_same(token: str) -> None:
    _token, good_claims = _good()
    try:
        claims = validate_token(token, audience=AUDIENCE, keys=StaticKeys())
    except TokenRejected:
        return
    ran("jwt (validated)")
    assert claims == good_claims, f"a damaged token validated with other claims: {token!r}"


@st.composite
def forged_tokens(draw: st.DrawFn) -> str:
    """Structured forgeries: any header and claims, signed by nobody, HS256, or another key."""
    claims: dict[str, Any] = github_claims(GITHUB_ISSUER, AUDIENCE)
    for name in draw(st.lists(st.sampled_from(sorted(claims)), max_size=3)):
        claims[name] = draw(json_values(4))
    claims.update(draw(st.dictionaries(st.text(max_size=6), json_values(3), max_size=2)))
    header: dict[str, Any] = {"typ": "JWT", "alg": "RS256", "kid": KID}
    header.update(
        draw(
            st.dictionaries(
                st.sampled_from(["alg", "kid", "typ", "jwk", "jku", "x5u", "crit", "b64"]),
                st.one_of(
                    st.sampled_from(["none", "HS256", "RS256", "ES256", KID]), json_values(3)
                ),
                max_size=3,
            )
        )
    )
    signer = draw(
        st.sampled_from(
            [
                unsigned,
                hs256(signing_key(KID).public_pem()),
                signing_key("other-key").rs256(),
            ]
        )
    )
    return encode(header, claims, signer)


@fuzz_settings(300)
@given(
    token=st.one_of(
        st.deferred(lambda: mutated_text([_good()[0]])),
        st.text(max_size=200),
        st.lists(st.text(alphabet="ABCxyz019-_=", max_size=40), min_size=1, max_size=5).map(
            ".".join
        ),
    )
)
@example(token="")
@example(token="..")
@example(token="a." * 9000)
def test_damaged_and_random_tokens(token: str) -> None:
    """Refused, or exactly the claims of the token that was signed."""
    ran("jwt")
    _refused_or_same(token)


@fuzz_settings(200)
@given(token=forged_tokens())
@example(
    token=encode({"alg": "none", "kid": KID}, github_claims(GITHUB_ISSUER, AUDIENCE), unsigned)
)
def test_forged_tokens_never_validate(token: str) -> None:
    """A token not signed by the key is always TokenRejected, whatever it claims."""
    ran("jwt")
    try:
        validate_token(token, audience=AUDIENCE, keys=StaticKeys())
    except TokenRejected:
        return
    raise AssertionError(f"a forged token validated: {token!r}")


class LocalIssuerKeys(IssuerKeys):
    """IssuerKeys whose discovery document and key set come from the test, not the network."""

    def __init__(self, jwks: Any) -> None:
        super().__init__(GITHUB_ISSUER)
        self.jwks = jwks

    def _get(self, url: str, what: str) -> Any:
        if url.endswith("/openid-configuration"):
            return {"issuer": GITHUB_ISSUER, "jwks_uri": JWKS_URI}
        return self.jwks


def _jwks_entries() -> st.SearchStrategy[Any]:
    good = signing_key(KID).jwk()
    mutated_entry = st.builds(
        lambda changes: {**good, **changes},
        st.dictionaries(
            st.sampled_from(["kty", "kid", "use", "alg", "n", "e", "d", "x5c"]),
            st.one_of(
                json_values(3),
                st.sampled_from(["RSA", "sig", "RS256", "AQAB", "", b64url(b"\x00" * 600)]),
            ),
            max_size=3,
        ),
    )
    return st.one_of(mutated_entry, json_values(5))


@fuzz_settings(150)
@given(
    jwks=st.one_of(st.lists(_jwks_entries(), max_size=4).map(lambda k: {"keys": k}), json_values())
)
def test_key_set_documents(jwks: Any) -> None:
    """A hostile key set: a usable key, or a documented refusal; never another key's token."""
    ran("jwks")
    token, claims = _good()
    keys = LocalIssuerKeys(json.loads(json.dumps(jwks)))
    try:
        got = validate_token(token, audience=AUDIENCE, keys=keys)
    except EnvsecopsError:  # TokenRejected (no such kid) or IssuerUnavailable (no keys list)
        return
    ran("jwks (usable)")
    assert got == claims
    forged = encode({"alg": "RS256", "kid": KID}, claims, signing_key("other-key").rs256())
    try:
        validate_token(forged, audience=AUDIENCE, keys=keys)
    except TokenRejected:
        return
    raise AssertionError("a key set validated a token signed by a key it does not hold")
