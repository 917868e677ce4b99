"""Fixtures of the signed-config tests (helpers in bundlekit.py)."""
from __future__ import annotations

import pytest

from kiosk.wire import bundle
from tests.config_bundle.bundlekit import Kiosk, make_kiosk


@pytest.fixture
def kiosk(tmp_path) -> Kiosk:
    return make_kiosk(tmp_path / "kiosk")


@pytest.fixture
def stranger_key(tmp_path):
    bundle.write_keypair(tmp_path / "stranger")
    return bundle.load_private_key(tmp_path / "stranger" / "operator.key")
