-- The outbox takes every transaction kind of the contract (DESIGN.md section 5): the services that
-- land later (`form`, `ticket`, `handin`, `help`) beside the first ones. kiosk/sync/outbox.py checks
-- each kind against kiosk/wire/transactions.py KINDS before it writes; this CHECK keeps anything
-- else out of the table.
--
-- SQLite cannot alter a CHECK, so the table is rebuilt with its rows, its index and its
-- AUTOINCREMENT high-water mark: a sequence number handed out once (even to a row pruned since) is
-- never handed out again.
CREATE TABLE outbox_new (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,            -- uuid4, the idempotency key
    kind        TEXT NOT NULL CHECK (kind IN ('pickup', 'deposit', 'recall', 'print', 'payment', 'refund',
                                              'rating', 'alarm', 'probe', 'form', 'ticket', 'handin', 'help')),
    body        TEXT NOT NULL,                   -- JSON object (never pickle)
    occurred_at TEXT NOT NULL,                   -- RFC 3339, local time with offset
    boot_id     TEXT,
    uptime_s    REAL,
    created_at  REAL NOT NULL,                   -- unix seconds, for ages
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'acked', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try_at REAL NOT NULL DEFAULT 0,         -- unix seconds
    last_error  TEXT,
    acked_at    REAL,
    server_failures   INTEGER NOT NULL DEFAULT 0,
    isolated_failures INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_new (seq, id, kind, body, occurred_at, boot_id, uptime_s, created_at, state, attempts,
                        next_try_at, last_error, acked_at, server_failures, isolated_failures)
    SELECT seq, id, kind, body, occurred_at, boot_id, uptime_s, created_at, state, attempts,
           next_try_at, last_error, acked_at, server_failures, isolated_failures FROM outbox;
-- the high-water mark: the old table's, where it is above what the copied rows set
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'outbox_new', seq FROM sqlite_sequence
    WHERE name = 'outbox' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox_new');
UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence WHERE name = 'outbox')
    WHERE name = 'outbox_new' AND seq < (SELECT seq FROM sqlite_sequence WHERE name = 'outbox');
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_by_state ON outbox (state, seq);
