-- 0003_vectors.sql - optional embedding vectors of chunks, for hybrid search
-- (docs/KNOWLEDGE.md, "Vectors"). One vector per chunk, written by the
-- pipeline's embed stage; it goes with its chunk (a changed document gets new
-- chunks, hence new vectors). vec is dims float32 values, little-endian.
-- model and dims are kept per row so a changed embed_model never mixes spaces:
-- search reads only vectors of the configured model and the query's dims.
CREATE TABLE chunk_vectors (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE,
    dims     INTEGER NOT NULL CHECK (dims BETWEEN 1 AND 8192),
    model    TEXT    NOT NULL,
    vec      BLOB    NOT NULL CHECK (length(vec) = 4 * dims)
);
CREATE INDEX chunk_vectors_model ON chunk_vectors (model, dims);
