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

-- name: message-lookup
-- One round trip per incoming message: is it stored already (pos 0),
-- which stored messages (pos 1) or outgoing mails (pos 2) of an incident
-- does it refer to, and how many automatic mails went to its sender
-- since a time (pos 3, in id). The candidate ids come as one JSON array
-- so that the statement can be prepared once.
SELECT 0 AS pos, id, message_id, incident_id, outcome FROM messages
WHERE message_id = ? AND content_hash = ?
UNION ALL
SELECT 1, id, message_id, incident_id, '' FROM messages
WHERE message_id IN (SELECT value FROM json_each(?)) AND incident_id IS NOT NULL
UNION ALL
SELECT 2, id, message_id, incident_id, '' FROM outbox
WHERE message_id IN (SELECT value FROM json_each(?)) AND incident_id IS NOT NULL
UNION ALL
SELECT 3, COUNT(*), '', NULL, '' FROM outbox
WHERE rcpt_key = ? AND auto_submitted <> '' AND created_at > ?;

-- name: intake-done
-- The UIDs come as one JSON array: one statement for a whole batch.
UPDATE intake_uids SET done = TRUE
WHERE mailbox = ? AND uidvalidity = ? AND uid IN (SELECT value FROM json_each(?));
