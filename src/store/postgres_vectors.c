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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "store/postgres_int.h"
#include "store/store.h"

#define MAX_DIMS 8192

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

static void put_le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    p[0] = (unsigned char)u;
    p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16);
    p[3] = (unsigned char)(u >> 24);
}

static float get_le(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

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
    if (!model || !vecs || dims == 0 || dims > MAX_DIMS)
        return CC_EINVAL;
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
            put_le(blob + 4 * j, vecs[i * dims + j]);
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
    if (!external_id || !out_missing)
        return CC_EINVAL;
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

struct scan {
    const float *q;
    double qnorm;
    size_t dims;
    struct pg_vec_hit *heap;       /* min-heap: the worst on top */
    size_t n, cap;
};

static bool worse(const struct pg_vec_hit *a, const struct pg_vec_hit *b)
{
    if (a->cosine != b->cosine)
        return a->cosine < b->cosine;
    return a->chunk_id > b->chunk_id;
}

static void sift_down(struct scan *sc, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < sc->n && worse(&sc->heap[l], &sc->heap[m]))
            m = l;
        if (r < sc->n && worse(&sc->heap[r], &sc->heap[m]))
            m = r;
        if (m == i)
            return;
        struct pg_vec_hit t = sc->heap[i];
        sc->heap[i] = sc->heap[m];
        sc->heap[m] = t;
        i = m;
    }
}

static void heap_offer(struct scan *sc, const struct pg_vec_hit *h)
{
    if (sc->n < sc->cap) {
        size_t i = sc->n++;
        sc->heap[i] = *h;
        while (i && worse(&sc->heap[i], &sc->heap[(i - 1) / 2])) {
            struct pg_vec_hit t = sc->heap[i];
            sc->heap[i] = sc->heap[(i - 1) / 2];
            sc->heap[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (worse(&sc->heap[0], h)) {
        sc->heap[0] = *h;
        sift_down(sc, 0);
    }
}

static void row_scan(const struct pg_row *r, void *ctx)
{
    struct scan *sc = ctx;
    size_t len = 0;
    unsigned char *blob = pg__bytea(r, 1, &len);
    if (!blob || len != sc->dims * 4) {
        free(blob);
        return;                        /* the CHECK constraint keeps this from happening */
    }
    double dot = 0, norm = 0;
    for (size_t i = 0; i < sc->dims; i++) {
        double x = get_le(blob + 4 * i);
        dot += x * sc->q[i];
        norm += x * x;
    }
    free(blob);
    if (norm <= 0 || sc->qnorm <= 0)
        return;
    struct pg_vec_hit h = {.chunk_id = pg__int(r, 0),
                           .cosine = dot / (sqrt(norm) * sc->qnorm),
                           .priority = (int)pg__int(r, 2),
                           .published_ms = pg__int(r, 3)};
    heap_offer(sc, &h);
}

static int hit_cmp(const void *a, const void *b)
{
    const struct pg_vec_hit *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

cc_err pg__vector_scan(struct pg_store *s, struct pg_conn *c, const float *q, size_t dims,
                       const char *model, const struct store_search *f, unsigned limit,
                       struct pg_vec_hit **out, size_t *out_n)
{
    if (!q || !model || dims == 0 || dims > MAX_DIMS || limit == 0)
        return CC_EINVAL;
    struct scan sc = {.q = q, .dims = dims, .cap = limit};
    for (size_t i = 0; i < dims; i++)
        sc.qnorm += (double)q[i] * q[i];
    sc.qnorm = sqrt(sc.qnorm);
    sc.heap = cc_xcalloc(limit, sizeof(*sc.heap));
    cc_err err = pg__query(
        s, c, PS_VEC_SCAN,
        QPARAMS(QT(model), QI(dims), QI(f ? f->source_id : 0), QT(f ? f->tag : NULL),
                QI(f ? f->since_ms : 0), QT(f ? f->version : NULL), QI(STORE_VECTOR_SCAN_MAX)),
        row_scan, &sc, NULL);
    if (err) {
        free(sc.heap);
        return err;
    }
    qsort(sc.heap, sc.n, sizeof(*sc.heap), hit_cmp);
    *out = sc.heap;
    *out_n = sc.n;
    return CC_OK;
}

cc_err pg__vector_search(struct store *st, const float *q, size_t dims, const char *model,
                         const struct store_search *f, unsigned limit, store_vec_cb cb,
                         void *arg)
{
    struct pg_store *s = pg__from_store(st);
    struct pg_conn *c = NULL;
    struct pg_vec_hit *hits = NULL;
    size_t n = 0;
    if (!cb)
        return CC_EINVAL;
    cc_err err = pg__conn_get(s, &c);
    if (err)
        return err;
    err = pg__begin_read(s, c);
    if (!err)
        err = pg__vector_scan(s, c, q, dims, model, f, limit, &hits, &n);
    if (!err)
        err = pg__commit(s, c);
    pg__conn_put(s, c);
    for (size_t i = 0; !err && i < n; i++)
        cb(arg, hits[i].chunk_id, hits[i].cosine);
    free(hits);
    return err;
}
