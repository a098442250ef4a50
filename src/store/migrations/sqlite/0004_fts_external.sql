-- 0004_fts_external.sql - the full-text index stops keeping its own copy of
-- the passages, and chunk inserts stop going through a trigger
-- (docs/STORE.md, "The full-text index").
-- Runs inside a transaction opened by the migration runner (src/store/sqlite.c).
--
-- chunks_fts becomes an external-content FTS5 table: its content (title,
-- heading, body) is read through the view chunks_fts_content from chunks and
-- documents, so passage text is stored once. The backend inserts a chunk's
-- index row itself, right after the chunk (FTS5 flushes its pending terms at
-- every statement savepoint, which an insert trigger opens per row: three
-- times the cost). Removal needs the exact indexed values, so it happens
-- while they still exist: a BEFORE DELETE trigger on documents (every path
-- that removes chunks - doc_delete, doc_delete_external, source_delete through
-- its cascade - deletes their document) and, when an upsert replaces a
-- document's chunks, the backend before it touches them.

DROP TRIGGER chunks_ai;
DROP TRIGGER chunks_ad;
DROP TABLE chunks_fts;

CREATE VIEW chunks_fts_content AS
    SELECT c.id AS id, d.title AS title, c.heading AS heading, c.text AS body
    FROM chunks c JOIN documents d ON d.id = c.document_id;

CREATE VIRTUAL TABLE chunks_fts USING fts5 (
    title, heading, body,
    content = 'chunks_fts_content', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- Existing databases: index every stored chunk again.
INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild');

-- The chunks are still there when this runs (the cascade comes after), and
-- old.title is the title they were indexed with.
CREATE TRIGGER documents_fts_bd BEFORE DELETE ON documents BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, title, heading, body)
    SELECT 'delete', c.id, old.title, c.heading, c.text
    FROM chunks c WHERE c.document_id = old.id;
END;
