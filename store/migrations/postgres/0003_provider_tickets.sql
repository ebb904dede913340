-- A provider's own ticket numbers, learned from its replies that carry
-- both our tag and its number (threading rule 3).
CREATE TABLE provider_tickets (
    provider    TEXT NOT NULL,
    ticket      TEXT NOT NULL,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    learned_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, ticket)
);
