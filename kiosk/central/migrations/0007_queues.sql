-- Queue tickets and appointment check-in (issue 18; docs/services.md): the reference platform's demo queue
-- system (kiosk/central/queues.py). A real hall plugs its own queue system in behind the same interface;
-- these tables are then unused.

-- A hall: its business types are served at its windows, its kiosks issue its tickets.
CREATE TABLE halls (
    hall              TEXT PRIMARY KEY,          -- the code in /api/v1/halls/{hall}: a-z, 0-9, '-'
    name              TEXT NOT NULL,
    utc_offset        TEXT NOT NULL,             -- +08:00: the hall's clock, for opening hours and days
    checkin_early_min INTEGER NOT NULL,          -- an appointment checks in from this long before its slot
    checkin_late_min  INTEGER NOT NULL,          -- ... until this long after its slot ends
    offline_prefixes  TEXT NOT NULL,             -- JSON list: number prefixes only the kiosks use, offline
    updated_at        REAL NOT NULL
);

-- Which hall a kiosk stands in (one each): a kiosk reads and issues only its own hall's tickets.
CREATE TABLE hall_kiosks (
    kiosk_id  TEXT PRIMARY KEY,
    hall      TEXT NOT NULL REFERENCES halls (hall) ON DELETE CASCADE
);

CREATE TABLE businesses (
    hall                TEXT NOT NULL REFERENCES halls (hall) ON DELETE CASCADE,
    code                TEXT NOT NULL,
    name                TEXT NOT NULL,
    prefix              TEXT NOT NULL,           -- A: its numbers are A001, A002, ... each day
    windows             INTEGER NOT NULL,
    minutes_per_ticket  REAL NOT NULL,           -- at one window: how fast the demo queue advances
    hours               TEXT NOT NULL,           -- JSON {"mon": ["08:30-12:00", ...], ...}
    closed_dates        TEXT NOT NULL,           -- JSON ["2026-10-01", ...]
    position            INTEGER NOT NULL,        -- the order the kiosk lists them in
    PRIMARY KEY (hall, code),
    UNIQUE (hall, prefix)
);

-- One business's queue on one day: the next number, and when a window is next free (the demo's advance).
CREATE TABLE queue_days (
    hall          TEXT NOT NULL,
    business      TEXT NOT NULL,
    day           TEXT NOT NULL,                 -- YYYY-MM-DD in the hall's clock
    next_number   INTEGER NOT NULL,
    next_free_at  REAL,                          -- unix seconds; NULL: a window is free
    PRIMARY KEY (hall, business, day)
);

-- Every ticket, issued here or by a kiosk offline (reconciled from its `ticket` transaction). A number is
-- issued once per hall and day: the primary key says so.
CREATE TABLE tickets (
    hall             TEXT NOT NULL,
    day              TEXT NOT NULL,
    number           TEXT NOT NULL,
    business         TEXT NOT NULL,
    kiosk_id         TEXT NOT NULL,
    request_id       TEXT NOT NULL,              -- the kiosk's UUID: the same request, the same ticket
    priority         INTEGER NOT NULL,
    offline          INTEGER NOT NULL,           -- 1: a number of the kiosk's own block
    holder_hash      TEXT,                       -- keyed hash of the ID card read, for the window
    appointment      TEXT,
    waiting_before   INTEGER NOT NULL,
    estimated_wait_min INTEGER NOT NULL,
    issued_at        REAL NOT NULL,              -- unix seconds; the queue's order
    state            TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'lapsed', 'superseded')),
    called_at        REAL,
    transaction_id   TEXT,                       -- the kiosk's `ticket` transaction, once it arrived
    PRIMARY KEY (hall, day, number)
);
-- a request has one ticket; a number issued here whose answer never reached the kiosk is 'superseded' by
-- the kiosk's offline number for the same request (docs/services.md)
CREATE UNIQUE INDEX tickets_by_request ON tickets (kiosk_id, request_id) WHERE state != 'superseded';
CREATE INDEX tickets_waiting ON tickets (hall, business, day, state, issued_at);

-- An offline ticket whose number the hall already had that day: two kiosks configured with overlapping
-- blocks. Kept for an operator (and logged); the citizen's paper ticket is honoured at the window.
CREATE TABLE ticket_clashes (
    transaction_id  TEXT PRIMARY KEY,
    kiosk_id        TEXT NOT NULL,
    hall            TEXT NOT NULL,
    day             TEXT NOT NULL,
    number          TEXT NOT NULL,
    received_at     REAL NOT NULL
);

CREATE TABLE appointments (
    code          TEXT PRIMARY KEY,              -- upper case, what the citizen types or scans
    hall          TEXT NOT NULL REFERENCES halls (hall) ON DELETE CASCADE,
    business      TEXT NOT NULL,
    holder_hash   TEXT,                          -- keyed hash of the applicant's ID number
    day           TEXT NOT NULL,                 -- YYYY-MM-DD
    slot_start    TEXT NOT NULL,                 -- HH:MM
    slot_end      TEXT NOT NULL,
    ticket        TEXT,                          -- the number issued at check-in
    checked_in_at REAL
);
CREATE INDEX appointments_by_holder ON appointments (hall, holder_hash, day);

-- The demo queue's own clock: the platform's clock plus this offset (`kiosk central queue-clock`), so a
-- demo or a test can open the hall at 09:00 on a Monday and let the queue advance, without touching the
-- clock that signatures are checked against.
CREATE TABLE queue_clock (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    offset_s  REAL NOT NULL
);
