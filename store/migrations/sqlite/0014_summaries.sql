-- Accountability summaries. summary_runs holds one row per (summary,
-- period) sent: written in the transaction that queues the mail, before it
-- is sent, so a restart, a second daemon or the repeated hour of a
-- fall-back night never sends a period twice. outbox_files are the files
-- a mail carries that are not forwarded from a stored message: the
-- summary's chart (inline, by Content-ID) and its register; outbox.files
-- counts them, so the mailer looks only for mail that has some. The
-- incidents' time indexes answer a summary's window without reading
-- every incident.
CREATE TABLE summary_runs (
    name       TEXT NOT NULL,
    period     TEXT NOT NULL,
    due_at     DATETIME NOT NULL,
    queued_at  DATETIME NOT NULL,
    late       BOOLEAN NOT NULL DEFAULT FALSE,
    message_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, period)
);
CREATE TABLE outbox_files (
    id           INTEGER PRIMARY KEY,
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id),
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content_id   TEXT NOT NULL DEFAULT '',
    data         BLOB NOT NULL
);
CREATE INDEX outbox_files_outbox ON outbox_files (outbox_id, position);
ALTER TABLE outbox ADD COLUMN files INTEGER NOT NULL DEFAULT 0;
CREATE INDEX incidents_created ON incidents (created_at);
CREATE INDEX incidents_resolved ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX incidents_closed ON incidents (closed_at) WHERE closed_at IS NOT NULL;
-- settings: values the helpdesk keeps between runs, such as the
-- fingerprint of the clock rules the open incidents' due times were
-- derived under (a changed configuration derives them again at start).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- A summary's history counts each period's figures from these indexes
-- alone (store.SummaryHistory): breaches by when they happened, targets
-- met by the reply or resolution that met them.
CREATE INDEX incidents_response_breached ON incidents (response_breached_at) WHERE response_breached_at IS NOT NULL;
CREATE INDEX incidents_resolution_breached ON incidents (resolution_breached_at) WHERE resolution_breached_at IS NOT NULL;
CREATE INDEX incidents_response_met ON incidents (first_response_at)
    WHERE response_due IS NOT NULL AND response_breached_at IS NULL AND first_response_at IS NOT NULL;
CREATE INDEX incidents_resolution_met ON incidents (resolved_at)
    WHERE resolution_due IS NOT NULL AND resolution_breached_at IS NULL AND resolved_at IS NOT NULL;
CREATE INDEX incidents_resolution_met_closed ON incidents (closed_at)
    WHERE resolution_due IS NOT NULL AND resolution_breached_at IS NULL AND resolved_at IS NULL AND closed_at IS NOT NULL;
