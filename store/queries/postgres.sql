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

-- "= ANY (ARRAY(subquery))" rather than "IN (subquery)" below: the array
-- is computed once and the index is used whatever the statistics say (a
-- young table's statistics make the planner pick a sequential scan for
-- IN, which gets slower with every message).

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
WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND incident_id IS NOT NULL
UNION ALL
SELECT 2, id, message_id, incident_id, '' FROM outbox
WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND incident_id IS NOT NULL
UNION ALL
SELECT 3, COUNT(*), '', NULL, '' FROM outbox
WHERE rcpt_key = ? AND auto_submitted <> '' AND created_at > ?;

-- name: insert-message-raw
-- The message row and its raw bytes in one round trip.
WITH m AS (
    INSERT INTO messages (message_id, content_hash, direction, source, from_addr, from_name,
        to_addrs, cc_addrs, subject, kind, kind_reason, in_reply_to, refs, thread_index,
        text_body, new_text, attachments, defects, size, date_header, received_at,
        incident_id, thread_reason, outcome)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (message_id, content_hash) DO NOTHING
    RETURNING id)
INSERT INTO message_raw (message_pk, raw) SELECT id, ? FROM m
RETURNING message_pk;

-- name: create-incident
-- Takes the next number and stores the incident in one round trip; the
-- counter row stays locked until commit, so numbers are never shared.
WITH n AS (
    UPDATE counters SET value = value + 1 WHERE name = 'incident' RETURNING value)
INSERT INTO incidents (key, subject, norm_subject, status, priority, requester, requester_name,
    assignee, category, created_at, updated_at, message_count)
SELECT CAST(? AS text) || n.value, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1 FROM n
RETURNING id, key;

-- name: intake-done
-- The UIDs come as one JSON array: one statement for a whole batch.
UPDATE intake_uids SET done = TRUE
WHERE mailbox = ? AND uidvalidity = ?
  AND uid = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)));

-- name: sent-without-flush
-- Marking a delivery need not wait for the WAL flush: if the server dies
-- before it is durable, the mail is sent again with the same Message-ID,
-- exactly as after a crash between the SMTP answer and the mark. Without
-- this, every delivery costs an fsync.
SET LOCAL synchronous_commit TO OFF;
