-- Queue tickets (issue 18; kiosk/core/tickets.py). Every ticket this kiosk printed, and the counter of its
-- own block of numbers for the hours the platform cannot be reached: incremented in the same commit as the
-- ticket's row and its `ticket` transaction in the outbox, so a crash or a restart never reuses a number.

-- The next number of the offline block, per day of the hall (numbers start again each day).
CREATE TABLE ticket_block (
    day          TEXT NOT NULL,                  -- YYYY-MM-DD, the hall's day
    prefix       TEXT NOT NULL,                  -- [tickets] offline_prefix when the number was issued
    next_number  INTEGER NOT NULL,
    PRIMARY KEY (day, prefix)
);

-- The tickets this kiosk issued (online from the platform's queue, or offline from its block). Nothing of
-- the citizen: the holder's keyed hash, where a card was read, travels in the outbox only.
CREATE TABLE tickets (
    request_id   TEXT PRIMARY KEY,               -- the kiosk's UUID, the platform's idempotency key
    day          TEXT NOT NULL,
    number       TEXT NOT NULL,
    business     TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    offline      INTEGER NOT NULL,
    issued_at    TEXT NOT NULL,                  -- RFC 3339 with the hall's offset
    outbox_id    TEXT NOT NULL,                  -- its `ticket` transaction
    UNIQUE (day, number)
);

-- The platform's last list of the hall's business types (kiosk/wire/queues.py HallQueues): shown offline
-- with its age, and its opening hours say offline when the hall opens.
CREATE TABLE ticket_queues (
    hall         TEXT PRIMARY KEY,
    body         TEXT NOT NULL,                  -- the answer as JSON
    fetched_at   TEXT NOT NULL                   -- RFC 3339, the kiosk's clock when it came
);
