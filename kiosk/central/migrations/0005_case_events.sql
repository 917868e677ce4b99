-- Case progress (issue 18, docs/services.md): the steps the approval system reports for a case, the
-- promised deadline, and the look-up of a holder's cases by the keyed hash of the ID number.

-- The promised deadline (a date in the hall's calendar) and the acceptance; both optional, as the
-- approval system gives them. `utc_offset_s` is the hall's clock, from the latest time the approval
-- system sent with an offset (the acceptance or an event), for the date a deadline ends on.
ALTER TABLE cases ADD COLUMN promised_by TEXT;          -- YYYY-MM-DD; NULL: none promised
ALTER TABLE cases ADD COLUMN accepted_at REAL;          -- unix seconds; NULL: not given
ALTER TABLE cases ADD COLUMN utc_offset_s INTEGER;      -- NULL: not known yet (UTC+8 is assumed)

CREATE INDEX cases_by_holder ON cases (holder_hash, created_at);

-- One row per event the approval system reported, idempotent on its own event id within the case.
-- Nothing personal: a step name, a status, a time, a department and a short note (refused when it
-- looks like it holds an ID number or a mobile number).
CREATE TABLE case_events (
    case_number    TEXT NOT NULL,               -- upper case
    event_id       TEXT NOT NULL,               -- the approval system's id of the event
    step           TEXT NOT NULL,               -- e.g. 受理, 审查, 决定, 制证
    status         TEXT NOT NULL,               -- done | current
    at             REAL NOT NULL,               -- unix seconds
    utc_offset_s   INTEGER NOT NULL,            -- the offset `at` was sent with
    department     TEXT,
    note           TEXT,
    final          INTEGER NOT NULL DEFAULT 0,  -- 1: this step, done, concludes the case (办结)
    body_hash      TEXT NOT NULL,               -- SHA-256 of the event as posted: a retry or a conflict
    posted_by      TEXT NOT NULL,
    received_at    REAL NOT NULL,
    PRIMARY KEY (case_number, event_id)
);
CREATE INDEX case_events_by_case ON case_events (case_number, at);
