-- SLA clocks. What happened to an incident's clocks is stored as events
-- (started, paused, resumed, met, handed over, priority changed,
-- reopened); due times are derived from them, the policies and the
-- calendars, so a changed priority or a holiday added later gives the
-- right due time. The incident keeps the derived figures for queries,
-- and next_due_at, the next instant the tick has work for it (a warning,
-- a breach, the next escalation level or reminder), indexed so that a
-- tick reads only the incidents that are due.
CREATE TABLE clock_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          DATETIME NOT NULL,
    kind        TEXT NOT NULL,
    party       TEXT NOT NULL DEFAULT '',
    policy      TEXT NOT NULL DEFAULT '',
    promise     TEXT NOT NULL DEFAULT '',
    priority    TEXT NOT NULL DEFAULT '',
    metric      TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX clock_events_incident ON clock_events (incident_id, id);

ALTER TABLE incidents ADD COLUMN sla TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN paused BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE incidents ADD COLUMN response_breached_at DATETIME;
ALTER TABLE incidents ADD COLUMN resolution_breached_at DATETIME;
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN acknowledged_at DATETIME;
ALTER TABLE incidents ADD COLUMN clock_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN next_due_at DATETIME;
CREATE INDEX incidents_next_due ON incidents (next_due_at) WHERE next_due_at IS NOT NULL;
