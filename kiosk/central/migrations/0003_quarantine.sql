-- Rows a platform before issue 24 stored although it cannot render them (a non-finite number, an
-- integer past 64 bits): moved here by kiosk/central/quarantine.py so listings work again, and kept
-- whole for an operator to look into.
CREATE TABLE quarantine (
    rowid           INTEGER PRIMARY KEY,
    source_table    TEXT NOT NULL,
    source_key      TEXT NOT NULL,               -- the row's id (transactions) or rowid
    row_json        TEXT NOT NULL,               -- the row as it was, as JSON text (non-finite numbers spelled out)
    reason          TEXT NOT NULL,
    quarantined_at  REAL NOT NULL
);
