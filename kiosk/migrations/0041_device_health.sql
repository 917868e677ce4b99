-- The latest health of each device, written by the UI (which owns the devices)
-- and read by the agent for the heartbeat.
CREATE TABLE device_health (
    name       TEXT PRIMARY KEY,
    driver     TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('online', 'offline', 'busy', 'hardware_error', 'no_device')),
    detail     TEXT,
    updated_at REAL NOT NULL
);
