-- Statements that differ between dialects: PostgreSQL.

-- name: claim-outbox
-- Several instances may deliver at once: SKIP LOCKED hands each row to one.
UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1,
    claimed_host = ?, claimed_pid = ?, claimed_instance = ?
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

-- "= ANY (ARRAY(subquery))" rather than "IN (subquery)" in this file: the array
-- is computed once and the index is used whatever the statistics say (a
-- young table's statistics make the planner pick a sequential scan for
-- IN, which gets slower with every message).

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

-- name: batch-lookup
-- For a whole batch of incoming mail, in one statement: which messages
-- are stored already (pos 0), which referenced Message-IDs belong to an
-- incident as stored messages (1) or outgoing mails (2), and how many
-- automatic mails each sender got since a time (3: count in id, address
-- in message_id), and which Outlook conversations belong to an incident
-- (4: conversation id in message_id), and how many incidents each
-- sender opened since a time (5: count in id, address in message_id),
-- and the stored messages that have a batch message's Message-ID (6:
-- the author, lower case, in content_hash), whatever their content, and
-- the incidents of stored mail that referred to a candidate (7).
-- Lists come as JSON arrays.
SELECT 0 AS pos, m.id, m.message_id, m.content_hash, m.incident_id, m.outcome
FROM jsonb_to_recordset(CAST(? AS jsonb)) AS j (m text, h text)
JOIN messages AS m ON m.message_id = j.m AND m.content_hash = j.h
UNION ALL
SELECT 1, id, message_id, '', incident_id, '' FROM messages
WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND incident_id IS NOT NULL
UNION ALL
SELECT 2, id, message_id, '', incident_id, '' FROM outbox
WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND incident_id IS NOT NULL
UNION ALL
SELECT 3, COUNT(*), rcpt_key, '', NULL, '' FROM outbox
WHERE rcpt_key = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))))
  AND auto_submitted <> '' AND created_at > ?
GROUP BY rcpt_key
UNION ALL
SELECT 4, id, conversation, '', incident_id, '' FROM messages
WHERE conversation = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND conversation <> '' AND incident_id IS NOT NULL
UNION ALL
SELECT 5, COUNT(*), sender_key, '',
  SUM(CASE WHEN (SELECT m.authenticated FROM messages m WHERE m.incident_id = incidents.id ORDER BY m.id LIMIT 1) THEN 1 ELSE 0 END), ''
FROM incidents
WHERE sender_key = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND created_at > ?
GROUP BY sender_key
UNION ALL
SELECT 6, id, message_id, lower(from_addr), incident_id, outcome FROM messages
WHERE message_id = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND direction = 'in'
UNION ALL
SELECT 7, incident_id, ref, '', incident_id, '' FROM message_refs
WHERE ref = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))));

-- name: incidents-for-batch
-- Locked until commit: another process must not change an incident this
-- batch is about to update. In id order, so that two batches lock what
-- they share in the same order.
SELECT * FROM incidents
WHERE id = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)))
   OR key = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))))
ORDER BY id
FOR UPDATE;

-- name: counter-for-update
-- Locked until commit, so two processes never hand out the same number.
SELECT value FROM counters WHERE name = ? FOR UPDATE;

-- name: outbox-sent
-- The ids come as one JSON array.
UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, last_error = '',
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE id = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)));

-- name: repeat-candidates
-- Earlier incidents that share a fingerprint word, through the
-- (token, created_at) index: the cost follows the matches, not the
-- history. Those whose fingerprint "#not-problem" parted from the new
-- one are left out (an anti-join on the pairs' primary key).
-- Parameters: tokens (JSON), since, fingerprint, limit.
SELECT i.id, i.key, i.fingerprint, i.problem_id, i.requester, i.created_at
FROM incidents AS i
WHERE i.id IN (
    SELECT t.incident_id FROM incident_tokens AS t
    WHERE t.token = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))) AND t.created_at > ?)
  AND NOT EXISTS (SELECT 1 FROM problem_exclusions AS x WHERE x.fingerprint = ? AND x.other = i.fingerprint)
ORDER BY i.id DESC
LIMIT ?;

-- name: problem-for-batch
-- Locked until commit, as incidents are: commands and repeat detection in
-- two processes must not overwrite each other's changes to a problem.
SELECT * FROM problems WHERE id = ? OR key = ? FOR UPDATE;

-- name: exclusions-for
-- The "#not-problem" pairs of a batch's fingerprints (a JSON array).
SELECT fingerprint, other FROM problem_exclusions
WHERE fingerprint = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))));

-- name: job-claim
-- Locked until the job's transaction ends; a second daemon skips the job
-- instead of waiting, and runs it on a later tick when it is due.
SELECT last_ok_at FROM jobs WHERE name = ? FOR UPDATE SKIP LOCKED;

-- name: clock-events
SELECT * FROM clock_events
WHERE incident_id = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint))) ORDER BY id;

-- name: due-incidents
-- Locked until the tick's transaction ends; rows another daemon holds are
-- skipped, so two daemons never escalate one incident at once.
SELECT * FROM incidents WHERE next_due_at IS NOT NULL AND next_due_at <= ?
ORDER BY next_due_at LIMIT ? FOR UPDATE SKIP LOCKED;

-- name: due-reports
-- Locked like due-incidents: two daemons never remind of one report at once.
SELECT * FROM incidents WHERE report_next_at IS NOT NULL AND report_next_at <= ?
ORDER BY report_next_at LIMIT ? FOR UPDATE SKIP LOCKED;

-- name: event-keys-exist
SELECT dedupe_key, created_at FROM events WHERE dedupe_key = ANY (ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))));

-- name: timelines
SELECT incident_id, message_id, direction, from_addr, to_addrs, subject, received_at,
    substr(COALESCE(NULLIF(new_text, ''), text_body), 1, 300) AS start
FROM messages WHERE incident_id = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)))
ORDER BY incident_id, received_at, id;

-- name: outbox-release
-- Claims this process took but did not try to send (a clean stop): back in
-- the queue, due as before, the attempt the claim counted taken back. Only
-- rows still claimed by this process (host, pid, instance) are touched.
UPDATE outbox SET status = 'queued', claimed_until = NULL, attempts = attempts - 1,
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE id = ANY (ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS bigint)))
  AND status = 'sending' AND claimed_host = ? AND claimed_pid = ? AND claimed_instance = ?;

-- name: open-clock-incidents
SELECT * FROM incidents WHERE id > ? AND clock_generation > 0 AND status NOT IN ('resolved', 'closed') ORDER BY id LIMIT ?
FOR UPDATE;
