"""Pinyin candidates for the on-screen keyboard: typed letters in, Chinese words out, best first.

The words come from a kept dictionary with frequencies (jieba's dict.txt, about 350,000 words
with a part-of-speech tag) and their readings from pypinyin; the characters of given names from
ngender's charfreq.csv (how often each of 9,442 characters is used in a large corpus of real
Chinese names, men's and women's apart); the common two-character given names (秀英, 建国) from
Faker's zh_CN lists of the commonest given names. All are large or slow to load, so they are used only by
`build`, which writes one SQLite file (derived data, like the compiled .mo catalogs; `make setup`
builds it). A kiosk's UI process opens that file with sqlite3 alone and never imports jieba,
pypinyin, ngender or Faker: the index is read through SQLite's page cache rather than held as Python
objects, which keeps the UI within its memory budget.

    python -m kiosk.core.input.pinyin build [--out PATH]

How letters become candidates (standard IME behaviour, so a citizen who has used a phone's
keyboard is never surprised):

- the letters are cut into Mandarin syllables (`zhangsan` -> zhang'san); an apostrophe forces a
  cut (`xi'an`), `v` stands for ü (`lvshi`), and the last syllable may be unfinished (`beij`);
- candidates come in tiers, each by frequency: words that are exactly the input, a phrase of
  dictionary words when no single word is (工作+单位), words that finish its last syllable,
  longer words that start with it, words whose initials are the input (`zs`), words for the
  first syllables only, then single characters for the first syllable, so that a name that is
  in no dictionary can still be written character by character;
- each candidate says how many typed letters it covers (`consumed`): picking 张三 for
  `zhangsanfeng` leaves `feng` on the keyboard.

A form field gives its context: "name" puts common surnames first, then person names (jieba's
tag nr), then surname + given-name characters (most citizens' names are in no dictionary): the
surname by its rank in SURNAMES, a one-character given name by how often real names use the
character (ngender's counts: 伟 430,000, 芳 195,000, 夫 8,500), a two-character one by how likely
the pair is for a man or a woman (秀+英 both women's characters, 建+国 both men's: the product
of each character's share, per sex) and by where each character stands (晓 nearly always first,
英 more often second: shares counted in jieba's three-character person names, the only source
that says where), times PAIR_BOOST when the pair is itself one of the commonest given names;
"address" favours place names (ns); "text" offers a composed name (张三) after the common words
of its reading. `Learned` remembers what this visit picked and is dropped with the visit:
nothing a citizen typed outlives it (DESIGN.md section 7).
"""
from __future__ import annotations

import functools
import math
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent / "pinyin.sqlite"
BUILD_COMMAND = "python -m kiosk.core.input.pinyin build"
FORMAT = 4          # bumped whenever the tables change; an index of another format is rebuilt
CONTEXTS = ("text", "name", "address")
MAX_LETTERS = 40    # longer than any field's phrase: keeps a stuck key from costing seconds

# Boost of a word whose tag fits the field (jieba: nr person name, ns place name): enough to lift
# a rare name above a common word of the same reading, not enough to bury exact over partial.
CONTEXT_TAGS = {"name": ("nr",), "address": ("ns",)}
CONTEXT_BOOST = 200
# A second reading of a polyphone character is indexed, but well below its main reading:
# otherwise 的 (de) would top every list for "di".
OTHER_READING_SHARE = 30
# Below this count in jieba's dictionary a word is rare (长三 52, 张散 3; 身份证 708): in a plain
# text field a composed common name (张三) is offered before it.
RARE = 100
PHRASE_WORD_MOST = 6   # syllables of the longest word a composed phrase is made of
# Syllables of pypinyin's table that are interjections only (嗯 n/ng, 呣 m, 哼 hng, 欸 ê): as
# whole syllables they would cut `zhangn` into zhang'n and hide the unfinished "n..." reading.
PLACE_SUFFIXES = "省市区县镇乡"
INTERJECTIONS = frozenset({"m", "n", "ng", "hm", "hng", "ê"})
# Where a character stands in a two-character given name (first or second), as a share of the times
# jieba's three-character person names have it there, each side starting from this many: a
# character those names never use gets an even share, one they use a few times stays near it.
POSITION_PRIOR = 5
# A two-character given name that Faker's list of the commonest given names has (秀英, 建国, 桂兰)
# counts this many times what its characters' counts alone expect: those say 晓英 is likelier than
# 秀英 (晓 is twice as common as 秀), the list says 秀英 is among the commonest names of all.
PAIR_BOOST = 8
# How many given-name characters each syllable (or initial letter) offers to the composed names.
GIVEN_PER_SYLLABLE = 8
GIVEN_PER_INITIAL = 8

# The hundred most common surnames of the mainland, from the Ministry of Public Security's
# reports on registered names (2019 and 2020): the first ten in the reports' order, the rest in
# the order of the widely published top-100 list. A written list because no dictionary we ship
# tags surnames; it decides which character comes first for a name field.
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕"
            "丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱"
            "戴严莫孔向常汤康易乔赖文")


@dataclass(frozen=True)
class Candidate:
    """One entry of the candidate bar: the text, and how many of the typed letters it replaces
    (apostrophes included), so the keyboard keeps `letters[consumed:]` for the next pick."""

    text: str
    consumed: int


class IndexMissing(RuntimeError):
    """The index file is not there (or is of another format): says which file and how to build it."""


class Learned:
    """What the citizen picked during this visit: a pick ranks first the next time the same
    letters are typed. Held in memory only and dropped (or `clear()`ed) when the visit ends."""

    def __init__(self) -> None:
        self._picks: dict[str, list[Candidate]] = {}

    def pick(self, letters: str, candidate: Candidate) -> None:
        key = normalise(letters)
        picks = [c for c in self._picks.get(key, []) if c.text != candidate.text]
        self._picks[key] = [candidate] + picks

    def for_letters(self, letters: str) -> list[Candidate]:
        return list(self._picks.get(normalise(letters), []))

    def clear(self) -> None:
        self._picks.clear()


def normalise(letters: str) -> str:
    """Lower-case letters and apostrophes; anything else is a caller's mistake (ValueError)."""
    if not isinstance(letters, str):
        raise ValueError(f"letters must be text, got {type(letters).__name__}")
    low = letters.lower()
    bad = sorted({c for c in low if not ("a" <= c <= "z" or c == "'")})
    if bad:
        raise ValueError(f"letters may be a-z and the apostrophe only; got {''.join(bad)!r} in {letters!r}")
    if len(low) > MAX_LETTERS:
        raise ValueError(f"at most {MAX_LETTERS} letters at a time, got {len(low)}")
    return low


@dataclass(frozen=True)
class Piece:
    """One syllable of a cut: its letters, where it ends in the typed string (after an apostrophe
    that follows it) and whether it is a whole syllable or the unfinished start of one."""

    text: str
    end: int
    whole: bool


Cut = tuple[Piece, ...]


def cuts(letters: str, syllables: frozenset[str], starts: frozenset[str], *, most: int = 12) -> list[Cut]:
    """Every way to cut the letters into syllables, the last one possibly unfinished, fewest
    pieces first (the reading a person most likely means: xian before xi'an), at most one piece
    more than the fewest. Empty when the letters cannot be read as syllables (`zs`)."""
    n = len(letters)
    found: list[Cut] = []

    def skip(pos: int) -> int:
        while pos < n and letters[pos] == "'":
            pos += 1
        return pos

    def walk(pos: int, acc: list[Piece]) -> None:
        if len(found) >= 64:
            return
        stop = letters.find("'", pos)
        stop = n if stop < 0 else stop
        for size in range(min(6, stop - pos), 0, -1):
            text = letters[pos:pos + size]
            end = skip(pos + size)
            if text in syllables:
                piece = Piece(text, end, True)
                if end >= n:
                    found.append(tuple(acc + [piece]))
                else:
                    walk(end, acc + [piece])
            elif end >= n and pos + size == n and text in starts:
                found.append(tuple(acc + [Piece(text, n, False)]))

    start = skip(0)
    if start < n:
        walk(start, [])
    if not found:
        return []
    fewest = min(len(c) for c in found)
    kept = [c for c in found if len(c) <= fewest + 1]
    # fewest pieces, whole last syllable before an unfinished one, longer first syllables first
    kept.sort(key=lambda c: (len(c), not c[-1].whole, [-len(p.text) for p in c]))
    return kept[:most]


def longest_cut(letters: str, syllables: frozenset[str]) -> Cut:
    """The whole syllables at the start of letters that cannot be cut to the end (`zhangsx`):
    what the first-syllables and single-character tiers still offer."""
    n, pos, out = len(letters), 0, []
    while pos < n and letters[pos] == "'":
        pos += 1
    while pos < n:
        for size in range(min(6, n - pos), 0, -1):
            text = letters[pos:pos + size]
            if "'" not in text and text in syllables:
                pos += size
                while pos < n and letters[pos] == "'":
                    pos += 1
                out.append(Piece(text, pos, True))
                break
        else:
            break
    return tuple(out)


def _upper(prefix: str) -> str:
    """The smallest key after every key that starts with prefix (keys are a-z and ')."""
    return prefix + "\x7f"


class PinyinIndex:
    """The built index, opened read-only for one visit's forms (or one command)."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self.syllables = frozenset(r[0] for r in db.execute("SELECT syllable FROM syllables"))
        self.starts = frozenset(s[:i] for s in self.syllables for i in range(1, len(s) + 1))
        meta = dict(db.execute("SELECT key, value FROM meta WHERE key IN "
                               "('total_freq', 'given_male', 'given_female')"))
        self.total = int(meta["total_freq"])
        # how many characters of men's and of women's given names ngender counted: a pair's
        # likelihood for each sex is the product of its characters' shares of that sex's total
        self.given_totals = (int(meta["given_male"]), int(meta["given_female"]))
        # the common two-character given names (about 60 rows): read once, held as a set
        self.pairs = frozenset(r[0] for r in db.execute("SELECT pair FROM pairs"))

    @classmethod
    def open(cls, path: str | os.PathLike | None = None) -> "PinyinIndex":
        path = Path(path) if path is not None else DEFAULT_PATH
        build = (f"`{BUILD_COMMAND}` (or `make setup`)" if path == DEFAULT_PATH
                 else f"`{BUILD_COMMAND} --out {path}`")
        if not path.is_file():
            raise IndexMissing(f"pinyin index {path} is missing: build it with {build}")
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise IndexMissing(f"pinyin index {path} cannot be read ({exc}): rebuild it with {build}") from None
        if row is None or int(row[0]) != FORMAT:
            db.close()
            raise IndexMissing(f"pinyin index {path} is of format {row[0] if row else 'unknown'}, this kiosk reads "
                               f"format {FORMAT}: rebuild it with {build}")
        db.execute("PRAGMA cache_size = -2048")  # 2 MiB of pages: the hot prefixes, not the file
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "PinyinIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cuts(self, letters: str) -> list[Cut]:
        return cuts(normalise(letters), self.syllables, self.starts)

    def candidates(self, letters: str, *, limit: int = 10, offset: int = 0, context: str = "text",
                   learned: Learned | None = None) -> list[Candidate]:
        """Candidates for the typed letters, best first, `limit` of them from `offset` (paging)."""
        if context not in CONTEXTS:
            raise ValueError(f"context must be one of {', '.join(CONTEXTS)}; got {context!r}")
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must not be negative; got limit={limit}, offset={offset}")
        typed = normalise(letters)
        if not typed.strip("'") or limit == 0:
            return []
        need = offset + limit
        out: list[Candidate] = []
        seen: set[str] = set()

        def add(rows, consumed: int) -> None:
            for text in rows:
                if text not in seen and len(out) < need:
                    seen.add(text)
                    out.append(Candidate(text, consumed))

        for c in (learned.for_letters(typed) if learned else []):
            add([c.text], c.consumed)
        for tier in self._tiers(typed, context):
            if len(out) >= need:
                break
            tier(add, need + len(seen))
        return out[offset:need]

    # -- tiers: each is a function (add, n) that offers at most n texts in its order ----------

    def _tiers(self, typed: str, context: str):
        found = cuts(typed, self.syllables, self.starts)
        boost = CONTEXT_TAGS.get(context, ())
        n_all = len(typed)
        bare = typed.replace("'", "")
        tiers = []
        if context == "name":
            # a name field: surnames for the first syllable, dictionary names, then surname +
            # given-name characters (most citizens' names are in no dictionary), then other words
            for cut in found[:1]:
                if len(cut) == 1:
                    tiers.append(lambda add, n, cut=cut: add(self._characters(cut[0], n, context), n_all))
            for cut in found:
                tiers.append(lambda add, n, cut=cut: add(
                    self._same_length(cut, n, boost, exact=True, tagged=True), n_all))
            for cut in found:
                if 2 <= len(cut) <= 3:
                    tiers.append(lambda add, n, cut=cut: add(self._composed_names(cut, n), n_all))
        if context == "text":
            # a name in running text (张三 is in no dictionary) comes after the common words of
            # its reading but before the rare ones (长三)
            for cut in found:
                tiers.append(lambda add, n, cut=cut: add(
                    self._same_length(cut, n, boost, exact=True, least=RARE), n_all))
            for cut in found[:1]:
                if len(cut) == 2:
                    tiers.append(lambda add, n, cut=cut: add(self._composed_names(cut, min(n, 2)), n_all))
        for cut in found:  # words that cover exactly the input
            tiers.append(lambda add, n, cut=cut: add(self._same_length(cut, n, boost, exact=True), n_all))
        for cut in found[:1]:  # a phrase in no dictionary, made of words that are (工作+单位)
            if len(cut) >= 3:
                tiers.append(lambda add, n, cut=cut: add(self._phrase(cut), n_all))
        # a cut with one piece more than the fewest is a reading only when its syllables are
        # whole (xi'an); ending unfinished (zhang'sa'n...) it would offer words nobody meant
        likely = [c for c in found if len(c) == len(found[0]) or c[-1].whole]
        for cut in likely:  # words that finish the last syllable
            tiers.append(lambda add, n, cut=cut: add(self._same_length(cut, n, boost, exact=False), n_all))
        for cut in likely:  # longer words that start with the input
            tiers.append(lambda add, n, cut=cut: add(self._longer(cut, n, boost), n_all))
        if 2 <= len(bare) <= 8:
            if context == "name" and len(bare) <= 3:
                tiers.append(lambda add, n: add(self._composed_initials(bare, n), n_all))
            tiers.append(lambda add, n: add(self._initials(bare, n, boost), n_all))
        first = found[0] if found else longest_cut(typed, self.syllables)
        whole = tuple(p for p in first if p.whole)
        top = len(whole) - 1 if found and len(whole) == len(first) else len(whole)
        for j in range(top, 1, -1):
            part = whole[:j]  # words for the first syllables only, the longest first
            tiers.append(lambda add, n, part=part: add(self._exact(part, n, boost), part[-1].end))
        if first:
            head = first[0]
            tiers.append(lambda add, n: add(self._characters(head, n, context), head.end))
        return tiers

    def _order(self, boost) -> str:
        # (full, word) is unique in the words table: equal scores always come in the same order
        if not boost:
            return "freq DESC, full, word"
        tags = " OR ".join(f"pos LIKE '{t}%'" for t in boost)
        return f"CASE WHEN {tags} THEN freq * {CONTEXT_BOOST} ELSE freq END DESC, full, word"

    def _same_length(self, cut: Cut, n: int, boost, *, exact: bool, tagged: bool = False,
                     least: int = 0) -> list[str]:
        key = "'".join(p.text for p in cut)
        if exact:
            if not cut[-1].whole:
                return []
            only = (" AND (" + " OR ".join(f"pos LIKE '{t}%'" for t in boost) + ")") if tagged else ""
            only += f" AND freq >= {int(least)}" if least else ""
            sql = f"SELECT word FROM words WHERE syl = ? AND full = ?{only} ORDER BY {self._order(boost)} LIMIT ?"
            return [r[0] for r in self._db.execute(sql, (len(cut), key, n))]
        sql = (f"SELECT word FROM words WHERE syl = ? AND full >= ? AND full < ? "
               f"ORDER BY {self._order(boost)} LIMIT ?")
        return [r[0] for r in self._db.execute(sql, (len(cut), key, _upper(key), n))]

    def _phrase(self, cut: Cut) -> list[str]:
        """The likeliest run of dictionary words that reads as the whole cut (what jieba's own
        segmenter does in reverse: most probable path, each word costing -log of its share), or
        nothing when the run would be single characters only."""
        k = len(cut)
        best: list[tuple[float, list[str]] | None] = [None] * (k + 1)
        best[0] = (0.0, [])
        for i in range(k):
            if best[i] is None:
                continue
            for j in range(i + 1, min(k, i + PHRASE_WORD_MOST) + 1):
                key = "'".join(p.text for p in cut[i:j])
                if j == k and not cut[-1].whole:
                    row = self._db.execute("SELECT word, freq FROM words WHERE syl = ? AND full >= ? AND full < ? "
                                           "ORDER BY freq DESC, full, word LIMIT 1",
                                           (j - i, key, _upper(key))).fetchone()
                else:
                    row = self._db.execute("SELECT word, freq FROM words WHERE syl = ? AND full = ? "
                                           "ORDER BY freq DESC, word LIMIT 1", (j - i, key)).fetchone()
                if row is None:
                    continue
                score = best[i][0] + math.log((row[1] + 1) / self.total)
                if best[j] is None or score > best[j][0]:
                    best[j] = (score, best[i][1] + [row[0]])
        if best[k] is None or all(len(w) == 1 for w in best[k][1]):
            return []
        return ["".join(best[k][1])]

    def _longer(self, cut: Cut, n: int, boost) -> list[str]:
        key = "'".join(p.text for p in cut)
        if cut[-1].whole:
            key += "'"  # the next syllable starts here: zhang'san'... not zhang'sang
        # an IN list, not BETWEEN: SQLite then seeks the full range once per length
        sql = (f"SELECT word FROM words WHERE syl IN (?, ?, ?) AND full >= ? AND full < ? "
               f"ORDER BY {self._order(boost)} LIMIT ?")
        k = len(cut)
        return [r[0] for r in self._db.execute(sql, (k + 1, k + 2, k + 3, key, _upper(key), n))]

    def _initials(self, bare: str, n: int, boost) -> list[str]:
        sql = f"SELECT word FROM words WHERE initials = ? ORDER BY {self._order(boost)} LIMIT ?"
        return [r[0] for r in self._db.execute(sql, (bare, n))]

    def _exact(self, part: Cut, n: int, boost) -> list[str]:
        key = "'".join(p.text for p in part)
        sql = f"SELECT word FROM words WHERE syl = ? AND full = ? ORDER BY {self._order(boost)} LIMIT ?"
        return [r[0] for r in self._db.execute(sql, (len(part), key, n))]

    def _characters(self, head: Piece, n: int, context: str) -> list[str]:
        if head.whole:
            where, args = "full = ?", (head.text,)
        else:
            where, args = "full >= ? AND full < ?", (head.text, _upper(head.text))
        out: list[str] = []
        if context == "name":
            out += [ch for ch, _ in self._surnames(where, args, n)]
        out += [r[0] for r in self._db.execute(
            f"SELECT word FROM words WHERE syl = 1 AND {where} ORDER BY freq DESC, full, word LIMIT ?", args + (n,))]
        return out

    def _surnames(self, where: str, args: tuple, most: int) -> list[tuple[str, int]]:
        # one row a surname even when two of its readings start with the letter (蔡 cai, ca)
        return list(self._db.execute(f"SELECT ch, MIN(rank) AS r FROM surnames WHERE {where} GROUP BY ch "
                                     f"ORDER BY r, ch LIMIT ?", args + (most,)))

    def _given(self, piece_where: str, args: tuple, most: int, place: str = "") -> list[tuple[str, int, int, float]]:
        """The likeliest given-name characters for a syllable (or an initial letter): (ch, men's
        count, women's count, share of the place) with place "" for a one-character given name,
        "lead" or "tail" for the first or second of two, ranked by count x that share."""
        if place:
            other = "tail" if place == "lead" else "lead"
            share = f"({place} + {POSITION_PRIOR}.0) / ({place} + {other} + {2 * POSITION_PRIOR}.0)"
        else:
            share = "1.0"
        out: list[tuple[str, int, int, float]] = []
        seen: set[str] = set()
        # twice as many rows: a character two of whose readings start with the letter comes twice
        for ch, male, female, sh in self._db.execute(
                f"SELECT ch, male, female, {share} AS sh FROM given WHERE {piece_where} "
                f"ORDER BY (male + female) * {share} DESC, ch LIMIT ?", args + (2 * most,)):
            if ch not in seen and len(out) < most:
                seen.add(ch)
                out.append((ch, male, female, sh))
        return out

    @staticmethod
    def _piece_where(piece: Piece) -> tuple[str, tuple]:
        if piece.whole:
            return "full = ?", (piece.text,)
        return "full >= ? AND full < ?", (piece.text, _upper(piece.text))

    def _compose(self, surnames, givens: list[list[tuple[str, int, int, float]]], n: int) -> list[str]:
        """Surname x given-name characters. A given name's score is how many real names it is
        expected in, from each character's counts among men's and women's names (ngender): the
        count of a single character; for two, per sex the product of the characters' shares of
        that sex's total, summed over the two sexes (so 秀英, two women's characters, outscores a
        pairing of a man's and a woman's character of the same counts), times the share of each
        character's place (晓 first, 英 second). Divided by the surname's rank + 3; equal
        scores in text order."""
        totals = [max(1, t) for t in self.given_totals]
        combos: list[tuple[str, list[float], float]] = [("", [float(t) for t in totals], 1.0)]
        for options in givens:
            combos = [(text + ch, [p * c / t for p, c, t in zip(per_sex, (male, female), totals)], place * sh)
                      for text, per_sex, place in combos for ch, male, female, sh in options]
        given_scores = {text: sum(per_sex) * place * (PAIR_BOOST if text in self.pairs else 1)
                        for text, per_sex, place in combos}
        scored: dict[str, float] = {}
        for ch, rank in surnames:
            for text, score in given_scores.items():
                scored[ch + text] = max(scored.get(ch + text, 0.0), score / (rank + 3))
        return sorted(scored, key=lambda t: (-scored[t], t))[:n]

    @staticmethod
    def _places(k: int) -> list[str]:
        return [""] if k == 1 else ["lead"] + ["" for _ in range(k - 2)] + ["tail"]

    def _composed_names(self, cut: Cut, n: int) -> list[str]:
        surnames = self._surnames(*self._piece_where(cut[0]), 3) if cut[0].whole else []
        if not surnames:
            return []
        places = self._places(len(cut) - 1)
        wheres = [self._piece_where(p) for p in cut[1:]]
        givens = [self._given(*where, GIVEN_PER_SYLLABLE, place) for where, place in zip(wheres, places)]
        return self._compose(surnames, self._with_pairs(givens, wheres), n)

    def _composed_initials(self, bare: str, n: int) -> list[str]:
        def first(letter: str) -> tuple[str, tuple]:
            return "full >= ? AND full < ?", (letter, _upper(letter))
        surnames = self._surnames(*first(bare[0]), 4)
        places = self._places(len(bare) - 1)
        wheres = [first(c) for c in bare[1:]]
        givens = [self._given(*where, GIVEN_PER_INITIAL, place) for where, place in zip(wheres, places)]
        return self._compose(surnames, self._with_pairs(givens, wheres), n)

    def _with_pairs(self, givens: list[list[tuple[str, int, int, float]]], wheres: list[tuple[str, tuple]]):
        """For a two-character given name, the characters of the common pairs that fit the typed
        pieces joined to each side's options (秀 is not among the eight likeliest x- characters,
        秀英 is among the commonest names)."""
        if len(givens) != 2:
            return givens
        (lead_where, lead_args), (tail_where, tail_args) = wheres
        sql = (f"SELECT pair FROM pairs WHERE {lead_where.replace('full', 'lead')} "
               f"AND {tail_where.replace('full', 'tail')}")
        found = [r[0] for r in self._db.execute(sql, lead_args + tail_args)]
        out = [list(options) for options in givens]
        for side, place in enumerate(("lead", "tail")):
            have = {ch for ch, *_ in out[side]}
            for ch in dict.fromkeys(pair[side] for pair in found if pair[side] not in have):
                row = self._db.execute(
                    f"SELECT male, female, ({place} + {POSITION_PRIOR}.0) / (lead + tail + {2 * POSITION_PRIOR}.0) "
                    f"FROM given WHERE ch = ? ORDER BY male + female DESC LIMIT 1", (ch,)).fetchone()
                if row is not None:
                    out[side].append((ch, *row))
        return out


# -- building the index (needs jieba, pypinyin and ngender; the kiosk's UI never runs this) ---

def _is_han(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in text)


def _jieba_dict() -> Path:
    """jieba's dict.txt, found without importing jieba (its import sets up a tokenizer)."""
    import importlib.util

    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the pinyin index is built from jieba's dictionary: pip install jieba==0.42.1")
    return Path(list(spec.submodule_search_locations)[0]) / "dict.txt"


def _ngender_charfreq() -> Path:
    """ngender's charfreq.csv, found without importing ngender (its import reads the file into a
    gender guesser nobody here needs)."""
    import importlib.util

    spec = importlib.util.find_spec("ngender")
    path = (Path(list(spec.submodule_search_locations)[0]) / "charfreq.csv"
            if spec is not None and spec.submodule_search_locations else None)
    if path is None or not path.is_file():
        raise SystemExit("the pinyin index ranks given names by ngender's charfreq.csv: pip install ngender==0.1.1")
    return path


def _given_counts() -> dict[str, tuple[int, int]]:
    """Each character of charfreq.csv (char,male,female: how many men's and women's given names of
    ngender's corpus use it) with its two counts."""
    import csv

    path = _ngender_charfreq()
    counts: dict[str, tuple[int, int]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        if next(rows, None) != ["char", "male", "female"]:
            raise SystemExit(f"{path}: expected the header char,male,female (ngender 0.1.1)")
        for row in rows:
            if len(row) == 3 and len(row[0]) == 1 and _is_han(row[0]):
                counts[row[0]] = (int(row[1]), int(row[2]))
    return counts


def _faker_given_names() -> Path:
    """Faker's zh_CN person provider, found without importing Faker."""
    import importlib.util

    spec = importlib.util.find_spec("faker")
    path = (Path(list(spec.submodule_search_locations)[0]) / "providers" / "person" / "zh_CN" / "__init__.py"
            if spec is not None and spec.submodule_search_locations else None)
    if path is None or not path.is_file():
        raise SystemExit("the pinyin index takes the common two-character given names from Faker's zh_CN "
                         "person provider: pip install faker==40.54.0")
    return path


def _given_pairs() -> list[str]:
    """The two-character given names of Faker's zh_CN lists of the commonest men's and women's
    given names (first_names_male, first_names_female: 建华, 建国, 秀英, 秀兰, ...), read from the
    source file as data. Its one-character names are left out: ngender's counts rank those."""
    import ast

    path = _faker_given_names()
    pairs: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id in ("first_names_male", "first_names_female")
                and isinstance(node.value, ast.List)):
            pairs += [e.value for e in node.value.elts
                      if isinstance(e, ast.Constant) and isinstance(e.value, str)
                      and len(e.value) == 2 and _is_han(e.value)]
    if len(pairs) < 20:
        raise SystemExit(f"{path}: expected Faker's lists first_names_male and first_names_female "
                         f"(faker==40.54.0), found {len(pairs)} two-character names")
    return list(dict.fromkeys(pairs))


def build(out: str | os.PathLike | None = None) -> dict:
    """Write the index to `out` (beside it first, then renamed into place, so a kiosk never opens a
    half-written file); returns what was written."""
    from pypinyin import Style, lazy_pinyin, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    started = time.perf_counter()
    given_counts = _given_counts()  # first: without ngender the build fails at once, not after seconds
    given_pairs = _given_pairs()    # and without Faker
    out = Path(out) if out is not None else DEFAULT_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)

    @functools.lru_cache(maxsize=None)
    def readings(ch: str) -> tuple[str, ...]:
        return tuple(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])

    syllables = set()
    for cp in pinyin_dict:
        syllables.update(r for r in readings(chr(cp)) if r.isascii() and r.isalpha())
    syllables -= INTERJECTIONS

    rows: dict[tuple[str, str], tuple[int, str]] = {}

    def keep(word: str, sylls: list[str], freq: int, pos: str) -> None:
        full = "'".join(sylls)
        old = rows.get((full, word))
        if old is None or old[0] < freq:
            rows[(full, word)] = (freq, pos)

    # where jieba's three-character person names (a common surname first) put each character of
    # the given name: [first, second]; their counts are of famous and historical people, so they
    # say only where a character stands, never how common it is
    places: dict[str, list[int]] = {}
    stems: list[tuple[str, list[str], int, str]] = []
    with open(_jieba_dict(), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2 or not _is_han(parts[0]):
                continue
            word, freq, pos = parts[0], int(parts[1]), (parts[2] if len(parts) > 2 else "")
            sylls = lazy_pinyin(word, style=Style.NORMAL)
            if len(sylls) != len(word) or any(s not in syllables for s in sylls):
                continue
            keep(word, sylls, freq, pos)
            variants = []
            if pos.startswith(("ns", "nr")) and 2 <= len(word) <= 4:
                # names and places keep old readings pypinyin's phrase table may not (朝阳 chao'yang
                # the district, 曾 zeng the surname): each other reading of one character, rarer
                for i, ch in enumerate(word):
                    for other in readings(ch):
                        if other != sylls[i] and other in syllables:
                            variants.append(sylls[:i] + [other] + sylls[i + 1:])
                for v in variants:
                    keep(word, v, max(1, freq // OTHER_READING_SHARE), pos)
            if pos.startswith("ns") and len(word) >= 3 and word[-1] in PLACE_SUFFIXES:
                # 唐山 is only in the dictionary as 唐山市, 闵行 as 闵行区: the name people write first
                stems.append((word[:-1], sylls[:-1], freq, pos))
                stems.extend((word[:-1], v[:-1], max(1, freq // OTHER_READING_SHARE), pos) for v in variants)
            if len(word) == 1:
                for other in readings(word):
                    if other != sylls[0] and other in syllables:
                        keep(word, [other], max(1, freq // OTHER_READING_SHARE), pos)
            elif pos == "nr" and len(word) == 3 and word[0] in SURNAMES:
                for i, ch in enumerate(word[1:]):
                    places.setdefault(ch, [0, 0])[i] += 1
    have = {w for (_, w) in rows}
    for word, sylls, freq, pos in stems:
        if word not in have:
            keep(word, sylls, freq, pos)
    # every character pypinyin reads, so a rare character of a name can still be typed
    singles = {w for (_, w) in rows if len(w) == 1}
    for cp in pinyin_dict:
        ch = chr(cp)
        if ch in singles or not _is_han(ch):
            continue
        rs = [r for r in readings(ch) if r in syllables]
        for i, r in enumerate(rs):
            keep(ch, [r], 1 if i == 0 else 0, "")

    # the given names' characters: each reading pypinyin knows, the main one with ngender's counts
    # and the others well below, as the words' second readings (a name's 红 is hong, not gong)
    given: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for ch, (male, female) in given_counts.items():
        lead, tail = places.get(ch, (0, 0))
        for i, r in enumerate(x for x in readings(ch) if x in syllables):
            share = 1 if i == 0 else OTHER_READING_SHARE
            if (male + female) // share:
                given[(r, ch)] = (male // share, female // share, lead, tail)

    try:
        pairs = [("'".join(lazy_pinyin(pair, style=Style.NORMAL)), pair) for pair in given_pairs]
        _write(tmp, syllables, rows, given, (sum(m for m, _ in given_counts.values()),
                                             sum(f for _, f in given_counts.values())), readings, pairs)
    except BaseException:
        tmp.unlink(missing_ok=True)  # an interrupted build leaves nothing behind, not even beside
        raise
    os.replace(tmp, out)
    return {"path": str(out), "words": len(rows), "syllables": len(syllables), "given": len(given),
            "pairs": len(given_pairs),
            "bytes": out.stat().st_size, "seconds": round(time.perf_counter() - started, 1)}


def _write(tmp: Path, syllables: set[str], rows: dict, given: dict, given_totals: tuple[int, int],
           readings, pairs: list[tuple[str, str]]) -> None:
    db = sqlite3.connect(tmp)
    try:
        db.executescript("""
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE syllables (syllable TEXT PRIMARY KEY) WITHOUT ROWID;
            -- full: syllables joined by ' (zhang'san), so a prefix never crosses a syllable wrongly;
            -- clustered by (syl, full) so each tier reads one narrow range
            CREATE TABLE words (syl INTEGER NOT NULL, full TEXT NOT NULL, word TEXT NOT NULL,
                                initials TEXT NOT NULL, freq INTEGER NOT NULL, pos TEXT NOT NULL,
                                PRIMARY KEY (syl, full, word)) WITHOUT ROWID;
            CREATE TABLE surnames (full TEXT NOT NULL, ch TEXT NOT NULL, rank INTEGER NOT NULL,
                                   PRIMARY KEY (full, ch)) WITHOUT ROWID;
            -- male, female: given names of men and of women that use the character (ngender);
            -- lead, tail: jieba's person names with it first or second of two given characters
            CREATE TABLE given (full TEXT NOT NULL, ch TEXT NOT NULL, male INTEGER NOT NULL,
                                female INTEGER NOT NULL, lead INTEGER NOT NULL, tail INTEGER NOT NULL,
                                PRIMARY KEY (full, ch)) WITHOUT ROWID;
            -- the common two-character given names (Faker's zh_CN lists), by each character's reading
            CREATE TABLE pairs (lead TEXT NOT NULL, tail TEXT NOT NULL, pair TEXT NOT NULL,
                                PRIMARY KEY (lead, tail, pair)) WITHOUT ROWID;
        """)
        db.executemany("INSERT INTO syllables VALUES (?)", [(s,) for s in sorted(syllables)])
        db.executemany("INSERT INTO words VALUES (?, ?, ?, ?, ?, ?)",
                       sorted((full.count("'") + 1, full, word, "".join(s[0] for s in full.split("'")), freq, pos)
                              for (full, word), (freq, pos) in rows.items()))
        db.execute("CREATE INDEX words_initials ON words (initials, freq)")
        db.executemany("INSERT OR IGNORE INTO surnames VALUES (?, ?, ?)",
                       [(r, ch, rank) for rank, ch in enumerate(SURNAMES) for r in readings(ch) if r in syllables])
        db.executemany("INSERT INTO given VALUES (?, ?, ?, ?, ?, ?)",
                       [(s, ch, *v) for (s, ch), v in sorted(given.items())])
        db.executemany("INSERT OR IGNORE INTO pairs VALUES (?, ?, ?)",
                       [(*full.split("'"), pair) for full, pair in pairs])
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [("format", str(FORMAT)),
                        ("source", "jieba dict.txt + pypinyin + ngender charfreq.csv + Faker zh_CN given names"),
                        ("words", str(len(rows))),
                        ("total_freq", str(sum(f for f, _ in rows.values()))),
                        ("given_male", str(given_totals[0])), ("given_female", str(given_totals[1]))])
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kiosk.core.input.pinyin",
                                     description="Build the pinyin candidate index of the on-screen keyboard.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the index from jieba's dictionary, pypinyin's readings and "
                                      "ngender's given-name characters")
    b.add_argument("--out", metavar="PATH", default=None, help=f"where to write it (default {DEFAULT_PATH})")
    args = parser.parse_args(argv)
    info = build(args.out)
    print(f"pinyin index {info['path']}: {info['words']} entries, {info['syllables']} syllables, "
          f"{info['given']} given-name readings, {info['pairs']} common given names, {info['bytes'] / 1e6:.1f} MB, built in {info['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
