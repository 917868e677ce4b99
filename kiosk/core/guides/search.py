"""Guide search the way people type at a kiosk: Chinese, full pinyin, pinyin initials, typos.

The kiosk has no input method: a citizen types letters on the on-screen
keyboard (`shebao`, `sb`, `gongjij...`) and results follow every key. So the
index answers, for Chinese text of any length (社保, 户口, 公积金) and for
Latin letters (pinyin from a syllable start, initials, item codes), which
items match exactly, by prefix or as a substring, field by field. A Latin
query that matches nothing at all is tried again allowing one wrong letter
(two from eight letters on), against the pinyin of names and keywords
(rapidfuzz, optimal string alignment: a swapped pair counts as one).

Ranking is by tier (PLAN): name over keywords over department over materials,
an exact or prefix name match first; within a tier the shorter name first,
then the catalog's order. The index is built once per catalog content, in
memory: each key maps to a bitmask of items (a Python int), so a one-letter
query costs a few big-integer operations rather than a loop over 20,000 items.
Keys cover short queries exactly; longer ones are narrowed by n-grams and
checked against the text.

Polyphones: each text is indexed under pypinyin's reading in context (银行
yinhang) and under each character's most common reading (yinxing); ü under
both v and u. The readings are worked out when a catalog is imported and
stored with it (`stored_readings`): pypinyin's dictionaries take 56 MB, which
the process that imports a catalog pays once and the kiosk's UI never does.
A text with no stored reading (a catalog imported before they were stored) is
read here, loading pypinyin then. Common official abbreviations (社会保障卡 → 社保卡, 机动车驾驶证
→ 驾照, ...) are indexed as aliases of names and departments, and as
keywords of the items whose names contain them.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from array import array
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping, NamedTuple, Protocol

from rapidfuzz import process
from rapidfuzz.distance import OSA

if TYPE_CHECKING:  # the catalog imports this module to store readings; this one reads its rows only
    from kiosk.core.guides.catalog import IndexedItem

log = logging.getLogger(__name__)

# (long form, what people type instead)
ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("人力资源和社会保障", "人社"), ("社会保险", "社保"), ("社会保障", "社保"), ("医疗保险", "医保"),
    ("医疗保障", "医保"), ("住房公积金", "公积金"), ("居民身份证", "身份证"), ("机动车驾驶证", "驾照"),
    ("驾驶证", "驾照"), ("户籍", "户口"), ("最低生活保障", "低保"), ("个人所得税", "个税"),
    ("营业执照", "执照"), ("养老保险", "养老"), ("失业保险", "失业"), ("市场监督管理", "市场监管"),
    ("不动产权证书", "房产证"), ("不动产", "房产"), ("残疾人证", "残疾证"), ("出入境", "出国"),
    ("往来港澳通行证", "港澳通行证"), ("公安局交通警察", "交警"),
)

FIELDS = ("name", "alias", "keyword", "theme", "department", "material", "code")
FUZZY_FIELDS = ("name", "keyword")

# (score, field, match): the order results come in. exact and prefix apply to Chinese text,
# full pinyin and initials alike; sub is Chinese text or pinyin from a syllable start anywhere;
# isub is initials anywhere (sb inside a name is weaker evidence than the keyword 社保);
# fuzzy1 and fuzzy2 are one and two letters off.
PLAN: tuple[tuple[float, str, str], ...] = (
    (100, "name", "exact"), (99, "code", "exact"), (98, "code", "prefix"), (97, "name", "prefix"),
    (95, "alias", "exact"), (93, "alias", "prefix"), (90, "name", "sub"), (89, "alias", "sub"),
    (88, "keyword", "exact"), (84, "keyword", "prefix"), (82, "name", "isub"), (81, "alias", "isub"),
    (80, "keyword", "sub"), (79, "keyword", "isub"),
    (72, "theme", "exact"), (71, "theme", "prefix"), (70, "theme", "sub"), (69, "theme", "isub"),
    (66, "name", "fuzzy1"), (65, "keyword", "fuzzy1"), (64, "name", "fuzzy2"), (63, "keyword", "fuzzy2"),
    (62, "department", "exact"), (61, "department", "prefix"), (60, "department", "sub"),
    (59, "department", "isub"),
    (45, "material", "exact"), (44, "material", "prefix"), (42, "material", "sub"), (41, "material", "isub"),
)

# Index keys are "<kind><text>"; kinds are capitals, which normalised text never contains.
#   E whole text   P text prefix   S text 1- and 2-grams
#   X whole pinyin or whole initials   Y pinyin prefix or initials prefix
#   R pinyin from a syllable start   G initials 2- and 3-grams (1-grams are the 1-letter runs)
#   C code prefix
# A longer pinyin query is narrowed by the runs at its syllable starts (those every reading of the
# letters as syllables agrees on), then checked against the text.
TEXT_PREFIX_MAX = 4
PINYIN_PREFIX_MAX = 6
INITIALS_PREFIX_MAX = 4
RUN_MAX = 6
GRAM_MAX = 3
SYLLABLE_MAX = 6        # zhuang
CODE_PREFIX_MAX = 12
FUZZY_MIN_LEN = 4      # shorter queries are too ambiguous to guess at
FUZZY_MAX_LEN = 24
FUZZY_SYLLABLES = (2, 5)
SPARSE_MAX = 160       # postings of at most this many items are kept as packed ids (bytes: no GC cost)
BIG_STRING = 48        # a text shared by this many items gets its own mask while building
EAGER_VERIFY = 128     # check narrowed candidates at once when there are at most this many

_KEEP = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NONZERO = re.compile(rb"[^\x00]")
_BITS = tuple(tuple(b for b in range(8) if v >> b & 1) for v in range(256))
_BIT = tuple(1 << b for b in range(8))


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, only letters, digits and CJK (spaces and punctuation go)."""
    return "".join(_KEEP.findall(unicodedata.normalize("NFKC", text).lower()))


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def _as_is(chars: str) -> list[str]:
    return list(chars)  # letters, digits and unknown characters stand for themselves, one each


@lru_cache(maxsize=None)
def _char_reading(ch: str) -> str:
    from pypinyin import lazy_pinyin  # its dictionaries load on first use: only where texts are read

    return lazy_pinyin(ch, errors=_as_is)[0]


@lru_cache(maxsize=65536)
def _word_reading(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(word, errors=_as_is))


def readings(text: str) -> list[tuple[str, ...]]:
    """The pinyin renderings of normalised text, one syllable per character (other characters as
    themselves): the reading in context, each character's most common one, and ü typed as u."""
    from pypinyin.seg.simpleseg import seg

    # pypinyin reads word by word; a catalog's words repeat, so each is read once
    ctx = tuple(p for word in seg(text) for p in _word_reading(word))
    plain = tuple(_char_reading(c) for c in text)
    if len(ctx) != len(text):  # not expected; stay aligned with the characters whatever happens
        ctx = plain
    out = [ctx] if plain == ctx else [ctx, plain]
    for r in list(out):
        if any("v" in s and has_cjk(c) for s, c in zip(r, text)):
            out.append(tuple(s.replace("v", "u") if has_cjk(c) else s for s, c in zip(r, text)))
    return out


def encode_readings(rs: list[tuple[str, ...]]) -> str:
    """Readings as stored with the catalog: syllables joined by spaces, readings by "|" (normalised
    text has neither), e.g. 银行 → "yin hang|yin xing"."""
    return "|".join(" ".join(r) for r in rs)


def decode_readings(text: str) -> list[tuple[str, ...]]:
    return [tuple(r.split(" ")) for r in text.split("|")]


def index_texts(items: Iterable[IndexedItem]) -> set[str]:
    """Every normalised text the index reads as pinyin: what a catalog stores the readings of."""
    return {t for item in items for field in FIELDS if field != "code"
            for raw in SearchIndex._texts(field, item) if (t := normalise(raw))}


PROGRESS_EVERY = 50   # texts between two reports of stored_readings' progress


def stored_readings(items: Iterable[IndexedItem],
                    progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """{text: encoded readings} for the index texts of `items` (loads pypinyin); `progress(done, total)`
    hears how far it has got, every PROGRESS_EVERY texts and at the end."""
    texts = list(index_texts(items))
    out = {}
    for n, t in enumerate(texts, 1):
        out[t] = encode_readings(readings(t))
        if progress and (n % PROGRESS_EVERY == 0 or n == len(texts)):
            progress(n, len(texts))
    return out


@dataclass(frozen=True, slots=True)
class Forms:
    """One distinct text of a field, as queries are checked against it."""
    text: str
    pinyin: tuple[tuple[str, tuple[int, ...]], ...]  # (letters, where each syllable starts)
    initials: tuple[str, ...]


def _forms(text: str, rs: list[tuple[str, ...]]) -> Forms:
    pys, inis = {}, {}
    for syls in rs:
        starts, pos = [], 0
        for s in syls:
            starts.append(pos)
            pos += len(s)
        pys.setdefault("".join(syls), tuple(starts))
        inis.setdefault("".join(s[0] for s in syls), None)
    return Forms(text, tuple(pys.items()), tuple(inis))


def _keys(f: Forms) -> set[str]:
    t = f.text
    out = ["E" + t]
    out += ["P" + t[:k] for k in range(1, min(len(t), TEXT_PREFIX_MAX) + 1)]
    out += ["S" + c for c in t]
    out += ["S" + t[i:i + 2] for i in range(len(t) - 1)]
    for full, starts in f.pinyin:
        out.append("X" + full)
        out += ["Y" + full[:k] for k in range(1, min(len(full), PINYIN_PREFIX_MAX) + 1)]
        out += ["R" + full[p:p + k] for p in starts for k in range(1, RUN_MAX + 1)]
    for ini in f.initials:
        out.append("X" + ini)
        out += ["Y" + ini[:k] for k in range(2, min(len(ini), INITIALS_PREFIX_MAX) + 1)]
        out += ["G" + ini[i:i + k] for k in range(2, GRAM_MAX + 1) for i in range(len(ini) - k + 1)]
    return set(out)


def _code_keys(f: Forms) -> set[str]:
    return {"E" + f.text, *("C" + f.text[:k] for k in range(1, min(len(f.text), CODE_PREFIX_MAX) + 1))}


def _fuzzy_terms(f: Forms) -> set[str]:
    """Runs of whole syllables a mistyped query is compared with (住房公积金 → gongjijin, ...)."""
    lo, hi = FUZZY_SYLLABLES
    out = set()
    for full, starts in f.pinyin[:1]:  # a typo is a slip from the usual reading, not from a variant
        bounds = [*starts, len(full)]
        for i in range(len(bounds) - 1):
            for n in range(lo, hi + 1):
                if i + n < len(bounds):
                    term = full[bounds[i]:bounds[i + n]]
                    if len(term) >= FUZZY_MIN_LEN and term.isalpha():
                        out.add(term)
    return out


def _mask_of(ids: Iterable[int] | bytes, nbytes: int) -> int:
    if isinstance(ids, bytes):
        ids = memoryview(ids).cast("I")
    buf = bytearray(nbytes)
    for i in ids:
        buf[i >> 3] |= _BIT[i & 7]
    return int.from_bytes(buf, "little")


def _ids(mask: int) -> Iterator[int]:
    """The items of a mask, lowest id (best rank) first; empty bytes are skipped at C speed."""
    if not mask:
        return
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    for m in _NONZERO.finditer(data):
        j = m.start()
        base = j << 3
        for b in _BITS[data[j]]:
            yield base + b


def _grams(q: str, n: int) -> list[str]:
    return [q[i:i + n] for i in range(len(q) - n + 1)] or [q]


def _anchored(q: str, full: str, starts: tuple[int, ...]) -> bool:
    at = full.find(q)
    while at >= 0:
        if at in starts:
            return True
        at = full.find(q, at + 1)
    return False


def _split(full: str, starts: tuple[int, ...]) -> list[str]:
    bounds = [*starts, len(full)]
    return [full[a:b] for a, b in zip(bounds, bounds[1:])]


def _aliases(text: str) -> list[str]:
    """The text with long forms replaced by what people type (社会保障卡申领 → 社保卡申领)."""
    out, every = [], text
    for long, short in ABBREVIATIONS:
        if long in text:
            out.append(text.replace(long, short))
        every = every.replace(long, short)
    out.append(every)
    return [a for a in dict.fromkeys(out) if a != text]


def _implicit_keywords(name: str) -> list[str]:
    return [short for long, short in ABBREVIATIONS if long in name]


class Hit(NamedTuple):
    code: str
    name: str
    department: str
    score: float
    field: str  # what matched: name, alias, keyword, theme, department, material or code


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: list[Hit]
    total: int  # items matched (for a long query with very many candidates, at most this many)


@dataclass
class _Tier:
    score: float
    field: str
    mask: int
    verify: Callable[[int], bool] | None = None  # set while the mask holds unchecked candidates


class _Field:
    """One field (name, keyword, ...) of every item: its distinct texts and their keys."""

    def __init__(self, name: str):
        self.name = name
        self.forms: list[Forms] = []
        self.item_sids: list[tuple[int, ...]] = []
        self.post: dict[str, int | bytes] = {}
        self.terms: dict[str, int | bytes] = {}
        # terms by (length, position 0 or 1, letter): one wrong, missing, extra or swapped letter
        # leaves the first or the second letter in place, so a typo is looked for among few terms
        self.terms_at: dict[tuple[int, int, str], list[str]] = {}
        # for fields whose texts many items share (materials, departments, ...): a long query is
        # checked once per distinct text, not once per item
        self.text_post: dict[str, tuple[int, ...]] | None = None
        self.text_items: list[int] = []


class SearchIndex:
    """An immutable search index over items; build it once per catalog content."""

    def __init__(self, items: Iterable[IndexedItem], stored: Mapping[str, str] | None = None):
        """`stored`: readings kept with the catalog ({text: encode_readings(...)}); texts missing
        from it are read with pypinyin, and counted in `self.read_here`."""
        self.stored = stored or {}
        self.read_here = 0
        # item ids in rank order: shorter names first, then the catalog's order
        self.items = sorted(items, key=lambda i: (len(i.name), i.position))
        self.n = len(self.items)
        self.nbytes = (self.n + 7) // 8
        self.fields = {f: self._build(f) for f in FIELDS}
        # what the catalog's pinyin is made of: syllables of Chinese characters, and other
        # characters standing for themselves. Letters that cannot be read as these are not pinyin.
        self.pieces: set[str] = set()
        self.syllables: set[str] = set()
        for fx in self.fields.values():
            for f in fx.forms:
                for full, starts in f.pinyin:
                    for ch, piece in zip(f.text, _split(full, starts)):
                        self.pieces.add(piece)
                        if has_cjk(ch):
                            self.syllables.add(piece)
        self.piece_starts = {s[:k] for s in self.pieces for k in range(1, len(s) + 1)}
        self.syllable_starts = {s[:k] for s in self.syllables for k in range(1, len(s) + 1)}
        self.stored = {}  # only needed while building

    def _readings(self, text: str) -> list[tuple[str, ...]]:
        found = self.stored.get(text)
        if found is not None:
            rs = decode_readings(found)
            if all(len(r) == len(text) for r in rs):
                return rs
        self.read_here += 1
        return readings(text)

    # -- building --------------------------------------------------------------------------------

    @staticmethod
    def _texts(field: str, item: IndexedItem) -> list[str]:
        if field == "name":
            return [item.name]
        if field == "alias":
            return _aliases(item.name)
        if field == "keyword":
            return [*item.keywords, *_implicit_keywords(item.name)]
        if field == "theme":
            return list(item.themes)
        if field == "department":
            return [item.department, *_aliases(item.department)]
        if field == "material":
            return list(item.materials)
        return [item.code]

    def _build(self, field: str) -> _Field:
        fx = _Field(field)
        sid_of: dict[str, int] = {}
        sid_items: list[list[int]] = []
        key_sids: defaultdict[str, list[int]] = defaultdict(list)
        term_sids: defaultdict[str, list[int]] = defaultdict(list)
        for i, item in enumerate(self.items):
            sids: list[int] = []
            for raw in self._texts(field, item):
                text = normalise(raw)
                if not text:
                    continue
                sid = sid_of.get(text)
                if sid is None:
                    sid = sid_of[text] = len(fx.forms)
                    forms = Forms(text, (), ()) if field == "code" else _forms(text, self._readings(text))
                    fx.forms.append(forms)
                    sid_items.append([])
                    for key in (_code_keys(forms) if field == "code" else _keys(forms)):
                        key_sids[key].append(sid)
                    if field in FUZZY_FIELDS:
                        for term in _fuzzy_terms(forms):
                            term_sids[term].append(sid)
                if sid not in sids:
                    sids.append(sid)
                    sid_items[sid].append(i)
            fx.item_sids.append(tuple(sids))
        posting = self._poster(sid_items)
        fx.post = {k: posting(s) for k, s in key_sids.items()}
        if 2 * len(sid_items) < sum(len(its) for its in sid_items):
            fx.text_post = {k: tuple(s) for k, s in key_sids.items()}
            fx.text_items = [_mask_of(its, self.nbytes) for its in sid_items]
        fx.terms = {t: posting(s) for t, s in term_sids.items()}
        for term in fx.terms:
            fx.terms_at.setdefault((len(term), 0, term[0]), []).append(term)
            fx.terms_at.setdefault((len(term), 1, term[1]), []).append(term)
        return fx

    def _poster(self, sid_items: list[list[int]]) -> Callable[[list[int]], int | bytes]:
        """Turns the texts that have a key into the items that have it."""
        single = [its[0] if len(its) == 1 else -1 for its in sid_items]
        all_single = -1 not in single
        big: dict[int, int] = {}

        def posting(sids: list[int]) -> int | bytes:
            mask = 0
            if all_single:  # names, codes: one item per text
                ids = list(map(single.__getitem__, sids))
            else:
                ids = []
                for s in sids:
                    its = sid_items[s]
                    if len(its) < BIG_STRING:
                        ids.extend(its)
                        continue
                    if s not in big:
                        big[s] = _mask_of(its, self.nbytes)
                    mask |= big[s]
            if not mask and len(ids) <= SPARSE_MAX:
                return array("I", sorted(set(ids))).tobytes()
            return mask | _mask_of(ids, self.nbytes)
        return posting

    # -- querying --------------------------------------------------------------------------------

    def _get(self, fx: _Field, key: str) -> int:
        p = fx.post.get(key)
        if p is None:
            return 0
        return p if isinstance(p, int) else _mask_of(p, self.nbytes)

    def _narrow(self, fx: _Field, keys: Iterable[str]) -> int:
        mask = -1
        for k in keys:
            mask &= self._get(fx, k)
            if not mask:
                return 0
        return max(mask, 0)

    def _narrowed(self, fx: _Field, keys: list[str], test: Callable[[Forms], bool], exclude: int = 0) -> _Tier:
        """The items having every key whose text passes `test` (for queries longer than the keys)."""
        if fx.text_post is not None:
            posts = sorted((fx.text_post.get(k, ()) for k in keys), key=len)
            mask = 0
            for s in set(posts[0]).intersection(*posts[1:]):
                if test(fx.forms[s]):
                    mask |= fx.text_items[s]
            return _Tier(0, fx.name, mask & ~exclude)
        cand = self._narrow(fx, keys) & ~exclude

        def verify(i: int) -> bool:
            return any(test(fx.forms[s]) for s in fx.item_sids[i])
        return _Tier(0, fx.name, cand, verify if cand else None)

    @staticmethod
    def _syllable_starts(q: str, whole: set[str], begun: set[str]) -> tuple[int, ...] | None:
        """Where syllables start in q, read as whole syllables with perhaps an unfinished last one
        (`gangaoto`): the positions every such reading agrees on; None when q cannot be read so."""
        n = len(q)

        def fits(i: int, j: int) -> bool:
            return q[i:j] in whole or (j == n and q[i:j] in begun)
        fwd = [1] + [0] * n
        for i in range(n):
            if fwd[i]:
                for j in range(i + 1, min(n, i + SYLLABLE_MAX) + 1):
                    if fits(i, j):
                        fwd[j] += fwd[i]
        if not fwd[n]:
            return None
        bwd = [0] * n + [1]
        for i in range(n - 1, -1, -1):
            for j in range(i + 1, min(n, i + SYLLABLE_MAX) + 1):
                if bwd[j] and fits(i, j):
                    bwd[i] += bwd[j]
        return tuple(p for p in range(n) if fwd[p] * bwd[p] == fwd[n])

    def _match(self, fx: _Field, how: str, q: str, latin: bool, starts: tuple[int, ...] | None = (0,),
               initials: bool = True) -> list[_Tier]:
        """The items whose field matches q exactly, by prefix or as a substring: exact masks, and
        candidate masks with the check that confirms them. For Latin letters, `starts` are q's
        syllable starts (None: q is not pinyin), `initials` whether q may be initials."""
        g = self._get
        if fx.name == "code":
            if not latin or how in ("sub", "isub"):
                return []
            if how == "exact":
                return [_Tier(0, fx.name, g(fx, "E" + q))]
            if len(q) <= CODE_PREFIX_MAX:
                return [_Tier(0, fx.name, g(fx, "C" + q))]
            return [self._narrowed(fx, ["C" + q[:CODE_PREFIX_MAX]], lambda f: f.text.startswith(q))]
        if how == "exact":
            return [_Tier(0, fx.name, g(fx, ("X" if latin else "E") + q))]
        if not latin:
            if how == "isub":
                return []
            if how == "prefix":
                if len(q) <= TEXT_PREFIX_MAX:
                    return [_Tier(0, fx.name, g(fx, "P" + q))]
                keys = ["P" + q[:TEXT_PREFIX_MAX], *("S" + b for b in _grams(q, 2))]
                return [self._narrowed(fx, keys, lambda f: f.text.startswith(q))]
            if len(q) <= 2:
                return [_Tier(0, fx.name, g(fx, "S" + q))]
            return [self._narrowed(fx, ["S" + b for b in _grams(q, 2)], lambda f: q in f.text)]
        tiers = []
        if how == "prefix":
            exact = g(fx, "Y" + q) if len(q) <= PINYIN_PREFIX_MAX else 0
            tiers.append(_Tier(0, fx.name, exact))
            if len(q) > PINYIN_PREFIX_MAX and starts is not None:
                keys = ["Y" + q[:PINYIN_PREFIX_MAX], *("R" + q[b:b + RUN_MAX] for b in starts)]
                tiers.append(self._narrowed(fx, keys, lambda f: any(p.startswith(q) for p, _ in f.pinyin), exact))
            if len(q) > INITIALS_PREFIX_MAX and initials:
                keys = ["Y" + q[:INITIALS_PREFIX_MAX], *("G" + t for t in _grams(q, GRAM_MAX))]
                tiers.append(self._narrowed(fx, keys, lambda f: any(i.startswith(q) for i in f.initials), exact))
            return tiers
        if how == "sub":
            tiers.append(_Tier(0, fx.name, g(fx, "R" + q) if len(q) <= RUN_MAX else 0))
            if len(q) > RUN_MAX and starts is not None:
                keys = ["R" + q[b:b + RUN_MAX] for b in starts]
                tiers.append(self._narrowed(fx, keys, lambda f: any(_anchored(q, p, s) for p, s in f.pinyin)))
            return tiers
        if len(q) < 2 or not initials:  # one letter: the same as a syllable start, found as sub
            return tiers
        if len(q) <= GRAM_MAX:
            return [_Tier(0, fx.name, g(fx, "G" + q))]
        return [self._narrowed(fx, ["G" + t for t in _grams(q, GRAM_MAX)], lambda f: any(q in i for i in f.initials))]

    def _fuzzy(self, fx: _Field, q: str) -> dict[int, int]:
        """Items with a run of syllables one letter (two, from 8 letters on) away from q."""
        most = 1 if len(q) < 8 else 2
        found = {1: 0, 2: 0}
        for length in range(len(q) - most, len(q) + most + 1):
            terms: set[str] = set()
            for pos in (0, 1):
                for ch in {q[0], q[1]}:
                    terms.update(fx.terms_at.get((length, pos, ch), ()))
            if not terms:
                continue
            for term, dist, _ in process.extract(q, list(terms), scorer=OSA.distance, score_cutoff=most,
                                                 limit=None):
                if dist:
                    p = fx.terms[term]
                    found[dist] |= p if isinstance(p, int) else _mask_of(p, self.nbytes)
        return found

    def search(self, query: str, limit: int | None = 20) -> SearchResult:
        """The items matching `query`, best first; at most `limit` of them (None: all)."""
        q = normalise(query)
        if not q or not self.n:
            return SearchResult(query, [], 0)
        latin = not has_cjk(q)
        starts, initials = None, False
        if latin:
            starts = self._syllable_starts(q, self.pieces, self.piece_starts)
            # letters that read as Chinese syllables are taken for pinyin, not also for initials
            initials = (len(q) <= INITIALS_PREFIX_MAX
                        or self._syllable_starts(q, self.syllables, self.syllable_starts) is None)
        tiers: list[_Tier] = []
        for score, field, how in PLAN:
            if not how.startswith("fuzzy"):
                for part in self._match(self.fields[field], how, q, latin, starts, initials):
                    self._add(tiers, part, score)
        # a typo is guessed at only when the letters as typed match nothing at all
        if latin and FUZZY_MIN_LEN <= len(q) <= FUZZY_MAX_LEN and q.isalpha() and not self._any_match(tiers):
            found = {f: self._fuzzy(self.fields[f], q) for f in FUZZY_FIELDS}
            tiers = []
            for score, field, how in PLAN:
                if how.startswith("fuzzy"):
                    self._add(tiers, _Tier(0, field, found[field][int(how[-1])]), score)
        return self._collect(query, tiers, limit)

    @staticmethod
    def _any_match(tiers: list[_Tier]) -> bool:
        return any(t.verify is None or any(map(t.verify, _ids(t.mask))) for t in tiers)

    def _add(self, tiers: list[_Tier], tier: _Tier, score: float) -> None:
        if not tier.mask:
            return
        tier.score = float(score)
        if tier.verify and tier.mask.bit_count() <= EAGER_VERIFY:
            tier.mask = _mask_of((i for i in _ids(tier.mask) if tier.verify(i)), self.nbytes)
            tier.verify = None
            if not tier.mask:
                return
        last = tiers[-1] if tiers else None
        if last and last.score == score and last.field == tier.field and not (last.verify or tier.verify):
            last.mask |= tier.mask  # one tier, so its items keep the rank order
            return
        tiers.append(tier)

    def _collect(self, query: str, tiers: list[_Tier], limit: int | None) -> SearchResult:
        union = 0
        for t in tiers:
            union |= t.mask
        hits: list[Hit] = []
        items = self.items
        taken = 0  # items already listed under a better tier
        for t in tiers:
            room = None if limit is None else limit - len(hits)
            if room is not None and room <= 0:
                break
            ids = _ids(t.mask & ~taken)
            if t.verify is None:
                hits.extend(Hit(items[i].code, items[i].name, items[i].department, t.score, t.field)
                            for i in islice(ids, room))
                taken |= t.mask
                continue
            accepted = list(islice(filter(t.verify, ids), room))
            hits.extend(Hit(items[i].code, items[i].name, items[i].department, t.score, t.field) for i in accepted)
            taken |= _mask_of(accepted, self.nbytes)
        return SearchResult(query, hits, union.bit_count())


class IndexSource(Protocol):
    """What the search reads of the catalog (kiosk.core.guides.catalog.GuideCatalog)."""

    def stamp(self) -> str | None: ...
    def version(self) -> str | None: ...
    def indexed_items(self) -> list[IndexedItem]: ...
    def readings(self) -> Mapping[str, str]: ...


class GuideSearch:
    """Search over a GuideCatalog's enabled items; the index is rebuilt when the catalog changes."""

    def __init__(self, catalog: IndexSource):
        self.catalog = catalog
        self._lock = threading.Lock()
        self._stamp: str | None = None
        self._index: SearchIndex | None = None

    def index(self) -> SearchIndex:
        stamp = self.catalog.stamp()
        with self._lock:
            if self._index is None or stamp != self._stamp:
                if stamp:
                    index = SearchIndex(self.catalog.indexed_items(), self.catalog.readings())
                    if index.read_here:
                        log.info("guide search: %d texts of catalog %s had no stored pinyin; read them here "
                                 "(import the catalog again to store them)", index.read_here,
                                 self.catalog.version())
                else:
                    index = SearchIndex([])
                self._index, self._stamp = index, stamp
            return self._index

    def search(self, query: str, limit: int | None = 20) -> SearchResult:
        return self.index().search(query, limit)
