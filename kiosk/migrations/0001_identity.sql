-- The kiosk identity: one row, made with the database.
CREATE TABLE kiosk_identity (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1) DEFAULT 1,
    db_uuid    TEXT NOT NULL,
    kiosk_id   TEXT NOT NULL,
    host       TEXT NOT NULL,
    created_at REAL NOT NULL
);
