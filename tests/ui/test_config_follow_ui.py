"""A newly applied config reaches the running UI: the hall's name and the services switched on or off live;
other changes wait for the visit to end."""
import pytest

from kiosk.core.config_follow import ConfigChange, ConfigFollower
from tests.ui.conftest import assert_home_holds


@pytest.fixture
def restore(ui):
    app = ui.app
    before = (app.settings, app.hall, app.session.base_timeout_s, app.config_follower)
    yield app
    app.settings, app.restart_for_config, app.config_follower = before[0], None, before[3]
    app.hall = app.home.hall = before[1]
    app.session.base_timeout_s = before[2]
    app._show_tiles()
    ui.pump()


def with_services_disabled(settings, *keys: str):
    new = settings.model_copy(update={"services": settings.services.model_copy(update={"disabled": list(keys)})})
    new._source = settings.source
    return new


def tile_keys(app) -> list[str]:
    return [t.key for t in reversed(app.home.ids.tiles.children)]


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


def test_a_package_upgrade_stops_the_ui_only_between_visits(ui, restore, monkeypatch):
    """The package's preinst writes upgrade-requested into the data dir (packaging/debian/preinst); the UI
    answers with ui-stopped-for-upgrade and stops, but never while a citizen is being served."""
    from kiosk.core import upgrade

    app = restore
    stopped = []
    monkeypatch.setattr(app, "stop", lambda *a: stopped.append(True))
    data = app.settings.data_path
    request, answer = data / upgrade.REQUEST, data / upgrade.STOPPED
    answer.unlink(missing_ok=True)
    try:
        app.session.touch()  # a citizen is being served
        request.write_text("1.1.0 1796640000\n")
        app._follow_config()
        assert not stopped and not answer.exists() and app.stopped_for_upgrade is None
        app.end_visit("done")
        app._follow_config()
        assert stopped == [True] and app.stopped_for_upgrade == "1.1.0"
        assert answer.read_text().split()[0].isdigit()
    finally:
        request.unlink(missing_ok=True)
        answer.unlink(missing_ok=True)
        app.stopped_for_upgrade = None


def test_a_service_switched_off_leaves_the_home_screen_at_once_and_comes_back_the_same_way(ui, restore, shot):
    app = restore
    every = tile_keys(app)
    assert "documents" in every
    app.take_config(ConfigChange(11, with_services_disabled(app.settings, "documents"),
                                 frozenset({"services.disabled"})))
    ui.pump(4)
    assert tile_keys(app) == [k for k in every if k != "documents"] and app.restart_for_config is None
    assert_home_holds(ui, [s for s in app.services if s.key != "documents"])
    shot("documents-off")
    app.take_config(ConfigChange(12, with_services_disabled(app.settings), frozenset({"services.disabled"})))
    ui.pump(4)
    assert tile_keys(app) == every


def test_a_visit_in_a_service_switched_off_finishes_and_then_its_tile_is_gone(ui, restore):
    from kiosk.core.session import Phase

    app = restore
    ui.tap(next(t for t in app.home.ids.tiles.children if t.key == "guides"))
    assert app.screens.current == "guides" and app.session.phase is Phase.ACTIVE
    app.take_config(ConfigChange(13, with_services_disabled(app.settings, "guides"),
                                 frozenset({"services.disabled"})))
    ui.pump(4)
    assert app.screens.current == "guides" and app.session.phase is Phase.ACTIVE   # the citizen carries on
    assert "guides" not in tile_keys(app)
    app.end_visit("home")
    ui.pump(4)
    assert app.screens.current == "home" and "guides" not in tile_keys(app)
    app.open_service("guides")   # a tap that was on its way as the tile went
    assert app.screens.current == "home"


def test_a_signed_bundle_switches_a_service_off_on_the_running_kiosk(ui, restore, tmp_path):
    """The operator's way: a bundle signed with a trusted key, verified and applied into a kiosk's data
    dir (tests/config_bundle/bundlekit.py); the running UI's poll finds the new version and the tile goes
    without a restart."""
    from kiosk import config
    from tests.config_bundle.bundlekit import make_kiosk, signed

    app = restore
    kiosk = make_kiosk(tmp_path / "kiosk")
    app.config_follower = ConfigFollower(config.load(kiosk.config))   # the UI's poll, over that kiosk's data dir
    app._follow_config()
    assert "handin" in tile_keys(app)
    out = kiosk.apply(signed(kiosk.key, 3, {"services": {"disabled": ["handin"]}}))
    assert out.result == "applied", out
    app._follow_config()
    ui.pump(4)
    assert "handin" not in tile_keys(app) and "pickup" in tile_keys(app)
    assert app.restart_for_config is None and app.settings.services.disabled == ["handin"]
    out = kiosk.apply(signed(kiosk.key, 4, {"services": {"disabled": []}}))
    assert out.result == "applied", out
    app._follow_config()
    ui.pump(4)
    assert "handin" in tile_keys(app)
