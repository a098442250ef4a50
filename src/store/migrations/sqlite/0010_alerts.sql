-- 0010_alerts.sql - alerts received from Alertmanager's webhook
-- (POST /api/v1/alerts; docs/OBSERVABILITY.md, "The alerts API").
-- Runs inside a transaction opened by the migration runner (src/store/sqlite.c).

-- One row per Alertmanager fingerprint (a hash of the alert's labels): the
-- latest notification about it wins, unless it is older than what is stored
-- (store_sql_alerts.c). Resolved rows are pruned by age and the whole table
-- is kept under a row cap, so a noisy sender cannot grow it without bound.
CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY,
    fingerprint      TEXT    NOT NULL UNIQUE,
    status           TEXT    NOT NULL CHECK (status IN ('firing', 'resolved')),
    name             TEXT    NOT NULL,
    severity         TEXT,
    labels_json      TEXT    NOT NULL,
    annotations_json TEXT    NOT NULL,
    generator_url    TEXT,
    starts_ms        INTEGER NOT NULL,
    ends_ms          INTEGER NOT NULL DEFAULT 0,
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);

-- The list (by state, newest first) and the pruning of old resolved rows.
CREATE INDEX alerts_status_updated ON alerts (status, updated_ms);
CREATE INDEX alerts_updated ON alerts (updated_ms);
