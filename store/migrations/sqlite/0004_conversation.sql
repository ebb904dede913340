-- Outlook's conversation id (the first 22 bytes of Thread-Index, in hex):
-- threading rule 4.
ALTER TABLE messages ADD COLUMN conversation TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_conversation ON messages (conversation) WHERE conversation <> '';
