-- Statements that differ between dialects: PostgreSQL.

-- name: claim-outbox
-- Several instances may deliver at once: SKIP LOCKED hands each row to one.
UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM outbox
    WHERE (status = 'queued' AND next_attempt_at <= ?)
       OR (status = 'sending' AND claimed_until < ?)
    ORDER BY id LIMIT ?
    FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: try-advisory-lock
SELECT pg_try_advisory_lock(?);

-- name: advisory-unlock
SELECT pg_advisory_unlock(?);
