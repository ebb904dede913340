-- Who holds an outbox claim: the host name, process id and a nonce drawn
-- at process start (a restarted process may get the same pid, in a
-- container always). A claim whose process is gone is released at once
-- instead of waiting for its lease to run out.
ALTER TABLE outbox ADD COLUMN claimed_host TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_pid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_instance TEXT NOT NULL DEFAULT '';
