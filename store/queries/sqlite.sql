-- Statements that differ between dialects: SQLite.

-- name: claim-outbox
-- A single writer: the transaction is BEGIN IMMEDIATE (_txlock=immediate),
-- so no other process can claim the same rows in between.
UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE (status = 'queued' AND next_attempt_at <= ?)
       OR (status = 'sending' AND claimed_until < ?)
    ORDER BY id LIMIT ?)
RETURNING *;
