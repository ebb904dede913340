-- PostgreSQL's 0002 switches large columns to lz4 compression; SQLite
-- stores them as they are. The number is kept so both dialects share
-- their schema versions.
SELECT 1;
