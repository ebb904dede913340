-- Problem management: problems, each incident's fingerprint, and an index
-- of fingerprint words to find earlier occurrences without a scan.
CREATE TABLE problems (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    status      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    root_cause  TEXT NOT NULL DEFAULT '',
    workaround  TEXT NOT NULL DEFAULT '',
    fix         TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    resolved_at DATETIME
);
ALTER TABLE incidents ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_problem ON incidents (problem_id) WHERE problem_id IS NOT NULL;
CREATE TABLE incident_tokens (
    token       TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (token, created_at, incident_id)
);
INSERT INTO counters (name, value) VALUES ('problem', 0) ON CONFLICT (name) DO NOTHING;
