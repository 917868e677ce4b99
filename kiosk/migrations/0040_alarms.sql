-- Alarms raised and not yet cleared: one row per fault, so a fault that keeps
-- being detected is reported once, and once more when it clears.
CREATE TABLE alarms (
    key        TEXT PRIMARY KEY,                 -- "device:code", e.g. "receipt_printer:paper_out"
    device     TEXT NOT NULL,
    code       TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('warning', 'fault')),
    detail     TEXT,
    raised_at  TEXT NOT NULL,                    -- RFC 3339, local time
    raised_id  TEXT NOT NULL                     -- the outbox id of the `alarm` transaction that raised it
);
