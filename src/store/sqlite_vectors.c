/*
 * sqlite_vectors.c - embedding vectors of chunks for the SQLite backend
 * (store.h; schema in migrations/sqlite/0003_vectors.sql).
 *
 * Search over vectors is a brute-force scan: every stored vector of the
 * query's model and dimension (with the search filters applied in SQL) is
 * compared by cosine and the best `limit` kept in a min-heap. That is
 * O(vectors x dims) per query with no index to maintain; it is capped at
 * STORE_VECTOR_SCAN_MAX vectors, fine up to about a million chunks. Vectors
 * are stored as float32 little-endian whatever the host's byte order.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "store/store.h"

#define VEC_FILTERS                                                                    \
    " AND (?3 = 0 OR d.source_id = ?3)"                                                \
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM doc_tags t"                             \
    "      WHERE t.document_id = d.id AND t.tag = ?4))"                                \
    " AND (?5 = 0 OR COALESCE(NULLIF(d.published_ms, 0), d.updated_ms) >= ?5)"         \
    " AND (?6 IS NULL OR d.version = ?6)"

const struct stmt_def sqlite__vector_stmts[ST__COUNT] = {
    [ST_VEC_CHUNKS] = {"vec_chunks",
        "SELECT id FROM chunks WHERE document_id = ?1 ORDER BY ord, id"},
    [ST_VEC_PUT] = {"vec_put",
        "INSERT OR REPLACE INTO chunk_vectors (chunk_id, dims, model, vec)"
        " VALUES (?1, ?2, ?3, ?4)"},
    [ST_VEC_MISSING] = {"vec_missing",
        "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id"
        " LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.model = ?3"
        " WHERE d.source_id = ?1 AND d.external_id = ?2 AND v.chunk_id IS NULL"},
    [ST_VEC_SCAN] = {"vec_scan",
        "SELECT v.chunk_id, v.vec, s.priority, d.published_ms FROM chunk_vectors v"
        " JOIN chunks c ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id"
        " JOIN sources s ON s.id = d.source_id"
        " WHERE v.model = ?1 AND v.dims = ?2" VEC_FILTERS " LIMIT ?7"},
    /* A vector-only hit has no FTS5 match to cut a snippet from. */
    [ST_VEC_HIT] = {"vec_hit",
        "SELECT substr(c.text, 1, 200) || CASE WHEN length(c.text) > 200"
        " THEN '\xe2\x80\xa6' ELSE '' END,"
        " d.id, d.source_id, s.name, s.priority, d.title, c.heading, d.url, d.version,"
        " d.published_ms FROM chunks c JOIN documents d ON d.id = c.document_id"
        " JOIN sources s ON s.id = d.source_id WHERE c.id = ?1"},
};

struct id_list {
    int64_t *v;
    size_t n, cap;
};

static void row_id(sqlite3_stmt *st, void *ctx)
{
    struct id_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = cc_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = sqlite3_column_int64(st, 0);
}

cc_err sqlite__vectors_put(struct store *st, int64_t doc_id, size_t dims, const char *model,
                           const float *vecs, size_t n)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct id_list ids = {0};
    unsigned char *blob = cc_xmalloc(dims * 4);
    struct conn *c = sqlite__writer_get(s);
    cc_err err = sqlite__begin(s, c, ST_BEGIN_IMMEDIATE);
    if (!err)
        err = sqlite__query(s, c, ST_VEC_CHUNKS, PARAMS(PI(doc_id)), row_id, &ids, NULL);
    if (!err && ids.n == 0)
        err = CC_ENOTFOUND;
    if (!err && ids.n != n)
        err = CC_EINVAL;
    for (size_t i = 0; !err && i < n; i++) {
        for (size_t j = 0; j < dims; j++)
            store__vec_put_le(blob + 4 * j, vecs[i * dims + j]);
        err = sqlite__exec(s, c, ST_VEC_PUT,
                           PARAMS(PI(ids.v[i]), PI(dims), PT(model), PB(blob, dims * 4)), NULL);
    }
    if (!err)
        err = sqlite__commit(s, c);
    if (err)
        sqlite__rollback(c);
    sqlite__writer_put(s);
    free(blob);
    free(ids.v);
    return err;
}

cc_err sqlite__vectors_missing(struct store *st, int64_t source_id, const char *external_id,
                               const char *model, int64_t *out_missing)
{
    struct sqlite_store *s = sqlite__from_store(st);
    struct conn *c = NULL;
    int64_t n = 0;
    cc_err err = sqlite__reader_get(s, &c);
    if (err)
        return err;
    err = sqlite__query_int(s, c, ST_VEC_MISSING,
                            PARAMS(PI(source_id), PT(external_id), PT(model ? model : "")), &n,
                            NULL);
    sqlite__reader_put(s, c);
    if (!err)
        *out_missing = n;
    return err;
}

/* ---- the scan ---------------------------------------------------------- */

static void row_scan(sqlite3_stmt *st, void *ctx)
{
    struct store_topk *t = ctx;
    const unsigned char *blob = sqlite3_column_blob(st, 1);
    if (!blob || (size_t)sqlite3_column_bytes(st, 1) != t->dims * 4)
        return;                        /* the CHECK constraint keeps this from happening */
    store__topk_offer(t, sqlite3_column_int64(st, 0), blob, sqlite3_column_int(st, 2),
                      sqlite3_column_int64(st, 3));
}

static cc_err scan_rows(struct store *st, struct store_sql_conn *c, const char *model,
                        const struct store_search *f, struct store_topk *t)
{
    return sqlite__query(
        sqlite__from_store(st), (struct conn *)c, ST_VEC_SCAN,
        PARAMS(PT(model), PI(t->dims), PI(f ? f->source_id : 0), PT(f ? f->tag : NULL),
               PI(f ? f->since_ms : 0), PT(f ? f->version : NULL), PI(STORE_VECTOR_SCAN_MAX)),
        row_scan, t, NULL);
}

cc_err sqlite__vector_scan(struct sqlite_store *s, struct conn *c, const float *q, size_t dims,
                           const char *model, const struct store_search *f, unsigned limit,
                           struct store_vec_hit **out, size_t *out_n)
{
    return store__sql_vector_scan(&s->sql.base, (struct store_sql_conn *)c, scan_rows, q, dims,
                                  model, f, limit, out, out_n);
}

cc_err sqlite__vector_search(struct store *st, const float *q, size_t dims, const char *model,
                             const struct store_search *f, unsigned limit, store_vec_cb cb,
                             void *arg)
{
    return store__sql_vector_search(st, scan_rows, q, dims, model, f, limit, cb, arg);
}
