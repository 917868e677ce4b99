-- The guide catalog (DESIGN.md section 6) as last imported. Replaced whole, in
-- one transaction, by `kiosk guides import`, the agent's catalog pull or the
-- first-start seed: a reader sees the old catalog or the new one, never a mix.

-- One row once a catalog has been imported; none on a fresh kiosk.
CREATE TABLE catalog_meta (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1) DEFAULT 1,
    version     TEXT NOT NULL,
    sha256      TEXT NOT NULL,          -- of the canonical item list: the search index is keyed by it
    items       INTEGER NOT NULL,
    enabled     INTEGER NOT NULL,       -- of which kiosk_enabled
    source      TEXT NOT NULL,          -- where it came from: a file path, "central", "seed:PATH"
    imported_at REAL NOT NULL
);

CREATE TABLE catalog_items (
    code          TEXT PRIMARY KEY,
    position      INTEGER NOT NULL UNIQUE,    -- order in the document: the catalog author's order
    name          TEXT NOT NULL,
    department    TEXT NOT NULL,
    audience      TEXT NOT NULL,
    kiosk_enabled INTEGER NOT NULL CHECK (kiosk_enabled IN (0, 1)),
    terms         TEXT NOT NULL,              -- JSON {themes, keywords, materials}: what search indexes
    item          TEXT NOT NULL               -- the whole item as JSON, validated on import
);

CREATE INDEX catalog_items_department ON catalog_items (department, kiosk_enabled, position);

CREATE TABLE catalog_item_themes (
    theme TEXT NOT NULL,
    code  TEXT NOT NULL REFERENCES catalog_items (code) ON DELETE CASCADE,
    PRIMARY KEY (theme, code)
) WITHOUT ROWID;
