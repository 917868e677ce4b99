-- What a sale pays for when it may be paid only once (issue 18: a fee notice, `fee_notice:<number>`), and the
-- extra fields its `payment` transaction carries (JSON: `fee_notice`, `receipt_token_sha256`), kept with the row
-- so that a sale settled after a restart tells the platform the same (kiosk/core/payment/ledger.py).
ALTER TABLE payments ADD COLUMN subject TEXT;
ALTER TABLE payments ADD COLUMN record TEXT;
CREATE INDEX payments_by_subject ON payments (subject) WHERE subject IS NOT NULL;
