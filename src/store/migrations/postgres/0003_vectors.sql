-- 0003_vectors.sql - optional embedding vectors of chunks (PostgreSQL; same
-- rules as migrations/sqlite/0003_vectors.sql). vec is dims float32 values,
-- little-endian, as BYTEA: the scan is done in C like SQLite's.
CREATE TABLE chunk_vectors (
    chunk_id BIGINT  PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
    dims     INTEGER NOT NULL CHECK (dims BETWEEN 1 AND 8192),
    model    TEXT    NOT NULL,
    vec      BYTEA   NOT NULL CHECK (length(vec) = 4 * dims)
);
CREATE INDEX chunk_vectors_model ON chunk_vectors (model, dims);
