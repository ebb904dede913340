-- Whether a message's sender was authenticated (trusted
-- Authentication-Results or a DKIM signature verified here) when it was
-- taken in. Only authenticated senders become participants of an
-- incident by writing to it.
ALTER TABLE messages ADD COLUMN authenticated BOOLEAN NOT NULL DEFAULT FALSE;

-- New incidents per sender in the last hour ([helpdesk]
-- new_incident_limit), read for a whole batch at once: the sender's
-- address in lower case without a +tag (mallory+1@ is mallory@).
ALTER TABLE incidents ADD COLUMN sender_key TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_sender_created ON incidents (sender_key, created_at);
