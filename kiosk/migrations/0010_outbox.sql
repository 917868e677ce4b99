-- The outbox: every completed transaction, recorded in the same SQLite
-- transaction as the business change it belongs to, until the central platform
-- has acknowledged it. seq is the AUTOINCREMENT rowid, so a number is never
-- handed out twice, even after acknowledged rows are pruned.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,            -- uuid4, the idempotency key
    kind        TEXT NOT NULL CHECK (kind IN ('pickup', 'deposit', 'recall', 'print', 'payment',
                                              'refund', 'rating', 'alarm', 'probe')),
    body        TEXT NOT NULL,                   -- JSON object (never pickle)
    occurred_at TEXT NOT NULL,                   -- RFC 3339, local time with offset
    boot_id     TEXT,
    uptime_s    REAL,
    created_at  REAL NOT NULL,                   -- unix seconds, for ages
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'acked', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try_at REAL NOT NULL DEFAULT 0,         -- unix seconds
    last_error  TEXT,
    acked_at    REAL
);
CREATE INDEX outbox_by_state ON outbox (state, seq);
