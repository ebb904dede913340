-- Major incidents and their reports (ITIL: major incident review). major
-- is '' (not major), 'declared' (by priority or "#major") or 'off'
-- (undone by "#major off": the priority no longer declares it). The
-- report owed after resolution: its status ('' none, requested, partial,
-- received, accepted), when it was asked for and is due, who sent it and
-- when, its parsed sections as JSON, and report_next_at, the next instant
-- the tick has a reminder or an escalation for it, indexed like
-- next_due_at.
ALTER TABLE incidents ADD COLUMN major TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN report_status TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN report_requested_at TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN report_due_at TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN report_received_at TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN report_from TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN report TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN report_next_at TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN report_party TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN acks TEXT NOT NULL DEFAULT '';
-- Who held the incident when each target of the promise was breached.
ALTER TABLE incidents ADD COLUMN response_breached_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN resolution_breached_by TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_report_next ON incidents (report_next_at) WHERE report_next_at IS NOT NULL;
