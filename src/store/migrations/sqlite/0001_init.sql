-- 0001_init.sql - tokens, projects and the event log.
-- Runs inside a transaction opened by the migration runner (src/store/sqlite.c):
-- no transaction statements here, and no schema_migrations (the runner owns it).

-- API bearer tokens. Only the hex SHA-256 of a token is stored, never the token.
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    hash         TEXT    NOT NULL UNIQUE,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'admin')),
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER NOT NULL DEFAULT 0
);

-- Registered compose projects; spec_json is the normalized stack (may be NULL).
CREATE TABLE projects (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    compose_path TEXT    NOT NULL,
    spec_json    TEXT,
    state        TEXT    NOT NULL DEFAULT 'registered',
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL
);

-- The event log. AUTOINCREMENT so ids are never reused after a prune:
-- clients page with "after_id" and must never see an id go backwards.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms   INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    project TEXT,
    service TEXT,
    message TEXT    NOT NULL
);

-- event_prune deletes by age.
CREATE INDEX events_ts_ms ON events (ts_ms);
