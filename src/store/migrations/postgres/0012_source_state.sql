-- 0012_source_state.sql - small values a source type keeps between runs
-- (docs/KNOWLEDGE.md, "Source state"). Keys compare byte by byte (COLLATE
-- "C") so listing in key order agrees with SQLite's.
CREATE TABLE source_state (
    source_id  BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    key        TEXT   COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 2048),
    value      TEXT   NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (source_id, key)
);
