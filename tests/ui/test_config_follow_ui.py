"""A newly applied config reaches the running UI: the hall's name live; other changes wait for the visit to end."""
import pytest

from kiosk.core.config_follow import ConfigChange


@pytest.fixture
def restore(ui):
    app = ui.app
    before = (app.settings, app.hall, app.session.base_timeout_s)
    yield app
    app.settings, app.restart_for_config = before[0], None
    app.hall = app.home.hall = before[1]
    app.session.base_timeout_s = before[2]


def test_a_new_hall_name_shows_on_the_home_screen_without_a_restart(ui, restore):
    app = restore
    new = app.settings.model_copy(update={"kiosk": app.settings.kiosk.model_copy(
        update={"hall": "东城区政务服务中心", "idle_timeout_s": 150})})
    new._source = app.settings.source
    app.take_config(ConfigChange(9, new, frozenset({"kiosk.hall", "kiosk.idle_timeout_s"})))
    ui.pump()
    assert app.home.ids.hall_name.text == "东城区政务服务中心"
    assert app.session.base_timeout_s == 150 and app.restart_for_config is None


def test_a_change_that_needs_a_restart_never_interrupts_a_visit(ui, restore, monkeypatch):
    app = restore
    stopped = []
    monkeypatch.setattr(app, "stop", lambda *a: stopped.append(True))
    app.session.touch()  # a citizen is being served
    app.take_config(ConfigChange(10, app.settings, frozenset({"pickup.hold_days"})))
    app._follow_config()
    assert app.restart_for_config == 10 and not stopped
    app.end_visit("done")
    app._follow_config()
    assert stopped == [True]
