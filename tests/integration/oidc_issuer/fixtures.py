"""The `oidc_issuer` pytest fixture: a fresh local issuer per test, stopped afterwards.

Loaded for every test by ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.oidc_issuer.server import LocalIssuer


@pytest.fixture
def oidc_issuer() -> Iterator[LocalIssuer]:
    """A running :class:`LocalIssuer` on 127.0.0.1."""
    with LocalIssuer() as issuer:
        yield issuer
