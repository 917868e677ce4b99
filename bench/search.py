"""Guide search benchmark (DESIGN.md section 8): 20,000 items, p95 at most 10 ms in process.

The items are synthetic but realistic: each is made from a demo-catalog item
(config/demo-catalog.json), its subject combined with another action, a
qualifier and a district, with that item's department, themes, keywords and
materials plus a few more from the catalog's material pool. The queries are
what people type: Chinese words and substrings, full pinyin, initials, every
prefix of a word as it is typed, and pinyin with a wrong letter. The catalog
goes through the real path (validated import into a temporary store, read
back, index built) and each query through `SearchIndex.search` with the
kiosk's page size. Prints p50/p95/max and `search_p95_ms <v> budget 10 pass|miss`.
"""
from __future__ import annotations

import copy
import gc
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pypinyin import lazy_pinyin

from kiosk.core.guides.catalog import GuideCatalog
from kiosk.core.guides.search import SearchIndex
from kiosk.store import Store

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "config" / "demo-catalog.json"
N_ITEMS = 20_000
LIMIT = 20          # results shown per keystroke
BUDGET_MS = 10.0
ROUNDS = 3

ACTIONS = ["申领", "补领", "换领", "变更登记", "注销登记", "查询", "提取", "转移接续", "备案", "认定", "证明开具",
           "打印", "设立登记", "待遇申领", "参保登记", "挂失", "补发", "审核确认", "缴存登记", "签发", "延续",
           "信息采集", "核定", "减免申请", "资格认证"]
QUALIFIERS = ["", "", "", "（首次申领）", "（线上办理）", "（跨省通办）", "（委托代办）", "（港澳台居民）",
              "（外国人）", "（企业职工）", "（灵活就业人员）", "（单位）", "（个人）", "（异地）", "（特殊情形）",
              "（期满换证）", "（遗失补办）", "（60周岁以上）", "（未成年人）", "（退役军人）"]
DISTRICTS = ["示例市", "示例市东城区", "示例市西城区", "示例市高新区", "示例市经开区", "示例市南湖区",
             "示例市北山区", "临江县", "青石县", "白云县", "安平县"]
WORDS = ["社保", "户口", "公积金", "身份证", "医保", "驾照", "营业执照", "护照", "低保", "残疾证", "个税", "结婚",
         "养老", "失业金", "居住证", "不动产", "发票", "退休", "异地就医", "提取", "社保卡", "港澳通行证", "生育津贴",
         "个体户", "房产证明", "纳税证明", "出生登记", "工伤", "慢性病", "高龄补贴"]
_ACTION_TAIL = re.compile("(" + "|".join(sorted(ACTIONS + ["开具", "换证", "补证", "登记", "申请", "提交身体条件证明"],
                                                 key=len, reverse=True)) + ")$")


def subject(name: str) -> str:
    base = re.sub(r"（.*?）", "", name)
    return _ACTION_TAIL.sub("", base) or base


def make_catalog(rng: random.Random) -> dict:
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    templates = demo["items"]
    pool = sorted({m["name"]: m for t in templates for m in t["materials"]}.values(), key=lambda m: m["name"])
    items, names = [], set()
    while len(items) < N_ITEMS:
        t = rng.choice(templates)
        district = rng.choice(DISTRICTS)
        name = subject(t["name"]) + rng.choice(ACTIONS) + rng.choice(QUALIFIERS)
        if district != "示例市":
            name = name + "（" + district.removeprefix("示例市") + "）"
        if name in names:
            continue
        names.add(name)
        it = copy.deepcopy(t)
        it["code"] = f"9{len(items):07d}"
        it["name"] = name
        it["department"] = t["department"].replace("示例市", district, 1)
        it["kiosk_enabled"] = rng.random() > 0.05
        it["keywords"] = rng.sample(t["keywords"], k=min(len(t["keywords"]), rng.randint(1, 5)))
        extra = rng.sample(pool, k=rng.randint(0, 3))
        it["materials"] = t["materials"] + [m for m in extra if m not in t["materials"]]
        it.pop("online_url", None)
        items.append(it)
    return {"version": "bench-20000", "items": items}


def pinyin_of(text: str) -> str:
    return "".join(lazy_pinyin(text))


def initials_of(text: str) -> str:
    return "".join(s[0] for s in lazy_pinyin(text))


def typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    how = rng.choice(["swap", "sub", "drop"])
    if how == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if how == "sub":
        return word[:i] + rng.choice([c for c in "aeiounghz" if c != word[i]]) + word[i + 1:]
    return word[:i] + word[i + 1:]


def make_queries(catalog: dict, rng: random.Random) -> list[tuple[str, str]]:
    names = [i["name"] for i in catalog["items"] if i["kiosk_enabled"]]
    qs: list[tuple[str, str]] = []
    for w in WORDS:
        qs += [("word", w), ("pinyin", pinyin_of(w)), ("initials", initials_of(w))]
    for _ in range(80):
        n = rng.choice(names)
        n = re.sub(r"（.*?）", "", n)
        k = rng.randint(1, min(6, len(n)))
        at = rng.randrange(0, len(n) - k + 1)
        qs.append(("substring", n[at:at + k]))
    for w in rng.sample(WORDS, 15):
        py = pinyin_of(w)
        qs += [("prefix", py[:k]) for k in range(1, len(py) + 1)]
        qs += [("prefix", w[:k]) for k in range(1, len(w) + 1)]
    long_words = [pinyin_of(w) for w in WORDS if len(pinyin_of(w)) >= 5]
    for _ in range(40):
        qs.append(("typo", typo(rng.choice(long_words), rng)))
    for _ in range(20):
        n = subject(rng.choice(names))
        qs.append(("initials", initials_of(n)[:rng.randint(2, 5)]))
    return qs


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def main() -> int:
    rng = random.Random(20250101)
    t0 = time.perf_counter()
    catalog = make_catalog(rng)
    print(f"generated {len(catalog['items'])} items in {time.perf_counter() - t0:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        guides = GuideCatalog(Store(tmp, "bench-k01"))
        t0 = time.perf_counter()
        info = guides.replace(json.dumps(catalog, ensure_ascii=False).encode("utf-8"), source="bench")
        print(f"catalog import (validate + one transaction): {time.perf_counter() - t0:.2f} s, "
              f"{info.items} items, {info.enabled} enabled")
        t0 = time.perf_counter()
        indexed = guides.indexed_items()
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = SearchIndex(indexed)
        t_build = time.perf_counter() - t0
        guides.close()
    # a long-running kiosk process does the same after start-up: the index and pypinyin's
    # dictionaries are hundreds of thousands of objects a full collection would walk each time
    del indexed
    gc.collect()
    gc.freeze()
    print(f"index build: {t_build:.2f} s (+ {t_read:.2f} s reading the items from the store)")
    queries = make_queries(catalog, rng)
    print(f"{len(queries)} queries x {ROUNDS} rounds, limit {LIMIT}")
    for _, q in queries:  # warm-up: first-use costs (regex caches, allocator) are not what a kiosk sees
        index.search(q, LIMIT)
    times: list[float] = []
    by_kind: dict[str, list[float]] = {}
    empty = set()
    for _ in range(ROUNDS):
        for kind, q in queries:
            t0 = time.perf_counter()
            r = index.search(q, LIMIT)
            ms = (time.perf_counter() - t0) * 1000
            times.append(ms)
            by_kind.setdefault(kind, []).append(ms)
            if not r.hits:
                empty.add((kind, q))
    for kind, ts in sorted(by_kind.items()):
        print(f"  {kind:<10} n={len(ts):4d}  p50 {statistics.median(ts):6.2f} ms  p95 {pct(ts, 95):6.2f} ms  "
              f"max {max(ts):6.2f} ms")
    worst = sorted(zip(times, [q for _ in range(ROUNDS) for q in queries]), reverse=True)[:5]
    print("  slowest: " + ", ".join(f"{q[1]!r} {t:.2f} ms" for t, q in worst))
    print(f"  queries without results: {len(empty)} of {len(queries)}"
          + (f" (e.g. {', '.join(q for _, q in sorted(empty)[:8])})" if empty else ""))
    for limit in (200, None):  # a longer list to scroll through, and every match (what a full list costs)
        ts = []
        for _, q in queries:
            t0 = time.perf_counter()
            index.search(q, limit)
            ts.append((time.perf_counter() - t0) * 1000)
        print(f"  limit {limit}: p50 {statistics.median(ts):.2f} ms, p95 {pct(ts, 95):.2f} ms, max {max(ts):.2f} ms")
    p50, p95, mx = statistics.median(times), pct(times, 95), max(times)
    print(f"search over {index.n} enabled items: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {mx:.2f} ms")
    print(f"search_p95_ms {p95:.2f} budget {BUDGET_MS:g} {'pass' if p95 <= BUDGET_MS else 'miss'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
