-- Payments (sales and refunds) on the card terminal or by payment code. A row is written BEFORE the
-- request leaves the kiosk, so after a crash or restart every payment whose outcome was not yet known
-- is found here and queried first (kiosk/core/payment.py). The payment code itself is never stored.
CREATE TABLE payments (
    reference      TEXT PRIMARY KEY,          -- 10 characters, shown to the citizen when staff must settle it
    kind           TEXT NOT NULL CHECK (kind IN ('sale', 'refund')),
    method         TEXT NOT NULL CHECK (method IN ('card', 'code')),
    channel        TEXT NOT NULL,             -- card | wechat_pay | alipay
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
    service        TEXT NOT NULL,             -- the service paid for, e.g. "documents"
    state          TEXT NOT NULL CHECK (state IN ('in_flight', 'approved', 'declined', 'unknown', 'canceled')),
    detail         TEXT,                      -- the terminal's or acquirer's word (approved, rejected, no_result, ...)
    pending        TEXT,                      -- JSON: what the card terminal needs to reconcile (PendingSale)
    sale_reference TEXT REFERENCES payments (reference),  -- a refund: the sale it gives back
    -- a sale: open (service not yet delivered) | delivered | refunded | refund_owed (staff must refund)
    service_state  TEXT NOT NULL DEFAULT 'open'
                   CHECK (service_state IN ('open', 'delivered', 'refunded', 'refund_owed')),
    outbox_id      TEXT,                      -- the `payment` / `refund` transaction, once recorded
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX payments_in_flight ON payments (state) WHERE state IN ('in_flight', 'unknown');
