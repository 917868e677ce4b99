"""The guide catalog: validated whole, replaced in one transaction, read as the kiosk shows it."""
from __future__ import annotations

import copy
import json
import sqlite3

import pytest

from tests.conftest import ROOT, run_kiosk, write_config
from kiosk import config
from kiosk.core.guides.catalog import CatalogError, GuideCatalog
from kiosk.store import Store, StoreError
from kiosk.wire.catalog import load_catalog

DEMO = ROOT / "config" / "demo-catalog.json"


@pytest.fixture(scope="module")
def demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


@pytest.fixture
def guides(tmp_path) -> GuideCatalog:
    catalog = GuideCatalog(Store(tmp_path / "var", "test-k01"), clock=lambda: 1_700_000_000.0)
    yield catalog
    catalog.close()


def item_of(doc: dict, code: str) -> dict:
    return next(i for i in doc["items"] if i["code"] == code)


# -- the demo catalog ------------------------------------------------------------------------------

def test_demo_catalog_is_valid_realistic_and_large_enough(demo):
    catalog = load_catalog(DEMO.read_bytes())
    items = catalog.items
    assert len(items) >= 45
    assert len({i.department for i in items}) >= 8
    assert any(not i.kiosk_enabled for i in items) and sum(i.kiosk_enabled for i in items) >= 40
    assert sum(1 for i in items if not i.fees) > len(items) / 2  # most services are free
    assert sum(1 for i in items if i.online_url) >= 10
    for i in items:
        assert i.materials and i.steps and i.faq and i.legal_basis and i.keywords, i.code
        assert "示例市政务服务中心" in i.location, i.code
    names = {i.name for i in items}
    for name in ("城乡居民基本养老保险参保登记", "社会保障卡申领", "居民身份证换领", "不动产登记资料查询",
                 "个体工商户设立登记", "异地就医备案"):
        assert name in names


def test_demo_catalog_has_no_real_looking_phone_numbers(demo):
    for i in demo["items"]:
        # fictional "0000-" numbers or the 12345 government hotline, never a real line
        assert i["phone"].startswith("0000-") or i["phone"] == "12345", i["phone"]
        assert i["complaint_phone"] == "12345"


# -- importing -----------------------------------------------------------------------------------

def test_import_reports_version_and_counts_and_str_is_the_version(guides, demo):
    info = guides.replace(DEMO.read_bytes(), source="test")
    assert (info.version, info.items) == (demo["version"], len(demo["items"]))
    assert info.enabled == sum(i["kiosk_enabled"] for i in demo["items"])
    assert str(info) == demo["version"]  # the agent's catalog pull records str(replace(...))
    assert guides.version() == demo["version"]
    assert guides.info().source == "test"


def test_import_replaces_the_whole_catalog(guides, demo):
    guides.replace(demo)
    smaller = copy.deepcopy(demo)
    smaller["version"] = "v2"
    smaller["items"] = [i for i in smaller["items"] if i["department"] == "示例市公安局"]
    guides.replace(smaller)
    assert guides.version() == "v2"
    assert {s.department for s in guides.items()} == {"示例市公安局"}
    assert guides.get("11010001") is None


def test_bad_item_names_code_and_field_and_changes_nothing(guides, demo):
    guides.replace(demo)
    before = (guides.info(), [s.code for s in guides.items()])
    bad = copy.deepcopy(demo)
    bad["version"] = "broken"
    item_of(bad, "11010001")["materials"][2]["copies"] = "two"
    item_of(bad, "12010001")["kiosk_enabled"] = "yes"
    with pytest.raises(CatalogError) as caught:
        guides.replace(json.dumps(bad, ensure_ascii=False).encode("utf-8"))
    message = str(caught.value)
    assert 'item 11010001: materials[2].copies: expected an integer, got "two"' in message
    assert 'item 12010001: kiosk_enabled: expected true or false, got "yes"' in message
    assert (guides.info(), [s.code for s in guides.items()]) == before


def test_an_item_without_a_code_is_named_by_its_position(demo):
    bad = copy.deepcopy(demo)
    del bad["items"][4]["code"]
    with pytest.raises(CatalogError, match=r"items\[4\] \(no code\): code: required field is missing"):
        load_catalog(bad)


def test_unknown_and_missing_fields_are_named(demo):
    bad = copy.deepcopy(demo)
    item_of(bad, "13010001")["colour"] = "red"
    del item_of(bad, "13010002")["steps"]
    with pytest.raises(CatalogError) as caught:
        load_catalog(bad)
    assert "item 13010001: colour: unknown field" in str(caught.value)
    assert "item 13010002: steps: required field is missing" in str(caught.value)


def test_duplicate_codes_are_refused_naming_both_positions(demo):
    bad = copy.deepcopy(demo)
    bad["items"][7]["code"] = bad["items"][2]["code"]
    code = bad["items"][2]["code"]
    with pytest.raises(CatalogError, match=rf"item {code}: code: appears twice \(items\[2\] and items\[7\]\)"):
        load_catalog(bad)


def test_a_promised_time_longer_than_the_legal_one_is_refused(demo):
    bad = copy.deepcopy(demo)
    item_of(bad, "11010002")["time_limit"] = {"legal": {"value": 20, "unit": "working_days"},
                                              "promised": {"value": 30, "unit": "working_days"}}
    with pytest.raises(CatalogError, match="item 11010002: time_limit: the promised time"):
        load_catalog(bad)


def test_a_relative_online_address_is_refused(demo):
    bad = copy.deepcopy(demo)
    item_of(bad, "11010003")["online_url"] = "zwfw.example.org/items/11010003"
    with pytest.raises(CatalogError, match="item 11010003: online_url: expected an http"):
        load_catalog(bad)


def test_malformed_json_names_line_and_column(guides):
    with pytest.raises(CatalogError, match=r"not valid JSON: line 3, column 1"):
        guides.replace(b'{"version": "1",\n "items": [\n}')
    assert guides.version() is None


def test_text_that_is_not_utf8_is_refused_with_a_hint(guides):
    with pytest.raises(CatalogError, match="not UTF-8"):
        guides.replace('{"version": "1", "items": []}'.encode("utf-16"))


def test_a_database_failure_mid_import_keeps_the_old_catalog(guides, demo, tmp_path):
    guides.replace(demo)
    before = (guides.info(), [s.code for s in guides.items()])
    # a trigger makes the 10th insert fail, after the old rows were deleted in the same transaction
    conn = sqlite3.connect(tmp_path / "var" / "kiosk.db")
    conn.execute("CREATE TRIGGER fail_late BEFORE INSERT ON catalog_items WHEN NEW.position = 9 "
                 "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    conn.commit()
    conn.close()
    changed = copy.deepcopy(demo)
    changed["version"] = "v2"
    with pytest.raises(StoreError):
        guides.replace(changed)
    assert (guides.info(), [s.code for s in guides.items()]) == before


# -- reading -------------------------------------------------------------------------------------

def test_disabled_items_are_not_listed_by_theme_department_or_code(guides, demo):
    guides.replace(demo)
    disabled = [i for i in demo["items"] if not i["kiosk_enabled"]]
    assert disabled
    for i in disabled:
        assert guides.get(i["code"]) is None
        assert guides.get(i["code"], include_disabled=True).name == i["name"]
        for theme in i["themes"]:
            assert i["code"] not in {s.code for s in guides.by_theme(theme)}
        assert i["code"] not in {s.code for s in guides.by_department(i["department"])}
    assert {s.code for s in guides.items()} == {i["code"] for i in demo["items"] if i["kiosk_enabled"]}


def test_themes_and_departments_count_enabled_items_in_catalog_order(guides, demo):
    guides.replace(demo)
    enabled = [i for i in demo["items"] if i["kiosk_enabled"]]
    depts = guides.departments()
    assert [g.name for g in depts] == list(dict.fromkeys(i["department"] for i in enabled))
    assert sum(g.count for g in depts) == len(enabled)
    themes = {g.name: g.count for g in guides.themes()}
    assert themes["社会保障"] == sum("社会保障" in i["themes"] for i in enabled)
    police = guides.by_department("示例市公安局")
    assert [s.code for s in police] == [i["code"] for i in enabled if i["department"] == "示例市公安局"]


def test_get_returns_every_section_of_the_item(guides, demo):
    guides.replace(demo)
    item = guides.get("11010003")
    raw = item_of(demo, "11010003")
    assert item.name == raw["name"]
    assert [m.name for m in item.materials] == [m["name"] for m in raw["materials"]]
    assert item.time_limit.legal.unit == raw["time_limit"]["legal"]["unit"]
    assert item.faq[0].q == raw["faq"][0]["q"]


# -- the first-start seed ------------------------------------------------------------------------

def test_seed_file_is_imported_once_and_never_over_a_newer_catalog(tmp_path, demo):
    settings = config.load(write_config(tmp_path / "kiosk"))
    guides = GuideCatalog(Store.from_settings(settings))
    info = guides.ensure_seeded(settings)
    assert info.version == demo["version"] and info.source.startswith("seed:")
    assert guides.ensure_seeded(settings) is None
    newer = copy.deepcopy(demo)
    newer["version"] = "from-central"
    guides.replace(newer, source="central")
    assert guides.ensure_seeded(settings) is None
    assert guides.version() == "from-central"


def test_a_missing_seed_file_is_named_with_the_config_key(tmp_path):
    settings = config.load(write_config(tmp_path / "kiosk", **{r'^seed_file = .*$': 'seed_file = "nowhere.json"'}))
    with pytest.raises(CatalogError, match=r"nowhere\.json.*\[guides\] seed_file"):
        GuideCatalog(Store.from_settings(settings)).ensure_seeded(settings)


# -- the command -----------------------------------------------------------------------------------

def test_cli_import_prints_version_and_count(kiosk_config, demo):
    r = run_kiosk("guides", "import", str(DEMO), "--json", config=kiosk_config)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["version"] == demo["version"] and doc["items"] == len(demo["items"])


def test_cli_import_of_a_bad_file_exits_1_names_item_and_field_and_keeps_the_catalog(kiosk_config, demo, tmp_path):
    assert run_kiosk("guides", "import", str(DEMO), config=kiosk_config).returncode == 0
    bad = copy.deepcopy(demo)
    bad["version"] = "broken"
    item_of(bad, "16010003")["visits"] = "once"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    r = run_kiosk("guides", "import", str(path), config=kiosk_config)
    assert r.returncode == 1
    assert 'item 16010003: visits: expected an integer, got "once"' in r.stderr
    assert "nothing was changed" in r.stderr
    shown = run_kiosk("guides", "show", "16010003", "--json", config=kiosk_config)
    assert json.loads(shown.stdout)["visits"] == item_of(demo, "16010003")["visits"]
    again = run_kiosk("guides", "search", "异地就医", "--json", config=kiosk_config)
    assert json.loads(again.stdout)["version"] == demo["version"]


def test_cli_import_of_a_missing_file_is_bad_usage(kiosk_config, tmp_path):
    r = run_kiosk("guides", "import", str(tmp_path / "none.json"), config=kiosk_config)
    assert r.returncode == 2 and "none.json" in r.stderr   # DESIGN.md: 2 = bad usage, as config apply says it


def test_cli_seed_seeds_once_then_keeps_and_stores_missing_readings(kiosk_config, demo):
    first = run_kiosk("guides", "seed", "--json", config=kiosk_config)
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert doc["seeded"] and doc["version"] == demo["version"] and doc["items"] == len(demo["items"])
    settings = config.load(kiosk_config)
    store = Store.from_settings(settings)
    guides = GuideCatalog(store)
    stored = guides.readings()
    assert stored and guides.ensure_readings() == 0  # the seed stored them
    again = run_kiosk("guides", "seed", config=kiosk_config)
    assert again.returncode == 0 and f"catalog {demo['version']} kept" in again.stdout
    # a catalog imported by an older version: no readings until seed stores them
    guides._conn().execute("DELETE FROM catalog_readings")
    upgraded = run_kiosk("guides", "seed", config=kiosk_config)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"stored the search readings of {len(stored)} texts" in upgraded.stdout
    assert guides.readings() == stored
    guides.close()


def test_cli_seed_without_a_seed_file_says_what_to_do(tmp_path):
    path = write_config(tmp_path / "kiosk")
    text = path.read_text(encoding="utf-8")
    path.write_text("\n".join(l for l in text.splitlines() if not l.startswith("seed_file")), encoding="utf-8")
    r = run_kiosk("guides", "seed", config=path)
    assert r.returncode == 0 and "no catalog" in r.stdout and "kiosk guides import" in r.stdout


def test_the_ui_seeds_without_readings_and_the_agent_stores_them_at_its_start(kiosk_config, demo):
    from kiosk.commands.agent import prepare_catalog

    settings = config.load(kiosk_config)
    store = Store.from_settings(settings)
    guides = GuideCatalog(store)
    info = guides.ensure_seeded(settings, with_readings=False)  # as kiosk/app/guides.py does
    assert info is not None and info.version == demo["version"] and guides.readings() == {}
    prepare_catalog(settings, store)
    stored = guides.readings()
    assert stored and guides.info().sha256 == info.sha256  # the same catalog, now with its readings
    prepare_catalog(settings, store)  # nothing left to do: unchanged
    assert guides.readings() == stored
    guides.close()
