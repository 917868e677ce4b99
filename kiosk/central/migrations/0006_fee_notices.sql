-- Paying a fee notice at a kiosk (缴费, issue 18 item 2; docs/services.md).

-- The demo fee-notice issuer's notices (kiosk/central/fee_issuer.py): a stand-in for a finance bureau's
-- non-tax revenue system, for demos and tests. A deployment plugs its own issuer in instead ([fees] issuer
-- in central.toml) and this table stays empty. The payer's name is kept sealed with the platform's key
-- (kiosk/central/sealing.py); what is ever answered is its masked form.
CREATE TABLE demo_fee_notices (
    number          TEXT PRIMARY KEY,            -- 20 digits, the last a check digit (Luhn)
    department      TEXT NOT NULL,               -- the issuing department (执收单位)
    hall            TEXT NOT NULL,               -- the issuing hall's code: kiosks of that fleet group take it
    hall_name       TEXT NOT NULL,
    payer           TEXT NOT NULL,               -- sealed
    payer_masked    TEXT NOT NULL,               -- 张* / 示例*****有限公司
    items           TEXT NOT NULL,               -- JSON [{"name", "amount_fen"}]
    total_fen       INTEGER NOT NULL CHECK (total_fen > 0),
    due_date        TEXT NOT NULL,               -- YYYY-MM-DD, the last day (China Standard Time)
    paid_by         TEXT,                        -- "kiosk_id/reference" of the payment that paid it; NULL unpaid
    paid_at         REAL,
    created_at      REAL NOT NULL
);

-- Every payment of a notice a kiosk reported (a `payment` transaction with `fee_notice`), whatever the issuer
-- made of it: the platform's own record, for the e-receipt page and for staff to give back what was paid twice.
-- Written with the transaction, in the batch's commit; applied to the issuer after it (state received -> paid |
-- refund_due); a `refund` transaction of the same sale settles it (refunded).
CREATE TABLE fee_payments (
    transaction_id  TEXT PRIMARY KEY,            -- the `payment` transaction
    kiosk_id        TEXT NOT NULL,
    reference       TEXT NOT NULL,               -- the kiosk's sale reference (10 characters)
    fee_notice      TEXT NOT NULL,
    amount_fen      INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    paid_at         TEXT NOT NULL,               -- RFC 3339 with offset, as the kiosk wrote it
    token_sha256    TEXT UNIQUE,                 -- SHA-256 of the e-receipt link's token; the token itself never
    state           TEXT NOT NULL CHECK (state IN ('received', 'paid', 'refund_due', 'refunded')),
    reason          TEXT,                        -- refund_due: notice_paid, notice_expired, amount_differs, ...
    notice          TEXT,                        -- JSON: the notice as paid (payer masked), for the receipt
    refund_id       TEXT,                        -- the `refund` transaction that gave it back
    attempts        INTEGER NOT NULL DEFAULT 0,  -- times the issuer was asked (it may be unreachable)
    last_error      TEXT,
    received_at     REAL NOT NULL,
    updated_at      REAL NOT NULL,
    UNIQUE (kiosk_id, reference)
);
CREATE INDEX fee_payments_by_state ON fee_payments (state);
CREATE INDEX fee_payments_by_notice ON fee_payments (fee_notice);
