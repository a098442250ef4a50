-- 0012_source_state.sql - small values a source type keeps between runs
-- (docs/KNOWLEDGE.md, "Source state"): a feed's validators and the keys of
-- entries it has seen, a crawl's per-page validators. Keyed by the source
-- and a key the type chooses ("feed", "page:https://..."); the value is the
-- type's JSON. It goes with its source.
CREATE TABLE source_state (
    source_id  INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    key        TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 2048),
    value      TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (source_id, key)
) WITHOUT ROWID;
