-- The demo acquirer of payment codes (kiosk/central/code_payments.py): what a kiosk paid, by its reference.
-- The payment code itself is never stored, only its SHA-256 (to refuse the same reference with another code).
CREATE TABLE demo_code_payments (
    kiosk_id          TEXT NOT NULL,
    reference         TEXT NOT NULL,
    amount_fen        INTEGER NOT NULL,
    channel           TEXT NOT NULL,
    service           TEXT NOT NULL,
    code_sha256       TEXT NOT NULL,
    scenario          TEXT NOT NULL,     -- the demo behaviour chosen by the code's last digit
    status            TEXT NOT NULL,     -- approved | declined | pending | reversed | refunded
    queries           INTEGER NOT NULL DEFAULT 0,
    refund_reference  TEXT,
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL,
    PRIMARY KEY (kiosk_id, reference)
);
