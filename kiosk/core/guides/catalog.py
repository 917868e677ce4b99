"""The kiosk's guide catalog: imported whole, then read by theme, department and code.

`GuideCatalog(store).replace(data)` validates every item (kiosk/wire/catalog.py)
before it writes anything, then swaps the whole catalog in one transaction: a
bad document raises `CatalogError` naming the item code and the field, and the
kiosk keeps the catalog it had. The agent's catalog pull, `kiosk guides import`
and the first-start seed (`ensure_seeded`) all come through here.

Every query a citizen's screen makes sees only `kiosk_enabled` items; `get()`
reaches a disabled item only when asked to (for staff tools).
"""
from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.store import PerThread, explain, transaction
from kiosk.wire.catalog import Catalog, CatalogError, Item, load_catalog

log = logging.getLogger(__name__)

__all__ = ["CatalogError", "CatalogInfo", "GuideCatalog", "Group", "IndexedItem", "ItemSummary"]


@dataclass(frozen=True)
class CatalogInfo:
    """The catalog in the store: which version, how many items, where it came from."""
    version: str
    sha256: str
    items: int
    enabled: int
    source: str
    imported_at: float

    def __str__(self) -> str:  # the agent's catalog pull records `str(replace(...))` as the version
        return self.version


@dataclass(frozen=True)
class ItemSummary:
    """One line of a list of services: enough to show a tile or a row, no parsing of the whole item."""
    code: str
    name: str
    department: str
    audience: str


@dataclass(frozen=True)
class Group:
    """A theme or a department, with how many enabled services it has."""
    name: str
    count: int


@dataclass(frozen=True)
class IndexedItem:
    """What the search index reads of an enabled item."""
    code: str
    name: str
    department: str
    themes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    position: int = 0


def canonical_sha256(catalog: Catalog) -> str:
    """A digest of the catalog's content, independent of the file's spacing and key order."""
    # the model serialises its fields in a fixed order, whatever the order in the file
    return hashlib.sha256(catalog.model_dump_json().encode("utf-8")).hexdigest()


def _terms(item: Item) -> str:
    return json.dumps({"themes": item.themes, "keywords": item.keywords,
                       "materials": [m.name for m in item.materials]}, ensure_ascii=False)


def _readings(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> list[tuple[str, str]]:
    """The pinyin readings of what the search index will read, worked out here, once per import, so
    that the UI builds its index without loading pypinyin (kiosk/core/guides/search.py)."""
    from kiosk.core.guides.search import stored_readings  # search and rapidfuzz: only where a catalog is imported

    items = [IndexedItem(i.code, i.name, i.department, tuple(i.themes), tuple(i.keywords),
                         tuple(m.name for m in i.materials), pos)
             for pos, i in enumerate(catalog.items) if i.kiosk_enabled]
    return sorted(stored_readings(items, progress).items())


class GuideCatalog:
    """The guide catalog held in the kiosk's database (kiosk/migrations/0020_catalog.sql)."""

    def __init__(self, store, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock
        self._conn: PerThread[sqlite3.Connection] = PerThread(store.connect)   # SQLite: one per thread

    def close(self) -> None:
        """This thread's connection, closed."""
        conn = self._conn.take()
        if conn is not None:
            conn.close()

    # -- import ----------------------------------------------------------------------------------

    def replace(self, data: bytes | str | dict | Catalog, source: str = "import",
                progress: Callable[[int, int], None] | None = None) -> CatalogInfo:
        """Validate the whole document, then replace the catalog in one transaction; `progress(done, total)`
        hears how many of its texts have their search readings (the slow part: pypinyin).

        Raises CatalogError (naming item code and field) before anything is written;
        a database failure rolls back and raises StoreError. Either way the old catalog stays."""
        return self._replace(load_catalog(data), source, only_if_empty=False, progress=progress)

    def _replace(self, catalog: Catalog, source: str, only_if_empty: bool,
                 with_readings: bool = True, progress: Callable[[int, int], None] | None = None) -> CatalogInfo | None:
        info = CatalogInfo(catalog.version, canonical_sha256(catalog), len(catalog.items),
                           sum(1 for i in catalog.items if i.kiosk_enabled), source, self.clock())
        rows = [(i.code, pos, i.name, i.department, i.audience, int(i.kiosk_enabled), _terms(i),
                 i.model_dump_json(exclude_none=True)) for pos, i in enumerate(catalog.items)]
        themes = [(theme, i.code) for i in catalog.items for theme in dict.fromkeys(i.themes)]
        readings = _readings(catalog, progress) if with_readings else []
        conn = self._conn()
        try:
            with transaction(conn):
                # checked inside the write lock: the UI and the agent may both seed on first start
                if only_if_empty and conn.execute("SELECT 1 FROM catalog_meta").fetchone():
                    return None
                conn.execute("DELETE FROM catalog_item_themes")
                conn.execute("DELETE FROM catalog_items")
                conn.executemany("INSERT INTO catalog_items (code, position, name, department, audience, "
                                 "kiosk_enabled, terms, item) VALUES (?,?,?,?,?,?,?,?)", rows)
                conn.executemany("INSERT INTO catalog_item_themes (theme, code) VALUES (?, ?)", themes)
                conn.execute("DELETE FROM catalog_readings")
                conn.executemany("INSERT INTO catalog_readings (text, readings) VALUES (?, ?)", readings)
                conn.execute("INSERT OR REPLACE INTO catalog_meta (singleton, version, sha256, items, enabled, "
                             "source, imported_at) VALUES (1, ?, ?, ?, ?, ?, ?)",
                             (info.version, info.sha256, info.items, info.enabled, info.source, info.imported_at))
        except sqlite3.Error as exc:
            raise explain(exc, getattr(self.store, "path", "database")) from None
        return info

    def ensure_seeded(self, settings, with_readings: bool = True,
                      progress: Callable[[int, int], None] | None = None) -> CatalogInfo | None:
        """Import `[guides] seed_file` when this kiosk has no catalog yet; returns what was imported.

        A kiosk that has a catalog (from an import or the platform) keeps it. A
        missing or bad seed file raises CatalogError naming the file. The UI seeds
        without the search readings (they take pypinyin and seconds); the agent
        stores them at its start (`ensure_readings`), as `kiosk guides seed` does."""
        if self.info() is not None or not settings.guides.seed_file:
            return None
        path = settings.resolve(settings.guides.seed_file)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CatalogError([f"{path}: the seed catalog cannot be read ({exc.strerror}); "
                                f"fix [guides] seed_file in {settings.source}"]) from None
        try:
            catalog = load_catalog(data)
        except CatalogError as exc:
            raise CatalogError([f"{path}: {p}" for p in exc.problems]) from None
        info = self._replace(catalog, f"seed:{path}", only_if_empty=True, with_readings=with_readings,
                             progress=progress)
        if info:
            log.info("guide catalog %s seeded from %s: %d items, %d shown", info.version, path, info.items,
                     info.enabled)
        return info

    def ensure_readings(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Store the search readings of a catalog that has none (imported before they were stored);
        returns how many texts were read. Nothing to do for a catalog imported since."""
        from kiosk.core.guides.search import stored_readings

        conn = self._conn()
        stamp = self.stamp()
        if stamp is None or conn.execute("SELECT 1 FROM catalog_readings LIMIT 1").fetchone():
            return 0
        rows = sorted(stored_readings(self.indexed_items(), progress).items())
        try:
            with transaction(conn):
                if self.stamp() != stamp:  # replaced meanwhile, with readings of its own
                    return 0
                conn.execute("DELETE FROM catalog_readings")
                conn.executemany("INSERT INTO catalog_readings (text, readings) VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            raise explain(exc, getattr(self.store, "path", "database")) from None
        log.info("guide catalog %s: stored the pinyin readings of %d texts", self.version(), len(rows))
        return len(rows)

    # -- reading ---------------------------------------------------------------------------------

    def info(self) -> CatalogInfo | None:
        row = self._conn().execute("SELECT version, sha256, items, enabled, source, imported_at "
                                   "FROM catalog_meta").fetchone()
        return CatalogInfo(*row) if row else None

    def version(self) -> str | None:
        row = self._conn().execute("SELECT version FROM catalog_meta").fetchone()
        return row[0] if row else None

    def stamp(self) -> str | None:
        """Changes whenever the catalog's content does (what a cached search index is keyed by)."""
        row = self._conn().execute("SELECT sha256 FROM catalog_meta").fetchone()
        return row[0] if row else None

    def items(self, theme: str | None = None, department: str | None = None) -> list[ItemSummary]:
        """Enabled items in the catalog's order, optionally of one theme and/or one department."""
        sql = "SELECT i.code, i.name, i.department, i.audience FROM catalog_items i"
        where, args = ["i.kiosk_enabled = 1"], []
        if theme is not None:
            sql += " JOIN catalog_item_themes t ON t.code = i.code AND t.theme = ?"
            args.append(theme)
        if department is not None:
            where.append("i.department = ?")
            args.append(department)
        sql += " WHERE " + " AND ".join(where) + " ORDER BY i.position"
        return [ItemSummary(*r) for r in self._conn().execute(sql, args)]

    def by_theme(self, theme: str) -> list[ItemSummary]:
        return self.items(theme=theme)

    def by_department(self, department: str) -> list[ItemSummary]:
        return self.items(department=department)

    def themes(self) -> list[Group]:
        """Themes with enabled items, in the order they first appear in the catalog."""
        rows = self._conn().execute(
            "SELECT t.theme, COUNT(*), MIN(i.position) AS first FROM catalog_item_themes t "
            "JOIN catalog_items i ON i.code = t.code WHERE i.kiosk_enabled = 1 "
            "GROUP BY t.theme ORDER BY first, t.theme")
        return [Group(r[0], r[1]) for r in rows]

    def departments(self) -> list[Group]:
        """Departments with enabled items, in the order they first appear in the catalog."""
        rows = self._conn().execute(
            "SELECT department, COUNT(*), MIN(position) AS first FROM catalog_items WHERE kiosk_enabled = 1 "
            "GROUP BY department ORDER BY first, department")
        return [Group(r[0], r[1]) for r in rows]

    def get(self, code: str, include_disabled: bool = False) -> Item | None:
        """The whole item; a disabled one only with include_disabled (never for a citizen's screen)."""
        row = self._conn().execute("SELECT item, kiosk_enabled FROM catalog_items WHERE code = ?",
                                   (code,)).fetchone()
        if row is None or not (row[1] or include_disabled):
            return None
        return Item.model_validate_json(row[0])

    def readings(self) -> dict[str, str]:
        """{normalised text: its pinyin readings}, stored with the catalog at import."""
        return dict(self._conn().execute("SELECT text, readings FROM catalog_readings"))

    def indexed_items(self) -> list[IndexedItem]:
        """The enabled items as the search index reads them, in the catalog's order."""
        out = []
        for code, name, dept, terms, pos in self._conn().execute(
                "SELECT code, name, department, terms, position FROM catalog_items "
                "WHERE kiosk_enabled = 1 ORDER BY position"):
            t = json.loads(terms)
            out.append(IndexedItem(code, name, dept, tuple(t["themes"]), tuple(t["keywords"]),
                                   tuple(t["materials"]), pos))
        return out
