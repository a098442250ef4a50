/*
 * test_vectors_sqlite.c - embedding vectors of the SQLite store: put,
 * missing, the brute-force cosine search with its filters, and hybrid
 * search fusing BM25 and vectors by reciprocal rank fusion (k = 60).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#include "store_fixture.h"


struct vhits {
    size_t n;
    int64_t id[16];
    double cos[16];
};

static void collect_vec(void *arg, int64_t chunk_id, double cosine)
{
    struct vhits *h = arg;
    assert_true(h->n < 16);
    h->id[h->n] = chunk_id;
    h->cos[h->n++] = cosine;
}

/* The chunk id of a one-chunk document, read as an operator would. */
static int64_t chunk_of(struct fixture *f, int64_t doc_id)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT id FROM chunks WHERE document_id = %lld",
             (long long)doc_id);
    return raw_int(f, sql);
}

static void test_vectors_put_and_missing(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "a", 5);
    struct doc_spec spec = {.title = "T", .body = "alpha"};
    int64_t id = put_doc_ok(f, src, "d1", &spec);
    int64_t missing = -1;
    assert_int_equal(f->s->ops->vectors_missing(f->s, src, "d1", "m", &missing), CC_OK);
    assert_int_equal(missing, 1);
    const float v[3] = {1, 0, 0};
    /* Two vectors for a one-chunk document; a bad dimension; no document. */
    const float two[6] = {0};
    assert_int_equal(f->s->ops->vectors_put(f->s, id, 3, "m", two, 2), CC_EINVAL);
    assert_int_equal(f->s->ops->vectors_put(f->s, id, 0, "m", v, 1), CC_EINVAL);
    assert_int_equal(f->s->ops->vectors_put(f->s, id + 100, 3, "m", v, 1), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->vectors_put(f->s, id, 3, "m", v, 1), CC_OK);
    assert_int_equal(f->s->ops->vectors_put(f->s, id, 3, "m", v, 1), CC_OK); /* idempotent */
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM chunk_vectors"), 1);
    assert_int_equal(raw_int(f, "SELECT length(vec) FROM chunk_vectors"), 12);
    /* float32 little-endian: 1.0f is 00 00 80 3f */
    assert_int_equal(raw_int(f, "SELECT hex(vec) = '0000803F0000000000000000'"
                                " FROM chunk_vectors"), 1);
    assert_int_equal(f->s->ops->vectors_missing(f->s, src, "d1", "m", &missing), CC_OK);
    assert_int_equal(missing, 0);
    assert_int_equal(f->s->ops->vectors_missing(f->s, src, "d1", "other", &missing), CC_OK);
    assert_int_equal(missing, 1);
    /* A changed document gets new chunks; its vectors go with the old ones. */
    spec.body = "beta";
    spec.hash_seed = 2;
    enum store_upsert r;
    assert_int_equal(put_doc(f, src, "d1", &spec, &r, &id), CC_OK);
    assert_int_equal(r, STORE_UPDATED);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM chunk_vectors"), 0);
    add_filler(f, src, 1);
}

static void test_vector_search_cosine_and_filters(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5);
    int64_t b = add_source(f, "b", 5);
    struct doc_spec d1 = {.title = "one", .body = "x", .tags_json = "[\"t\"]", .hash_seed = 1};
    struct doc_spec d2 = {.title = "two", .body = "y", .version = "v2", .hash_seed = 2};
    struct doc_spec d3 = {.title = "three", .body = "z", .hash_seed = 3};
    int64_t id1 = put_doc_ok(f, a, "1", &d1);
    int64_t id2 = put_doc_ok(f, a, "2", &d2);
    int64_t id3 = put_doc_ok(f, b, "3", &d3);
    const float v1[2] = {1, 0}, v2[2] = {1, 1}, v3[2] = {0, 2}, other[3] = {1, 0, 0};
    assert_int_equal(f->s->ops->vectors_put(f->s, id1, 2, "m", v1, 1), CC_OK);
    assert_int_equal(f->s->ops->vectors_put(f->s, id2, 2, "m", v2, 1), CC_OK);
    assert_int_equal(f->s->ops->vectors_put(f->s, id3, 2, "m", v3, 1), CC_OK);
    const float q[2] = {2, 0.1f};
    struct store_search none = {0};
    struct vhits h = {0};
    assert_int_equal(f->s->ops->vector_search(f->s, q, 2, "m", &none, 10, collect_vec, &h),
                     CC_OK);
    assert_int_equal(h.n, 3);
    assert_int_equal(h.id[0], chunk_of(f, id1));
    assert_int_equal(h.id[1], chunk_of(f, id2));
    assert_int_equal(h.id[2], chunk_of(f, id3));
    assert_true(h.cos[0] > 0.99 && h.cos[0] <= 1.0 + 1e-9);
    assert_float_equal(h.cos[2], 0.1 / sqrt(4.01), 1e-6);
    /* limit keeps the best */
    h.n = 0;
    assert_int_equal(f->s->ops->vector_search(f->s, q, 2, "m", &none, 1, collect_vec, &h),
                     CC_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.id[0], chunk_of(f, id1));
    /* filters: source, tag, version; another model or dimension sees nothing */
    struct store_search fb = {.source_id = b}, ft = {.tag = "t"}, fv = {.version = "v2"};
    h.n = 0;
    f->s->ops->vector_search(f->s, q, 2, "m", &fb, 10, collect_vec, &h);
    assert_true(h.n == 1 && h.id[0] == chunk_of(f, id3));
    h.n = 0;
    f->s->ops->vector_search(f->s, q, 2, "m", &ft, 10, collect_vec, &h);
    assert_true(h.n == 1 && h.id[0] == chunk_of(f, id1));
    h.n = 0;
    f->s->ops->vector_search(f->s, q, 2, "m", &fv, 10, collect_vec, &h);
    assert_true(h.n == 1 && h.id[0] == chunk_of(f, id2));
    h.n = 0;
    f->s->ops->vector_search(f->s, q, 2, "m2", &none, 10, collect_vec, &h);
    assert_int_equal(h.n, 0);
    f->s->ops->vector_search(f->s, other, 3, "m", &none, 10, collect_vec, &h);
    assert_int_equal(h.n, 0);
}

static void test_hybrid_search_rrf(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "a", 5);
    add_filler(f, src, 3);
    struct doc_spec lex = {.title = "Cars", .body = "car repair manual", .hash_seed = 10};
    struct doc_spec sem = {.title = "Vehicles", .body = "automobile maintenance <b>",
                           .hash_seed = 11};
    int64_t idl = put_doc_ok(f, src, "lex", &lex);
    int64_t ids = put_doc_ok(f, src, "sem", &sem);
    const float vl[2] = {0, 1}, vs[2] = {1, 0};
    assert_int_equal(f->s->ops->vectors_put(f->s, idl, 2, "m", vl, 1), CC_OK);
    assert_int_equal(f->s->ops->vectors_put(f->s, ids, 2, "m", vs, 1), CC_OK);
    const float q[2] = {1, 0.01f};
    struct store_search s = {.query = "car", .k = 10, .vec = q, .dims = 2, .model = "m"};
    struct hits hs;
    assert_int_equal(search(f, &s, &hs), CC_OK);
    /* lex: BM25 rank 1 + vector rank 2; sem: vector rank 1 only; the fillers'
     * vectors are absent, and they do not match "car". */
    assert_int_equal(hs.n, 2);
    assert_int_equal(hs.v[0].doc_id, idl);
    assert_float_equal(hs.v[0].relevance, 1.0 / 61 + 1.0 / 62, 1e-9);
    assert_float_equal(hs.v[0].score, hs.v[0].relevance * store_priority_factor(5), 1e-9);
    assert_int_equal(hs.v[1].doc_id, ids);
    assert_float_equal(hs.v[1].relevance, 1.0 / 61, 1e-9);
    assert_non_null(strstr(hs.v[0].snippet, "<mark>car</mark>"));
    /* a vector-only hit: the text's start, escaped, unmarked */
    assert_string_equal(hs.v[1].snippet, "automobile maintenance &lt;b&gt;");
    /* without a vector: BM25 alone */
    assert_int_equal(search_ok(f, "car", 10)->n, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_vectors_put_and_missing),
        T(test_vector_search_cosine_and_filters),
        T(test_hybrid_search_rrf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
