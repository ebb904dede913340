-- Whether a message's sender was authenticated (trusted
-- Authentication-Results or a DKIM signature verified here) when it was
-- taken in. Only authenticated senders become participants of an
-- incident by writing to it.
ALTER TABLE messages ADD COLUMN authenticated BOOLEAN NOT NULL DEFAULT FALSE;

-- New incidents per sender in the last hour ([helpdesk]
-- new_incident_limit), read for a whole batch at once.
CREATE INDEX incidents_requester_created ON incidents (lower(requester), created_at);
