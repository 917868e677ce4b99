-- Issue 24: one item that makes the platform answer 5xx must not block the queue.
-- server_failures: batches carrying this row that the platform answered 5xx (a batch that
-- keeps failing is narrowed by halves); isolated_failures: 5xx answers to this row sent
-- alone while the platform accepted other rows in the same step (at 3 the row goes dead).
ALTER TABLE outbox ADD COLUMN server_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN isolated_failures INTEGER NOT NULL DEFAULT 0;
