-- The certificate pickup locker: what each door holds, the door operations
-- under way (so a power cut between unlocking a door and recording what
-- happened is reconstructed on restart), and the wrong-code lockout.
-- Pickup codes and holders are kept only as keyed hashes (kiosk.core.privacy).
CREATE TABLE locker_items (
    id            INTEGER PRIMARY KEY,
    door          INTEGER NOT NULL CHECK (door >= 1),
    case_number   TEXT NOT NULL,                  -- 办件编号, not personal data
    size          TEXT NOT NULL CHECK (size IN ('small', 'medium', 'large')),
    code_hash     TEXT,                           -- keyed hash of the pickup code; NULL while depositing
    holder_hash   TEXT,                           -- keyed hash of the holder's ID number; NULL: no ID card needed
    state         TEXT NOT NULL CHECK (state IN ('depositing', 'held', 'interrupted', 'collected', 'recalled')),
    staff_id      TEXT NOT NULL,                  -- who deposited it
    created_at    REAL NOT NULL,                  -- unix seconds
    deposited_at  REAL,                           -- door closed on it, code issued
    due_at        REAL,                           -- overdue from then on
    ended_at      REAL,                           -- collected or recalled
    unconfirmed   INTEGER NOT NULL DEFAULT 0      -- 1: ended by the restart reconciliation, not seen to finish
);
-- a door holds one item at a time; a live code is unique
CREATE UNIQUE INDEX locker_items_one_per_door ON locker_items (door)
    WHERE state IN ('depositing', 'held', 'interrupted');
CREATE UNIQUE INDEX locker_items_live_code ON locker_items (code_hash) WHERE state = 'held';
CREATE INDEX locker_items_by_state ON locker_items (state, due_at);

-- written (and committed) before a door is unlocked for a pickup or a recall,
-- removed in the same transaction that records the outcome
CREATE TABLE locker_intents (
    item_id     INTEGER PRIMARY KEY REFERENCES locker_items (id),
    kind        TEXT NOT NULL CHECK (kind IN ('pickup', 'recall')),
    door        INTEGER NOT NULL,
    via         TEXT,                             -- pickup: keypad | qr
    id_checked  INTEGER NOT NULL DEFAULT 0,
    staff_id    TEXT,                             -- recall: who
    created_at  REAL NOT NULL
);

-- wrong pickup codes on this kiosk: survives a restart, so pulling the plug does not reset it
CREATE TABLE locker_lockout (
    scope        TEXT PRIMARY KEY,                -- 'pickup'
    wrong        INTEGER NOT NULL,                -- wrong codes since the last good one
    locked_until REAL NOT NULL                    -- unix seconds
);
