-- Large columns compressed with lz4 instead of pglz: several times less
-- CPU per stored message, for slightly larger rows. Servers built without
-- lz4 keep pglz; nothing else changes.
DO $$
BEGIN
    ALTER TABLE message_raw ALTER COLUMN raw SET COMPRESSION lz4;
    ALTER TABLE messages ALTER COLUMN text_body SET COMPRESSION lz4;
    ALTER TABLE messages ALTER COLUMN new_text SET COMPRESSION lz4;
    ALTER TABLE outbox ALTER COLUMN text_body SET COMPRESSION lz4;
    ALTER TABLE outbox ALTER COLUMN html_body SET COMPRESSION lz4;
    ALTER TABLE quarantine ALTER COLUMN raw SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 compression not available, keeping the default';
END
$$;
