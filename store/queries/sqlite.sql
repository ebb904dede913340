-- Statements that differ between dialects: SQLite.

-- name: claim-outbox
-- A single writer: the transaction is BEGIN IMMEDIATE (_txlock=immediate),
-- so no other process can claim the same rows in between.
UPDATE outbox SET status = 'sending', claimed_until = ?, attempts = attempts + 1,
    claimed_host = ?, claimed_pid = ?, claimed_instance = ?
WHERE id IN (
    SELECT id FROM outbox
    WHERE (status = 'queued' AND next_attempt_at <= ?)
       OR (status = 'sending' AND claimed_until < ?)
    ORDER BY id LIMIT ?)
RETURNING *;

-- name: intake-done
-- The UIDs come as one JSON array: one statement for a whole batch.
UPDATE intake_uids SET done = TRUE
WHERE mailbox = ? AND uidvalidity = ? AND uid IN (SELECT value FROM json_each(?));

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
FROM json_each(?) AS j JOIN messages AS m
  ON m.message_id = json_extract(j.value, '$.m') AND m.content_hash = json_extract(j.value, '$.h')
UNION ALL
SELECT 1, id, message_id, '', incident_id, '' FROM messages
WHERE message_id IN (SELECT value FROM json_each(?)) AND incident_id IS NOT NULL
UNION ALL
SELECT 2, id, message_id, '', incident_id, '' FROM outbox
WHERE message_id IN (SELECT value FROM json_each(?)) AND incident_id IS NOT NULL
UNION ALL
SELECT 3, COUNT(*), rcpt_key, '', NULL, '' FROM outbox
WHERE rcpt_key IN (SELECT value FROM json_each(?)) AND auto_submitted <> '' AND created_at > ?
GROUP BY rcpt_key
UNION ALL
SELECT 4, id, conversation, '', incident_id, '' FROM messages
WHERE conversation IN (SELECT value FROM json_each(?)) AND conversation <> '' AND incident_id IS NOT NULL
UNION ALL
SELECT 5, COUNT(*), sender_key, '',
  SUM(CASE WHEN (SELECT m.authenticated FROM messages m WHERE m.incident_id = incidents.id ORDER BY m.id LIMIT 1) THEN 1 ELSE 0 END), ''
FROM incidents
WHERE sender_key IN (SELECT value FROM json_each(?)) AND created_at > ?
GROUP BY sender_key
UNION ALL
SELECT 6, id, message_id, lower(from_addr), incident_id, outcome FROM messages
WHERE message_id IN (SELECT value FROM json_each(?)) AND direction = 'in'
UNION ALL
SELECT 7, incident_id, ref, '', incident_id, '' FROM message_refs
WHERE ref IN (SELECT value FROM json_each(?));

-- name: incidents-for-batch
SELECT * FROM incidents
WHERE id IN (SELECT value FROM json_each(?)) OR key IN (SELECT value FROM json_each(?))
ORDER BY id;

-- name: counter-for-update
-- The write transaction (BEGIN IMMEDIATE) already excludes other writers.
SELECT value FROM counters WHERE name = ?;

-- name: outbox-sent
-- The ids come as one JSON array.
UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, last_error = '',
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE id IN (SELECT value FROM json_each(?));

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
    WHERE t.token IN (SELECT value FROM json_each(?)) AND t.created_at > ?)
  AND NOT EXISTS (SELECT 1 FROM problem_exclusions AS x WHERE x.fingerprint = ? AND x.other = i.fingerprint)
ORDER BY i.id DESC
LIMIT ?;

-- name: problem-for-batch
-- The write transaction (BEGIN IMMEDIATE) already excludes other writers.
SELECT * FROM problems WHERE id = ? OR key = ?;

-- name: exclusions-for
-- The "#not-problem" pairs of a batch's fingerprints (a JSON array).
SELECT fingerprint, other FROM problem_exclusions
WHERE fingerprint IN (SELECT value FROM json_each(?));

-- name: job-claim
-- The write transaction (BEGIN IMMEDIATE) excludes other writers already.
SELECT last_ok_at FROM jobs WHERE name = ?;

-- name: clock-events
SELECT * FROM clock_events WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY id;

-- name: due-incidents
SELECT * FROM incidents WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?;

-- name: due-reports
SELECT * FROM incidents WHERE report_next_at IS NOT NULL AND report_next_at <= ? ORDER BY report_next_at LIMIT ?;

-- name: event-keys-exist
SELECT dedupe_key, created_at FROM events WHERE dedupe_key IN (SELECT value FROM json_each(?));

-- name: timelines
SELECT incident_id, message_id, direction, from_addr, to_addrs, subject, received_at,
    substr(COALESCE(NULLIF(new_text, ''), text_body), 1, 300) AS start
FROM messages WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY incident_id, received_at, id;

-- name: outbox-release
-- Claims this process took but did not try to send (a clean stop): back in
-- the queue, due as before, the attempt the claim counted taken back. Only
-- rows still claimed by this process (host, pid, instance) are touched.
UPDATE outbox SET status = 'queued', claimed_until = NULL, attempts = attempts - 1,
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE id IN (SELECT value FROM json_each(?))
  AND status = 'sending' AND claimed_host = ? AND claimed_pid = ? AND claimed_instance = ?;

-- name: open-clock-incidents
SELECT * FROM incidents WHERE id > ? AND clock_generation > 0 AND status NOT IN ('resolved', 'closed') ORDER BY id LIMIT ?;
