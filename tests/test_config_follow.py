"""The running UI follows a newly applied config: live for the home screen and session, a restart for the rest."""
from kiosk import config
from kiosk.core.config_follow import ConfigFollower, changed_keys
from tests.conftest import write_config


def follower_over(path, versions):
    settings = config.load(path)
    seq = iter(versions)
    return ConfigFollower(settings, version=lambda _s: next(seq))


def test_nothing_happens_while_the_applied_version_stays(tmp_path):
    f = follower_over(write_config(tmp_path), [None, None, None])
    assert f.check() is None and f.check() is None


def test_a_new_hall_name_and_idle_timeout_are_taken_live(tmp_path):
    path = write_config(tmp_path)
    f = follower_over(path, [None, 8])
    text = path.read_text(encoding="utf-8").replace('hall = "示例政务服务中心 24小时自助服务区"', 'hall = "东城区政务服务中心"')
    path.write_text(text.replace("idle_timeout_s = 90", "idle_timeout_s = 120"), encoding="utf-8")
    change = f.check()
    assert change.version == 8 and change.live
    assert change.changed == {"kiosk.hall", "kiosk.idle_timeout_s"}
    assert change.settings.kiosk.hall == "东城区政务服务中心"


def test_services_switched_off_are_taken_live(tmp_path):
    path = write_config(tmp_path)
    f = follower_over(path, [None, 5])
    path.write_text(path.read_text(encoding="utf-8").replace("disabled = []", 'disabled = ["documents"]'),
                    encoding="utf-8")
    change = f.check()
    assert change.live and change.changed == {"services.disabled"}
    assert change.settings.services.disabled == ["documents"]


def test_a_fee_or_pickup_rule_needs_the_flows_rebuilt(tmp_path):
    path = write_config(tmp_path)
    f = follower_over(path, [3, 4])
    path.write_text(path.read_text(encoding="utf-8").replace("hold_days = 7", "hold_days = 5"), encoding="utf-8")
    change = f.check()
    assert change is not None and not change.live and "pickup.hold_days" in change.changed


def test_a_config_that_no_longer_loads_is_not_taken(tmp_path):
    path = write_config(tmp_path)
    f = follower_over(path, [1, 2])
    path.write_text(path.read_text(encoding="utf-8") + "\n[nonsense]\n", encoding="utf-8")
    assert f.check() is None


def test_changed_keys_names_nested_differences():
    assert changed_keys({"a": {"b": 1, "c": [1]}}, {"a": {"b": 2, "c": [1]}, "d": 0}) == {"a.b", "d"}
