"""Fixtures of the sync tests: the real central platform in a subprocess, stopped by pid afterwards."""
import pytest
from tests.sync.centralproc import Central


@pytest.fixture
def central(tmp_path):
    c = Central(tmp_path / "central").start()
    yield c
    c.stop()


@pytest.fixture
def central_unstarted(tmp_path):
    c = Central(tmp_path / "central")
    yield c
    c.stop()
