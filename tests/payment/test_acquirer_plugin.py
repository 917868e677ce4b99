"""The payment-code acquirer is a plug-in that `[payments] acquirer` names: the default config names the
demo one, the composition root loads it by name, and a name that cannot be used is refused or logged."""
from __future__ import annotations

import logging

import pytest

from kiosk import config
from kiosk.app.visit import code_gateway
from kiosk.config import ConfigError
from kiosk.core.payment.gateway import CodePaymentGateway
from kiosk.sync.client import CentralClient
from tests.conftest import DEFAULT_CONFIG, write_config


def central(settings) -> CentralClient:
    return CentralClient.from_settings(settings)


def test_the_default_config_names_the_demo_acquirer_and_the_root_loads_it_by_name():
    from kiosk.sim.acquirer import CentralDemoAcquirer

    settings = config.load(DEFAULT_CONFIG)
    assert settings.payments.acquirer == "kiosk.sim.acquirer:central_demo"
    gateway = code_gateway(settings, central(settings))
    assert isinstance(gateway, CentralDemoAcquirer) and isinstance(gateway, CodePaymentGateway)


def test_no_acquirer_named_offers_no_payment_codes(tmp_path):
    settings = config.load(write_config(tmp_path, **{r'^acquirer = .*$': 'acquirer = ""'}))
    assert code_gateway(settings, central(settings)) is None


def test_an_acquirer_that_cannot_be_loaded_is_logged_and_offers_no_payment_codes(tmp_path, caplog):
    settings = config.load(write_config(tmp_path, **{r'^acquirer = .*$': 'acquirer = "kiosk.nowhere:gateway"'}))
    with caplog.at_level(logging.ERROR):
        assert code_gateway(settings, central(settings)) is None
    assert "kiosk.nowhere:gateway" in caplog.text and "payment codes are not offered" in caplog.text


@pytest.mark.parametrize("name", ["kiosk.sim.acquirer", "kiosk.sim.acquirer:", "kiosk sim:x", ":central_demo"])
def test_a_malformed_acquirer_name_is_refused_with_its_key(tmp_path, name):
    path = write_config(tmp_path, **{r'^acquirer = .*$': f'acquirer = "{name}"'})
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert "payments.acquirer: expected a plug-in as package.module:callable" in str(err.value)
