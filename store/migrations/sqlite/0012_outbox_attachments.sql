-- Outgoing mail carries the attachments of the mail it forwards (a
-- notice, a relay) by reference, not by copy: a JSON array of
-- {"message_pk", "index", "filename", "content_type", "size"}, where index
-- is the attachment's position in messages.attachments of that message,
-- whose raw bytes are in message_raw. The mailer reads them when it
-- composes the mail.
ALTER TABLE outbox ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
