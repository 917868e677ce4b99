"""Guide search as people type at a kiosk: Chinese words, pinyin, initials, typos, and ranking."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from kiosk.core.guides.catalog import GuideCatalog, IndexedItem
from kiosk.core.guides.search import (GuideSearch, SearchIndex, decode_readings, encode_readings, index_texts,
                               normalise, readings)
from kiosk.store import Store
from tests.conftest import ROOT, run_kiosk

DEMO = json.loads((ROOT / "config" / "demo-catalog.json").read_text(encoding="utf-8"))
ENABLED = [i for i in DEMO["items"] if i["kiosk_enabled"]]
DISABLED = [i for i in DEMO["items"] if not i["kiosk_enabled"]]


def indexed(raw: dict, position: int = 0) -> IndexedItem:
    return IndexedItem(raw["code"], raw["name"], raw["department"], tuple(raw.get("themes", ())),
                       tuple(raw.get("keywords", ())), tuple(m["name"] if isinstance(m, dict) else m
                                                              for m in raw.get("materials", ())), position)


@pytest.fixture(scope="module")
def demo_index() -> SearchIndex:
    return SearchIndex(indexed(i, n) for n, i in enumerate(ENABLED))


def names(result) -> list[str]:
    return [h.name for h in result.hits]


def codes(result) -> list[str]:
    return [h.code for h in result.hits]


def small(*items: dict) -> SearchIndex:
    defaults = {"department": "示例市某局", "themes": (), "keywords": (), "materials": ()}
    return SearchIndex(indexed({**defaults, "code": f"C{n}", **i}, n) for n, i in enumerate(items))


# -- what people type ------------------------------------------------------------------------------

def test_two_character_word_shebao_finds_social_security_items(demo_index):
    r = demo_index.search("社保", limit=6)
    assert r.hits[0].name in ("社会保障卡申领", "社会保障卡挂失与补换")
    assert all(h.department in ("示例市人力资源和社会保障局", "示例市医疗保障局") for h in r.hits)


@pytest.mark.parametrize("word,expected", [
    ("户口", "户口迁移"), ("公积金", "住房公积金"), ("身份证", "居民身份证"), ("驾照", "机动车驾驶证"),
    ("营业执照", "营业执照"), ("异地就医", "异地就医备案"), ("残疾证", "残疾人证"),
])
def test_everyday_words_find_the_item_first(demo_index, word, expected):
    assert expected in demo_index.search(word, limit=1).hits[0].name


def test_full_pinyin_shebao_finds_what_the_chinese_word_finds(demo_index):
    assert codes(demo_index.search("shebao", limit=None)) == codes(demo_index.search("社保", limit=None))


def test_pinyin_initials_sb_put_social_security_items_first(demo_index):
    top = codes(demo_index.search("sb", limit=8))
    assert top[0] == codes(demo_index.search("社保", limit=1))[0]
    assert set(top) <= set(codes(demo_index.search("社保", limit=None)))


@pytest.mark.parametrize("typed,expected", [
    ("gongjijin", "住房公积金"), ("gjj", "住房公积金"), ("hukou", "户口迁移"), ("sfz", "居民身份证"),
    ("jiazhao", "机动车驾驶证"), ("yyzz", "营业执照"), ("ydjy", "异地就医备案"), ("zfgjjtq", "住房公积金提取"),
])
def test_pinyin_and_initials_find_the_item_first(demo_index, typed, expected):
    assert expected in demo_index.search(typed, limit=1).hits[0].name


@pytest.mark.parametrize("typo,expected", [
    ("gongjijn", "住房公积金"),     # a letter missing
    ("hukuo", "户口迁移"),          # two letters swapped
    ("shebso", "社"),               # a wrong letter
    ("gangaotongxinzhen", "往来港澳通行证"),  # two letters missing from a long word
])
def test_typo_in_pinyin_is_forgiven(demo_index, typo, expected):
    r = demo_index.search(typo, limit=3)
    assert r.hits and expected in r.hits[0].name
    assert r.hits[0].score < 70  # a guess ranks below anything typed right


def test_a_typo_is_not_guessed_when_the_letters_as_typed_match(demo_index):
    # yinhang (银行) is in materials only: no guessed names pushed above it
    r = demo_index.search("yinhang", limit=None)
    assert r.hits and {h.field for h in r.hits} == {"material"}


def test_a_short_typo_is_not_guessed_at(demo_index):
    assert demo_index.search("qxz", limit=None).hits == []


def test_every_prefix_as_typed_keeps_the_intended_item_among_the_first(demo_index):
    wanted = "13010001"  # 住房公积金提取（购买自住住房）
    for typed in ("zhufanggongjijintiqu", "住房公积金提取"):
        for k in range(2, len(typed) + 1):
            assert wanted in codes(demo_index.search(typed[:k], limit=8)), typed[:k]


def test_full_width_letters_spaces_and_punctuation_are_ignored(demo_index):
    expected = codes(demo_index.search("shebao"))
    assert codes(demo_index.search("ＳＨＥＢＡＯ")) == expected
    assert codes(demo_index.search(" she bao ")) == expected
    assert codes(demo_index.search("社 保")) == codes(demo_index.search("社保"))


def test_item_code_and_its_prefix_find_the_item(demo_index):
    assert codes(demo_index.search("12030001", limit=1)) == ["12030001"]
    assert set(codes(demo_index.search("12030", limit=None))) == {"12030001", "12030002", "12030003"}


def test_empty_query_finds_nothing(demo_index):
    assert demo_index.search("  ，。 ").hits == []


def test_polyphones_are_found_in_the_context_reading_and_the_usual_one():
    index = small({"name": "银行卡挂失"}, {"name": "重新申领居住证"}, {"name": "法律援助申请"})
    for typed in ("yinhang", "yinxing", "chongxin", "zhongxin"):
        assert index.search(typed).hits, typed
    assert names(index.search("falv")) == names(index.search("falu")) == ["法律援助申请"]


# -- ranking ---------------------------------------------------------------------------------------

def test_name_match_ranks_above_keyword_department_and_material_match():
    index = small(
        {"name": "材料里有", "materials": ["公积金缴存证明"]},
        {"name": "部门是它", "department": "示例市公积金中心"},
        {"name": "关键词有", "keywords": ["公积金"]},
        {"name": "提取公积金"},
    )
    for typed in ("公积金", "gongjijin"):
        assert names(index.search(typed)) == ["提取公积金", "关键词有", "部门是它", "材料里有"], typed


def test_initials_inside_a_name_rank_below_a_keyword_but_above_department_and_material():
    # two or three initials inside a name are weak evidence (sb is in 申办, 上报, 失败...)
    index = small(
        {"name": "材料里有", "materials": ["公积金缴存证明"]},
        {"name": "部门是它", "department": "示例市公积金中心"},
        {"name": "提取公积金"},
        {"name": "关键词有", "keywords": ["公积金"]},
        {"name": "公积金提取"},
    )
    assert names(index.search("gjj")) == ["公积金提取", "关键词有", "提取公积金", "部门是它", "材料里有"]


def test_name_match_ranks_above_material_match(demo_index):
    r = demo_index.search("居民身份证", limit=None)
    fields = [h.field for h in r.hits]
    assert fields[0] in ("name", "alias")
    assert fields.index("material") > max(i for i, f in enumerate(fields) if f in ("name", "alias"))


def test_exact_name_first_then_names_that_start_with_it():
    index = small({"name": "普通护照补领"}, {"name": "护照补领（遗失）"}, {"name": "护照补领"})
    assert names(index.search("护照补领")) == ["护照补领", "护照补领（遗失）", "普通护照补领"]
    scores = [h.score for h in index.search("护照补领").hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[1] > scores[2]


def test_within_a_tier_the_shorter_name_comes_first():
    index = small({"name": "居住证签注（跨省通办）"}, {"name": "居住证申领"})
    assert names(index.search("居住证")) == ["居住证申领", "居住证签注（跨省通办）"]


# -- what is never found ---------------------------------------------------------------------------

def test_disabled_items_are_never_found(demo_index):
    disabled = {i["code"] for i in DISABLED}
    assert disabled
    for raw in DISABLED:
        for typed in (raw["name"], normalise("".join(lazy_pinyin(raw["name"]))), *raw["keywords"]):
            assert not disabled & set(codes(demo_index.search(typed, limit=None))), typed


def test_guide_search_follows_the_catalog_and_never_shows_disabled_items(tmp_path):
    catalog = GuideCatalog(Store(tmp_path / "var", "test-k01"))
    search = GuideSearch(catalog)
    assert search.search("社保").hits == []
    catalog.replace(DEMO)
    assert search.search("工伤").hits == []  # 工伤认定申请 is not shown on the kiosk
    assert search.search("社保").hits
    changed = copy.deepcopy(DEMO)
    changed["version"] = "v2"
    for item in changed["items"]:
        if item["code"] == "11010009":
            item["kiosk_enabled"] = True
    catalog.replace(changed)
    assert search.search("工伤", limit=1).hits[0].code == "11010009"


# -- properties ------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.sampled_from(ENABLED), st.data())
def test_any_piece_of_a_name_finds_its_item(demo_index, raw, data):
    text = normalise(raw["name"])
    start = data.draw(st.integers(0, len(text) - 1))
    piece = text[start:data.draw(st.integers(start + 1, len(text)))]
    assert raw["code"] in codes(demo_index.search(piece, limit=None)), piece


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.sampled_from(ENABLED), st.data())
def test_any_run_of_syllables_of_a_name_finds_its_item(demo_index, raw, data):
    syllables = lazy_pinyin(normalise(raw["name"]))
    start = data.draw(st.integers(0, len(syllables) - 1))
    stop = data.draw(st.integers(start + 1, len(syllables)))
    full = "".join(syllables[start:stop])
    typed = full[:data.draw(st.integers(1, len(full)))]  # perhaps still typing the last syllable
    initials = "".join(s[0] for s in syllables[start:stop])
    assert raw["code"] in codes(demo_index.search(typed, limit=None)), typed
    assert raw["code"] in codes(demo_index.search(initials, limit=None)), initials


def test_total_counts_every_match_and_limit_none_lists_them_all(demo_index):
    r = demo_index.search("证", limit=None)
    assert r.total == len(r.hits) == len(set(codes(r)))
    assert codes(demo_index.search("证", limit=5)) == codes(r)[:5]


# -- the command -----------------------------------------------------------------------------------

def test_cli_search_on_a_fresh_kiosk_seeds_the_demo_catalog_and_prints_the_contract(kiosk_config):
    r = run_kiosk("guides", "search", "社保", "--json", config=kiosk_config)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)["results"]
    assert results and all({"code", "name", "department", "score"} <= set(x) for x in results)
    assert results[0]["name"] in ("社会保障卡申领", "社会保障卡挂失与补换")
    assert [x["score"] for x in results] == sorted((x["score"] for x in results), reverse=True)
    short = run_kiosk("guides", "search", "sb", "--limit", "2", "--json", config=kiosk_config)
    assert len(json.loads(short.stdout)["results"]) == 2


def test_cli_search_with_a_bad_limit_is_bad_usage(kiosk_config):
    r = run_kiosk("guides", "search", "社保", "--limit", "zero", config=kiosk_config)
    assert r.returncode == 2 and "--limit" in r.stderr


# -- readings stored with the catalog: the UI's index needs no pypinyin ------------------------------

QUERIES = ("社保", "shebao", "sb", "gongjijin", "gjj", "yinhang", "yinxing", "lvxing", "luxing", "hukou",
           "jiazhao", "shbzk", "11010", "sehbao", "不动产")


def test_an_index_from_stored_readings_answers_as_one_that_reads_the_texts_itself(tmp_path):
    catalog = GuideCatalog(Store(tmp_path / "var", "test-k01"))
    catalog.replace(DEMO)
    items = catalog.indexed_items()
    stored = catalog.readings()
    from_store = SearchIndex(items, stored)
    assert from_store.read_here == 0
    assert set(stored) == index_texts(items)
    read_here = SearchIndex(items)
    assert read_here.read_here >= len(stored)  # a text in two fields is read in each
    for q in QUERIES:
        a, b = from_store.search(q, limit=None), read_here.search(q, limit=None)
        assert (codes(a), a.total) == (codes(b), b.total), q


def test_polyphone_readings_round_trip_through_the_store():
    rs = readings("银行旅行")
    assert encode_readings(rs) == "yin hang lv xing|yin xing lv xing|yin hang lu xing|yin xing lu xing"
    assert decode_readings(encode_readings(rs)) == rs


def test_a_catalog_imported_before_readings_were_stored_is_read_and_found(tmp_path, caplog):
    catalog = GuideCatalog(Store(tmp_path / "var", "test-k01"))
    catalog.replace(DEMO)
    catalog._conn().execute("DELETE FROM catalog_readings")
    with caplog.at_level("INFO", logger="kiosk.core.guides.search"):
        hits = GuideSearch(catalog).search("shebao").hits
    assert hits and hits[0].name.startswith("社会保障卡")
    assert "had no stored pinyin" in caplog.text


def test_a_stored_reading_that_does_not_fit_its_text_is_read_again(tmp_path):
    items = [indexed({"code": "C1", "name": "银行开户", "department": "示例市某局"})]
    index = SearchIndex(items, {"银行开户": "yin hang"})  # two syllables for four characters
    assert index.read_here >= 1 and codes(index.search("yhkh")) == ["C1"]


def test_the_ui_process_builds_and_searches_the_index_without_loading_pypinyin(tmp_path):
    catalog = GuideCatalog(Store(tmp_path / "var", "test-k01"))
    catalog.replace(DEMO)
    catalog.close()
    script = (
        "import sys\n"
        "from kiosk.core.guides.catalog import GuideCatalog\n"
        "from kiosk.core.guides.search import GuideSearch\n"
        "from kiosk.store import Store\n"
        f"s = GuideSearch(GuideCatalog(Store({str(tmp_path / 'var')!r}, 'test-k01')))\n"
        "print(s.search('shebao').hits[0].name, s.index().read_here)\n"
        "print(sorted(m for m in sys.modules if m.startswith('pypinyin')))\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    first, loaded = r.stdout.splitlines()
    assert first.startswith("社会保障卡") and first.endswith(" 0")
    assert loaded == "[]"
