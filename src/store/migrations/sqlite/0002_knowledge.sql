-- 0002_knowledge.sql - knowledge sources, documents, chunks, the full-text
-- index and the job queue (docs/KNOWLEDGE.md, docs/STORE.md).
-- Runs inside a transaction opened by the migration runner (src/store/sqlite.c).

-- Where knowledge comes from. The run state (last_run_ms .. failed_total)
-- is written by source_record_run only; configuration by insert/update.
CREATE TABLE sources (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    type           TEXT    NOT NULL
                   CHECK (type IN ('rss', 'docs', 'webhook', 'file', 'manual')),
    url            TEXT,
    path           TEXT,
    schedule       TEXT,
    tz             TEXT,
    priority       INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    auth_json      TEXT,
    options_json   TEXT,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    last_run_ms    INTEGER NOT NULL DEFAULT 0,
    last_status    TEXT    CHECK (last_status IS NULL OR last_status IN ('ok', 'failed')),
    last_error     TEXT,
    next_run_ms    INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0,
    runs_total     INTEGER NOT NULL DEFAULT 0,
    ingested_total INTEGER NOT NULL DEFAULT 0,
    failed_total   INTEGER NOT NULL DEFAULT 0
);

-- source_due: enabled sources whose next run has come.
CREATE INDEX sources_due ON sources (next_run_ms) WHERE enabled = 1 AND next_run_ms > 0;

-- One item of a source. The id survives updates (upsert keeps it).
-- UNIQUE (source_id, external_id) also serves lookups and per-source counts.
CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    source_id     INTEGER NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    external_id   TEXT    NOT NULL CHECK (external_id <> ''),
    url           TEXT,
    path          TEXT,
    title         TEXT    NOT NULL DEFAULT '',
    authors_json  TEXT,
    published_ms  INTEGER NOT NULL DEFAULT 0,
    updated_ms    INTEGER NOT NULL DEFAULT 0,
    tags_json     TEXT,
    version       TEXT,
    content_hash  TEXT    NOT NULL CHECK (length(content_hash) = 64),
    metadata_json TEXT,
    ingested_ms   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, external_id)
);

-- The tags of tags_json, one row each, for search's tag filter.
CREATE TABLE doc_tags (
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    tag         TEXT    NOT NULL,
    PRIMARY KEY (document_id, tag)
) WITHOUT ROWID;
CREATE INDEX doc_tags_tag ON doc_tags (tag, document_id);

-- Passages of a document; search ranks these.
CREATE TABLE chunks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ord         INTEGER NOT NULL,
    heading     TEXT,
    text        TEXT    NOT NULL
);
CREATE INDEX chunks_document ON chunks (document_id, ord);

-- The full-text index: one row per chunk, rowid = chunks.id. A regular
-- FTS5 table (it keeps its own copy of the text) rather than an
-- external-content one: the title lives in documents, and an external-content
-- delete must repeat the exact old values, which a cascade from documents
-- could no longer read. The triggers below keep it in step with chunks on
-- every path (upsert, document delete, source delete through the cascade).
CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    title, heading, body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- The document row is written before its chunks, so the title is current.
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, title, heading, body)
    VALUES (new.id, (SELECT title FROM documents WHERE id = new.document_id),
            new.heading, new.text);
END;

CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;

-- The durable job queue. AUTOINCREMENT: job_list pages by before_id, and
-- an id must never come back after a prune. A source's jobs go with it.
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT    NOT NULL CHECK (kind <> ''),
    source_id      INTEGER REFERENCES sources (id) ON DELETE CASCADE,
    state          TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    dedup_key      TEXT,
    payload        BLOB,
    attempts       INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL CHECK (max_attempts >= 1),
    next_run_ms    INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    stage          TEXT,
    last_error     TEXT,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    finished_ms    INTEGER NOT NULL DEFAULT 0
);

-- A dedup key is held only while its job is unfinished.
CREATE UNIQUE INDEX jobs_dedup ON jobs (dedup_key)
    WHERE dedup_key IS NOT NULL AND state IN ('queued', 'running', 'failed');
-- Claims (per state, by next_run_ms then id) and counts.
CREATE INDEX jobs_claim ON jobs (state, next_run_ms);
-- job_prune: succeeded jobs by age.
CREATE INDEX jobs_finished ON jobs (state, finished_ms);
-- queue_limit: unfinished jobs of one source.
CREATE INDEX jobs_source_state ON jobs (source_id, state);
