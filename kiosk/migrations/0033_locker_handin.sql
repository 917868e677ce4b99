-- Materials handed in through the locker (补交材料 / 容缺受理): a citizen puts papers into a door
-- for the staff of their case, who collect them with Recall.
--
-- locker_items tells a certificate from handed-in materials (`kind`) and keeps a hand-in's receipt
-- number; a hand-in has no staff depositor and no pickup code, so `staff_id` may be NULL for it.
-- locker_intents takes the kind 'handin' (the intent committed before the door opens for one).
--
-- SQLite cannot alter a CHECK or a NOT NULL, so both tables are rebuilt, rows and indexes kept. The
-- store migrates inside one transaction with foreign keys on (PRAGMA foreign_keys cannot change
-- there), so no reference is ever left dangling: the new items table is made and filled first, the
-- new intents table refers to it, the old tables go (intents first), and the renames carry the
-- reference over to the final name.
CREATE TABLE locker_items_new (
    id            INTEGER PRIMARY KEY,
    door          INTEGER NOT NULL CHECK (door >= 1),
    case_number   TEXT NOT NULL,                  -- 办件编号, not personal data
    size          TEXT NOT NULL CHECK (size IN ('small', 'medium', 'large')),
    code_hash     TEXT,                           -- keyed hash of the pickup code; NULL while depositing and for a hand-in
    holder_hash   TEXT,                           -- keyed hash of the holder's ID number; NULL: no ID card needed (read)
    state         TEXT NOT NULL CHECK (state IN ('depositing', 'held', 'interrupted', 'collected', 'recalled')),
    staff_id      TEXT,                           -- who deposited it; NULL for a hand-in
    created_at    REAL NOT NULL,                  -- unix seconds
    deposited_at  REAL,                           -- door closed on it (a certificate: code issued; a hand-in: recorded)
    due_at        REAL,                           -- overdue from then on; NULL for a hand-in
    ended_at      REAL,                           -- collected or recalled (a hand-in: collected by staff)
    unconfirmed   INTEGER NOT NULL DEFAULT 0,     -- 1: ended by the restart reconciliation, not seen to finish
    item_name     TEXT,                           -- 0031: from the case on the platform, found at the deposit
    hold_days     INTEGER CHECK (hold_days IS NULL OR hold_days BETWEEN 1 AND 365),   -- 0031: the case's own
    kind          TEXT NOT NULL DEFAULT 'certificate' CHECK (kind IN ('certificate', 'handin')),
    receipt_no    TEXT,                           -- a hand-in's receipt number, as printed (K7Q2M-9X4A1)
    CHECK (kind = 'handin' OR staff_id IS NOT NULL),
    CHECK (kind = 'certificate' OR (staff_id IS NULL AND code_hash IS NULL AND receipt_no IS NOT NULL))
);
INSERT INTO locker_items_new (id, door, case_number, size, code_hash, holder_hash, state, staff_id, created_at,
                              deposited_at, due_at, ended_at, unconfirmed, item_name, hold_days)
    SELECT id, door, case_number, size, code_hash, holder_hash, state, staff_id, created_at,
           deposited_at, due_at, ended_at, unconfirmed, item_name, hold_days FROM locker_items;

CREATE TABLE locker_intents_new (
    item_id     INTEGER PRIMARY KEY REFERENCES locker_items_new (id),
    kind        TEXT NOT NULL CHECK (kind IN ('pickup', 'recall', 'handin')),
    door        INTEGER NOT NULL,
    via         TEXT,                             -- pickup: keypad | qr
    id_checked  INTEGER NOT NULL DEFAULT 0,
    staff_id    TEXT,                             -- recall: who
    created_at  REAL NOT NULL
);
INSERT INTO locker_intents_new (item_id, kind, door, via, id_checked, staff_id, created_at)
    SELECT item_id, kind, door, via, id_checked, staff_id, created_at FROM locker_intents;

DROP TABLE locker_intents;
DROP TABLE locker_items;
ALTER TABLE locker_items_new RENAME TO locker_items;
ALTER TABLE locker_intents_new RENAME TO locker_intents;

-- a door holds one item at a time; a live code is unique; so is a receipt number; a code typed again
-- after its item ended is told apart from a wrong one (0031)
CREATE UNIQUE INDEX locker_items_one_per_door ON locker_items (door)
    WHERE state IN ('depositing', 'held', 'interrupted');
CREATE UNIQUE INDEX locker_items_live_code ON locker_items (code_hash) WHERE state = 'held';
CREATE INDEX locker_items_by_state ON locker_items (state, due_at);
CREATE INDEX locker_items_ended_code ON locker_items (code_hash) WHERE state IN ('collected', 'recalled');
CREATE UNIQUE INDEX locker_items_receipt ON locker_items (receipt_no) WHERE receipt_no IS NOT NULL;
