-- Small facts the agent keeps between runs: the catalog ETag, the last successful sync.
CREATE TABLE sync_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL
);
