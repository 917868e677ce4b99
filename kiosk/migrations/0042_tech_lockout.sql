-- The technician PIN's wrong-PIN count and lockout, so restarting the UI does
-- not reopen entry to someone guessing PINs (kiosk/core/technician.py).
CREATE TABLE tech_lockout (
    scope        TEXT PRIMARY KEY,                -- 'technician'
    wrong        INTEGER NOT NULL,                -- wrong PINs since the last good one
    locked_until REAL NOT NULL                    -- unix seconds (wall clock); 0 = not locked
);
