/*
 * postgres_vectors.c - embedding vectors of chunks for the PostgreSQL
 * backend (store.h; schema in migrations/postgres/0003_vectors.sql).
 *
 * The same design as sqlite_vectors.c, so both give the same results:
 * vectors are BYTEA of float32 little-endian, the search is a brute-force
 * cosine scan in C over the vectors of the query's model and dimension
 * (filters applied in SQL), the best `limit` kept in a min-heap, ties by
 * the lower chunk id.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/postgres_int.h"
#include "store/store_int.h"
#include "store/store.h"

#define VEC_FILTERS                                                                    \
    " AND ($3::int8 = 0 OR d.source_id = $3::int8)"                                    \
    " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM doc_tags t"                       \
    "      WHERE t.document_id = d.id AND t.tag = $4::text))"                          \
    " AND ($5::int8 = 0 OR COALESCE(NULLIF(d.published_ms, 0), d.updated_ms) >= $5::int8)" \
    " AND ($6::text IS NULL OR d.version = $6::text)"

const struct pg_stmt_def pg__vector_stmts[PS__COUNT] = {
    [PS_VEC_CHUNKS] = {"vec_chunks",
        "SELECT id FROM chunks WHERE document_id = $1 ORDER BY ord, id FOR SHARE"},
    [PS_VEC_PUT] = {"vec_put",
        "INSERT INTO chunk_vectors (chunk_id, dims, model, vec) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (chunk_id) DO UPDATE SET dims = EXCLUDED.dims,"
        " model = EXCLUDED.model, vec = EXCLUDED.vec"},
    [PS_VEC_MISSING] = {"vec_missing",
        "SELECT COUNT(*) FROM chunks c JOIN documents d ON d.id = c.document_id"
        " LEFT JOIN chunk_vectors v ON v.chunk_id = c.id AND v.model = $3"
        " WHERE d.source_id = $1 AND d.external_id = $2 AND v.chunk_id IS NULL"},
    [PS_VEC_SCAN] = {"vec_scan",
        "SELECT v.chunk_id, v.vec, s.priority, d.published_ms FROM chunk_vectors v"
        " JOIN chunks c ON c.id = v.chunk_id JOIN documents d ON d.id = c.document_id"
        " JOIN sources s ON s.id = d.source_id"
        " WHERE v.model = $1 AND v.dims = $2" VEC_FILTERS " LIMIT $7"},
};

struct id_list {
    int64_t *v;
    size_t n, cap;
};

static void row_id(const struct pg_row *r, void *ctx)
{
    struct id_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = cc_xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = pg__int(r, 0);
}

cc_err pg__vectors_put(struct store *st, int64_t doc_id, size_t dims, const char *model,
                       const float *vecs, size_t n)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    struct id_list ids = {0};
    unsigned char *blob = cc_xmalloc(dims * 4);
    err = pg__begin(s, c);
    if (!err)
        err = pg__query(s, c, PS_VEC_CHUNKS, QPARAMS(QI(doc_id)), row_id, &ids, NULL);
    if (!err && ids.n == 0)
        err = CC_ENOTFOUND;
    if (!err && ids.n != n)
        err = CC_EINVAL;
    for (size_t i = 0; !err && i < n; i++) {
        for (size_t j = 0; j < dims; j++)
            store__vec_put_le(blob + 4 * j, vecs[i * dims + j]);
        err = pg__query(s, c, PS_VEC_PUT,
                        QPARAMS(QI(ids.v[i]), QI(dims), QT(model), QB(blob, dims * 4)), NULL,
                        NULL, NULL);
    }
    if (!err)
        err = pg__commit(s, c);
    pg__conn_put(s, c);
    free(blob);
    free(ids.v);
    return err;
}

cc_err pg__vectors_missing(struct store *st, int64_t source_id, const char *external_id,
                           const char *model, int64_t *out_missing)
{
    int64_t n = 0;
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    err = pg__query_int(s, c, PS_VEC_MISSING,
                        QPARAMS(QI(source_id), QT(external_id), QT(model ? model : "")), &n,
                        NULL);
    pg__conn_put(s, c);
    if (!err)
        *out_missing = n;
    return err;
}

/* ---- the scan -------------------------------------------------------- */

static void row_scan(const struct pg_row *r, void *ctx)
{
    struct store_topk *t = ctx;
    size_t len = 0;
    unsigned char *blob = pg__bytea(r, 1, &len);
    if (blob && len == t->dims * 4)    /* the CHECK constraint keeps it so */
        store__topk_offer(t, pg__int(r, 0), blob, (int)pg__int(r, 2), pg__int(r, 3));
    free(blob);
}

static cc_err scan_rows(struct store *st, struct store_sql_conn *c, const char *model,
                        const struct store_search *f, struct store_topk *t)
{
    return pg__query(
        pg__from_store(st), (struct pg_conn *)c, PS_VEC_SCAN,
        QPARAMS(QT(model), QI(t->dims), QI(f ? f->source_id : 0), QT(f ? f->tag : NULL),
                QI(f ? f->since_ms : 0), QT(f ? f->version : NULL), QI(STORE_VECTOR_SCAN_MAX)),
        row_scan, t, NULL);
}

cc_err pg__vector_scan(struct pg_store *s, struct pg_conn *c, const float *q, size_t dims,
                       const char *model, const struct store_search *f, unsigned limit,
                       struct store_vec_hit **out, size_t *out_n)
{
    return store__sql_vector_scan(&s->sql.base, (struct store_sql_conn *)c, scan_rows, q, dims,
                                  model, f, limit, out, out_n);
}

cc_err pg__vector_search(struct store *st, const float *q, size_t dims, const char *model,
                         const struct store_search *f, unsigned limit, store_vec_cb cb,
                         void *arg)
{
    return store__sql_vector_search(st, scan_rows, q, dims, model, f, limit, cb, arg);
}
