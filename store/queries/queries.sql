-- Queries shared by both dialects: ? placeholders, rebound for PostgreSQL.
-- Each starts with "-- name: NAME"; all are prepared once at start-up so a
-- typo stops the boot, not the first email.

-- name: init-counter
INSERT INTO counters (name, value) VALUES (?, 0) ON CONFLICT (name) DO NOTHING;

-- name: incident-by-key
SELECT incidents.*, p.key AS problem_key FROM incidents LEFT JOIN problems AS p ON p.id = incidents.problem_id
WHERE incidents.key = ?;

-- name: incident-by-id
SELECT * FROM incidents WHERE id = ?;

-- name: set-incident-status
UPDATE incidents SET status = ?, updated_at = ?, resolved_at = ?, closed_at = ? WHERE id = ?;

-- name: list-open-incidents
SELECT incidents.*, p.key AS problem_key FROM incidents LEFT JOIN problems AS p ON p.id = incidents.problem_id
WHERE incidents.status NOT IN ('resolved', 'closed') ORDER BY incidents.id;

-- name: count-open-incidents
SELECT COUNT(*) FROM incidents WHERE status NOT IN ('resolved', 'closed');

-- name: list-all-incidents
SELECT incidents.*, p.key AS problem_key FROM incidents LEFT JOIN problems AS p ON p.id = incidents.problem_id
ORDER BY incidents.id;

-- name: incident-messages
SELECT id, message_id, content_hash, incident_id, problem_id, direction, source, from_addr, from_name,
    to_addrs, cc_addrs, subject, kind, kind_reason, outcome, thread_reason, in_reply_to, refs,
    thread_index, text_body, COALESCE(NULLIF(new_text, ''), text_body) AS new_text, attachments,
    defects, size, date_header, received_at
FROM messages WHERE incident_id = ? ORDER BY received_at, id;

-- name: incident-events
SELECT * FROM events WHERE incident_id = ? ORDER BY id;

-- name: count-incident-events-since
SELECT COUNT(*) FROM events WHERE incident_id = ? AND kind = ? AND created_at >= ?;

-- name: incident-outbox
SELECT * FROM outbox WHERE incident_id = ? ORDER BY id;

-- name: incident-participants
-- Who is on an incident's thread: the sender and the addressees of the
-- message that opened it and of every authenticated message, and the
-- recipients of our own mail about it. An unauthenticated sender does not
-- become a participant by writing in.
SELECT from_addr, to_addrs, cc_addrs, authenticated, id = (SELECT MIN(id) FROM messages WHERE incident_id = ?) AS opener
FROM messages
WHERE incident_id = ? AND direction = 'in'
  AND (authenticated OR id = (SELECT MIN(id) FROM messages WHERE incident_id = ?))
UNION ALL
SELECT '', to_addrs, cc_addrs, TRUE, FALSE FROM outbox WHERE incident_id = ?;

-- name: insert-event
INSERT INTO events (incident_id, problem_id, message_pk, kind, actor, detail, created_at, dedupe_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: insert-outbox
INSERT INTO outbox (incident_id, problem_id, kind, message_id, dedupe_key, from_addr, to_addrs, cc_addrs,
    reply_to, subject, text_body, html_body, in_reply_to, refs, auto_submitted, rcpt_key,
    status, next_attempt_at, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: count-auto-mail
SELECT COUNT(*) FROM outbox WHERE rcpt_key = ? AND auto_submitted <> '' AND created_at > ?;

-- name: outbox-retry
UPDATE outbox SET status = 'queued', next_attempt_at = ?, claimed_until = NULL, last_error = ?,
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE id = ?;

-- name: outbox-failed
UPDATE outbox SET status = 'failed', claimed_until = NULL, last_error = ?,
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE id = ?;

-- name: outbox-claimers
-- The processes of a host that hold outbox claims (see outbox-release-orphans).
SELECT DISTINCT claimed_host, claimed_pid, claimed_instance FROM outbox
WHERE status = 'sending' AND claimed_host = ?;

-- name: outbox-release-orphans
-- Claims of a process that is gone: back in the queue at once, due as
-- before (the attempt stays counted: a mail may have been in flight).
UPDATE outbox SET status = 'queued', claimed_until = NULL,
    claimed_host = '', claimed_pid = 0, claimed_instance = ''
WHERE status = 'sending' AND claimed_host = ? AND claimed_pid = ? AND claimed_instance = ?;

-- name: outbox-pending-count
SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending');

-- name: get-checkpoint
SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?;

-- name: set-checkpoint
INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity,
    last_uid = excluded.last_uid, updated_at = excluded.updated_at;

-- name: record-intake-uid
INSERT INTO intake_uids (mailbox, uidvalidity, uid, message_pk, quarantine_id, created_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (mailbox, uidvalidity, uid) DO NOTHING;

-- name: pending-intake
SELECT uid FROM intake_uids WHERE mailbox = ? AND uidvalidity = ? AND NOT done ORDER BY uid;


-- name: insert-quarantine
INSERT INTO quarantine (source, content_hash, reason, raw, size, created_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (content_hash) DO NOTHING
RETURNING id;

-- name: quarantine-by-hash
SELECT id FROM quarantine WHERE content_hash = ?;

-- name: list-quarantine
SELECT id, source, content_hash, reason, size, status, created_at, resolved_at, message_pk
FROM quarantine ORDER BY id;

-- name: get-quarantine
SELECT * FROM quarantine WHERE id = ?;

-- name: resolve-quarantine
UPDATE quarantine SET status = 'reprocessed', resolved_at = ?, message_pk = ? WHERE id = ?;

-- name: set-counter
UPDATE counters SET value = ? WHERE name = ?;

-- name: outbox-bounced
UPDATE outbox SET status = 'bounced', last_error = ? WHERE message_id = ?;

-- name: provider-ticket
SELECT incident_id FROM provider_tickets WHERE provider = ? AND ticket = ?;

-- name: learn-provider-ticket
INSERT INTO provider_tickets (provider, ticket, incident_id, learned_at) VALUES (?, ?, ?, ?)
ON CONFLICT (provider, ticket) DO NOTHING;

-- name: update-problem
UPDATE problems SET status = ?, title = ?, root_cause = ?, workaround = ?, fix = ?, updated_at = ?, resolved_at = ?
WHERE id = ?;

-- name: problem-by-id
SELECT * FROM problems WHERE id = ?;

-- name: problem-by-key
SELECT problems.*, (SELECT COUNT(*) FROM incidents WHERE incidents.problem_id = problems.id) AS incident_count
FROM problems WHERE key = ?;

-- name: list-problems
SELECT problems.*, (SELECT COUNT(*) FROM incidents WHERE incidents.problem_id = problems.id) AS incident_count
FROM problems ORDER BY id DESC;

-- name: problem-incidents
SELECT incidents.*, p.key AS problem_key FROM incidents JOIN problems AS p ON p.id = incidents.problem_id
WHERE incidents.problem_id = ? ORDER BY incidents.id;

-- name: problem-messages
SELECT id, message_id, content_hash, incident_id, problem_id, direction, source, from_addr, from_name,
    to_addrs, cc_addrs, subject, kind, kind_reason, outcome, thread_reason, in_reply_to, refs,
    thread_index, text_body, COALESCE(NULLIF(new_text, ''), text_body) AS new_text, attachments,
    defects, size, date_header, received_at
FROM messages WHERE problem_id = ? ORDER BY received_at, id;

-- name: problem-events
SELECT * FROM events WHERE problem_id = ? ORDER BY id;

-- name: problem-outbox
SELECT * FROM outbox WHERE problem_id = ? ORDER BY id;

-- name: insert-exclusion
INSERT INTO problem_exclusions (fingerprint, other, actor, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (fingerprint, other) DO NOTHING;

-- name: delete-exclusion
DELETE FROM problem_exclusions WHERE (fingerprint = ? AND other = ?) OR (fingerprint = ? AND other = ?);

-- name: job-ensure
INSERT INTO jobs (name) VALUES (?) ON CONFLICT DO NOTHING;

-- name: job-done
UPDATE jobs SET last_ok_at = ?, last_error = '', failures = 0, updated_at = ? WHERE name = ?;

-- name: job-failed
UPDATE jobs SET last_error = ?, failures = failures + 1, updated_at = ? WHERE name = ?;

-- name: jobs
SELECT name, last_ok_at, last_error, failures, updated_at FROM jobs ORDER BY name;

-- name: message-raw
SELECT raw FROM message_raw WHERE message_pk = ?;

-- name: register-incidents
-- The register: incidents opened in [?, ?) with their problem's key and,
-- when the incident is a later occurrence of a problem, the key of the
-- problem's first incident. Read through a cursor, oldest first. The
-- first incidents are found in one grouped pass, not a subquery per row
-- (PostgreSQL has no index on (problem_id, id) to answer that cheaply).
-- Scoped to an assignee (the first and last parameters), the first
-- incident is the assignee's own: a party learns no other's keys.
SELECT incidents.*, p.key AS problem_key, CASE WHEN fi.id < incidents.id THEN fi.key END AS repeat_of
FROM incidents
LEFT JOIN problems AS p ON p.id = incidents.problem_id
LEFT JOIN (SELECT problem_id, MIN(id) AS first_id FROM incidents
           WHERE problem_id IS NOT NULL AND (CAST(? AS TEXT) = '' OR assignee = ?) GROUP BY problem_id) AS fp
    ON fp.problem_id = incidents.problem_id
LEFT JOIN incidents AS fi ON fi.id = fp.first_id
WHERE incidents.created_at >= ? AND incidents.created_at < ? AND (CAST(? AS TEXT) = '' OR incidents.assignee = ?)
ORDER BY incidents.id;

-- name: register-problems
-- The register's problems: those created in [?, ?) and those linked to an
-- incident opened in [?, ?), with their linked incident counts. Scoped to
-- an assignee (the last parameters, '' for none): only problems one of its
-- incidents opened in the range is linked to, titled after its own first
-- incident of the problem and counting its own incidents (the first two
-- pairs of parameters): a party reads no other's subject or total.
SELECT problems.id, problems.key,
       CASE WHEN CAST(? AS TEXT) = '' THEN problems.title
            ELSE COALESCE((SELECT t.subject FROM incidents AS t WHERE t.problem_id = problems.id AND t.assignee = ? ORDER BY t.id LIMIT 1), problems.title)
       END AS title,
       problems.status, problems.fingerprint, problems.root_cause, problems.workaround, problems.fix,
       problems.created_at, problems.updated_at, problems.resolved_at,
       (SELECT COUNT(*) FROM incidents WHERE incidents.problem_id = problems.id
           AND (CAST(? AS TEXT) = '' OR incidents.assignee = ?)) AS incident_count
FROM problems
WHERE ((problems.created_at >= ? AND problems.created_at < ?)
   OR EXISTS (SELECT 1 FROM incidents AS i WHERE i.problem_id = problems.id AND i.created_at >= ? AND i.created_at < ?))
  AND (CAST(? AS TEXT) = '' OR EXISTS (SELECT 1 FROM incidents AS s WHERE s.problem_id = problems.id AND s.assignee = ?
      AND s.created_at >= ? AND s.created_at < ?))
ORDER BY problems.id;

-- name: count-fingerprinted
SELECT count(*) FROM incidents WHERE fingerprint <> '';

-- name: token-df
-- How many incidents carry each fingerprint word (repeat detection's
-- inverse document frequency), read now and then by a tick job.
SELECT token, count(*) FROM incident_tokens GROUP BY token;

-- name: problems-updated-since
SELECT id FROM problems WHERE status <> 'resolved' AND updated_at > ? ORDER BY id;

-- name: open-incidents-of
SELECT * FROM incidents WHERE sender_key = ? AND created_at > ?
  AND status NOT IN ('resolved', 'closed') AND fingerprint <> '' ORDER BY id DESC LIMIT ?;

-- name: summary-incidents
-- What a summary of the window [from, to) reads: the incidents opened in
-- it, and those opened before it that were resolved or closed in it or
-- later, or are still open; four disjoint parts, each answered by an index
-- (created_at, resolved_at, closed_at, status). repeat: a later
-- occurrence of its problem.
SELECT i.id, i.key, i.subject, i.status, i.priority, i.assignee, i.sla, i.created_at, i.first_response_at, i.resolved_at,
    i.closed_at, i.response_due, i.resolution_due, i.response_breached_at, i.resolution_breached_at,
    i.response_breached_by, i.resolution_breached_by, i.escalation_level,
    i.acknowledged_by, i.acknowledged_at, i.problem_id, i.major, i.report_status, i.report_due_at, i.report_received_at,
    CASE WHEN fp.first_id < i.id THEN 1 ELSE 0 END AS repeat
FROM (
    SELECT * FROM incidents WHERE created_at >= ? AND created_at < ?
    UNION ALL
    SELECT * FROM incidents WHERE created_at < ? AND resolved_at >= ?
    UNION ALL
    SELECT * FROM incidents WHERE created_at < ? AND resolved_at IS NULL AND closed_at >= ?
    UNION ALL
    SELECT * FROM incidents WHERE created_at < ? AND status IN ('new', 'open', 'waiting') AND resolved_at IS NULL AND closed_at IS NULL
) AS i
LEFT JOIN (SELECT problem_id, MIN(id) AS first_id FROM incidents WHERE problem_id IS NOT NULL GROUP BY problem_id) AS fp
    ON fp.problem_id = i.problem_id
ORDER BY i.id;
