-- What a deposit learned from the case on the platform (kiosk/core/locker/deposit.py): the item's
-- name (办件事项, not personal data) and how long this item is held. Both NULL for a deposit made
-- without the platform (offline, or a case it does not know): the [pickup] hold_days then applies.
ALTER TABLE locker_items ADD COLUMN item_name TEXT;
ALTER TABLE locker_items ADD COLUMN hold_days INTEGER CHECK (hold_days IS NULL OR hold_days BETWEEN 1 AND 365);
-- a code typed again after its item was collected or recalled is told apart from a wrong code
CREATE INDEX locker_items_ended_code ON locker_items (code_hash) WHERE state IN ('collected', 'recalled');
