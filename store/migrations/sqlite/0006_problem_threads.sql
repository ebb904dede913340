-- A problem has its own mail thread: the notices sent about it, the
-- replies that come back (with the commands on them) and its own audit
-- trail. A message, outgoing mail or event belongs to an incident or to a
-- problem.
ALTER TABLE messages ADD COLUMN problem_id INTEGER REFERENCES problems (id);
ALTER TABLE outbox ADD COLUMN problem_id INTEGER REFERENCES problems (id);
ALTER TABLE events ADD COLUMN problem_id INTEGER REFERENCES problems (id);
CREATE INDEX messages_problem ON messages (problem_id, id) WHERE problem_id IS NOT NULL;
CREATE INDEX outbox_problem ON outbox (problem_id) WHERE problem_id IS NOT NULL;
CREATE INDEX events_problem ON events (problem_id, id) WHERE problem_id IS NOT NULL;

-- "#not-problem" remembers that two fingerprints are not the same issue,
-- so repeat detection does not link them again. Each pair is stored both
-- ways round, so one lookup by fingerprint finds it.
CREATE TABLE problem_exclusions (
    fingerprint TEXT NOT NULL,
    other       TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (fingerprint, other)
);
