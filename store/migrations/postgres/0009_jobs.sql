-- The tick's named jobs (escalations, reminders, digests, summaries):
-- when each last succeeded, and its failures since. A job's row is
-- locked for the length of its run on PostgreSQL, so two daemons on one
-- database never run the same job at once.
CREATE TABLE jobs (
    name       TEXT PRIMARY KEY,
    last_ok_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    failures   INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ
);
