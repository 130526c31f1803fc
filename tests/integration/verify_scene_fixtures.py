"""The `keys` and `scene` fixtures the `envsecops verify` bad-input tests share.

Import ``keys_fixture`` (and ``scene_fixture``) into a test module to ask for ``keys`` and
``scene`` by name; ``keys`` is module-scoped there, as each module had it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.verify_support.builder import KeyPair, make_key
from tests.integration.verify_support.scene import Scene, clean_environment


@pytest.fixture(scope="module", name="keys")
def keys_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[KeyPair, KeyPair]:
    """The trusted key (verify's --key, the one that signs the decision) and a stranger's key."""
    folder = tmp_path_factory.mktemp("keys")
    return make_key(folder / "trusted.pem"), make_key(folder / "stranger.pem")


@pytest.fixture(name="scene")
def scene_fixture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: tuple[KeyPair, KeyPair]
) -> Scene:
    """A clean environment and a fresh scene (tree, bag, attestation) signed by ``keys``."""
    clean_environment(monkeypatch, tmp_path)
    return Scene(tmp_path, *keys)
