-- helpdeskd schema, version 1 (SQLite).
-- Times are DATETIME in UTC; modernc.org/sqlite stores them as text that
-- sorts in time order when every value is UTC.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE incidents (
    id                INTEGER PRIMARY KEY,
    key               TEXT NOT NULL UNIQUE,
    subject           TEXT NOT NULL,
    norm_subject      TEXT NOT NULL,
    status            TEXT NOT NULL,
    priority          TEXT NOT NULL,
    requester         TEXT NOT NULL,
    requester_name    TEXT NOT NULL DEFAULT '',
    assignee          TEXT NOT NULL DEFAULT '',
    category          TEXT NOT NULL DEFAULT '',
    problem_id        INTEGER,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    first_response_at DATETIME,
    resolved_at       DATETIME,
    closed_at         DATETIME,
    response_due      DATETIME,
    resolution_due    DATETIME,
    escalation_level  INTEGER NOT NULL DEFAULT 0,
    message_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incidents_status ON incidents (status, id);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    incident_id   INTEGER REFERENCES incidents (id),
    direction     TEXT NOT NULL,
    source        TEXT NOT NULL,
    from_addr     TEXT NOT NULL,
    from_name     TEXT NOT NULL,
    to_addrs      TEXT NOT NULL,
    cc_addrs      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    kind_reason   TEXT NOT NULL,
    outcome       TEXT NOT NULL DEFAULT '',
    thread_reason TEXT NOT NULL DEFAULT '',
    in_reply_to   TEXT NOT NULL,
    refs          TEXT NOT NULL,
    thread_index  TEXT NOT NULL,
    text_body     TEXT NOT NULL,
    new_text      TEXT NOT NULL,
    attachments   TEXT NOT NULL,
    defects       TEXT NOT NULL,
    size          INTEGER NOT NULL,
    date_header   DATETIME,
    received_at   DATETIME NOT NULL,
    UNIQUE (message_id, content_hash)
);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_incident ON messages (incident_id, id);

CREATE TABLE message_raw (
    message_pk INTEGER PRIMARY KEY REFERENCES messages (id),
    raw        BLOB NOT NULL
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER REFERENCES incidents (id),
    message_pk  INTEGER REFERENCES messages (id),
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    dedupe_key  TEXT UNIQUE
);
CREATE INDEX events_incident ON events (incident_id, id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER REFERENCES incidents (id),
    kind            TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    dedupe_key      TEXT UNIQUE,
    from_addr       TEXT NOT NULL,
    to_addrs        TEXT NOT NULL,
    cc_addrs        TEXT NOT NULL,
    reply_to        TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    in_reply_to     TEXT NOT NULL,
    refs            TEXT NOT NULL,
    auto_submitted  TEXT NOT NULL,
    rcpt_key        TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    claimed_until   DATETIME,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    sent_at         DATETIME
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_rcpt ON outbox (rcpt_key, created_at);
CREATE INDEX outbox_incident ON outbox (incident_id);

CREATE TABLE mailbox_state (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    updated_at  DATETIME NOT NULL
);

CREATE TABLE intake_uids (
    mailbox       TEXT NOT NULL,
    uidvalidity   INTEGER NOT NULL,
    uid           INTEGER NOT NULL,
    message_pk    INTEGER REFERENCES messages (id),
    quarantine_id INTEGER,
    done          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (mailbox, uidvalidity, uid)
);
CREATE INDEX intake_uids_pending ON intake_uids (mailbox, uidvalidity) WHERE NOT done;

CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    reason       TEXT NOT NULL,
    raw          BLOB NOT NULL,
    size         INTEGER NOT NULL,
    status       TEXT NOT NULL DEFAULT 'held',
    created_at   DATETIME NOT NULL,
    resolved_at  DATETIME,
    message_pk   INTEGER REFERENCES messages (id)
);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at DATETIME NOT NULL
);
