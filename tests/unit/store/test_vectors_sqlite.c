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

struct fixture {
    char dir[64];
    char path[128];
    char logpath[128];
    struct cc_log log;
    int logfd;
    struct store *s;
};

static int setup(void **state)
{
    struct fixture *f = cc_xcalloc(1, sizeof(*f));
    cc_strlcpy(f->dir, "/tmp/cc_kstore_XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/cc.db", f->dir);
    snprintf(f->logpath, sizeof(f->logpath), "%s/log", f->dir);
    f->logfd = open(f->logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->logfd >= 0);
    cc_log_init(&f->log, f->logfd, CC_LOG_DEBUG, CC_LOG_JSON, cc_clock_system());
    struct store_cfg cfg = {.driver = "sqlite", .sqlite_path = f->path,
                            .busy_timeout_ms = 5000, .pool_size = 2, .log = &f->log};
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    close(f->logfd);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d))) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* A side connection counting rows, as the operator would look. */
static int64_t raw_int(struct fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- helpers --------------------------------------------------------- */

static int64_t add_source(struct fixture *f, const char *name, int priority)
{
    struct store_source src = {.name = name, .type = "manual", .priority = priority,
                               .enabled = true, .created_ms = 1000, .updated_ms = 1000};
    int64_t id = 0;
    assert_int_equal(f->s->ops->source_insert(f->s, &src, &id), CC_OK);
    assert_true(id > 0);
    return id;
}

/* A valid content hash that differs per seed. */
static const char *hash_of(char out[65], unsigned seed)
{
    snprintf(out, 65, "%064x", seed);
    return out;
}

struct doc_spec {
    const char *title;
    const char *heading;
    const char *body;
    const char *tags_json;
    const char *version;
    int64_t published_ms;
    int64_t updated_ms;
    unsigned hash_seed;
};

static cc_err put_doc(struct fixture *f, int64_t source_id, const char *external_id,
                      const struct doc_spec *spec, enum store_upsert *result, int64_t *id)
{
    char hash[65];
    struct store_chunk chunk = {.ord = 0, .heading = spec->heading, .text = spec->body};
    struct store_doc d = {
        .source_id = source_id,
        .external_id = external_id,
        .url = "https://example.test/doc",
        .title = spec->title,
        .published_ms = spec->published_ms,
        .updated_ms = spec->updated_ms,
        .tags_json = spec->tags_json,
        .version = spec->version,
        .content_hash = hash_of(hash, spec->hash_seed ? spec->hash_seed : 1),
        .ingested_ms = 5000,
        .chunks = &chunk,
        .nchunks = 1,
    };
    return f->s->ops->doc_upsert(f->s, &d, result, id);
}

static int64_t put_doc_ok(struct fixture *f, int64_t source_id, const char *external_id,
                          const struct doc_spec *spec)
{
    enum store_upsert result = STORE_UNCHANGED;
    int64_t id = 0;
    assert_int_equal(put_doc(f, source_id, external_id, spec, &result, &id), CC_OK);
    assert_int_equal(result, STORE_CREATED);
    return id;
}

/* Documents without the words searched for, so BM25's IDF stays positive. */
static void add_filler(struct fixture *f, int64_t source_id, int n)
{
    char ext[32];
    for (int i = 0; i < n; i++) {
        snprintf(ext, sizeof(ext), "filler-%d", i);
        struct doc_spec spec = {.title = "Unrelated notes",
                                .body = "gardening tomatoes watering soil compost"};
        put_doc_ok(f, source_id, ext, &spec);
    }
}

#define HITS_MAX 128
struct hits {
    size_t n;
    struct {
        int64_t doc_id, chunk_id, source_id;
        int priority;
        double relevance, score;
        char source[72];
        char title[128];
        char snippet[1024];
    } v[HITS_MAX];
};

static void collect_hit(void *arg, const struct store_hit *h)
{
    struct hits *hs = arg;
    assert_true(hs->n < HITS_MAX);
    hs->v[hs->n].doc_id = h->doc_id;
    hs->v[hs->n].chunk_id = h->chunk_id;
    hs->v[hs->n].source_id = h->source_id;
    hs->v[hs->n].priority = h->priority;
    hs->v[hs->n].relevance = h->relevance;
    hs->v[hs->n].score = h->score;
    cc_strlcpy(hs->v[hs->n].source, h->source ? h->source : "", sizeof(hs->v[0].source));
    cc_strlcpy(hs->v[hs->n].title, h->title ? h->title : "", sizeof(hs->v[0].title));
    cc_strlcpy(hs->v[hs->n].snippet, h->snippet_html ? h->snippet_html : "",
               sizeof(hs->v[0].snippet));
    hs->n++;
}

static cc_err search(struct fixture *f, const struct store_search *q, struct hits *out)
{
    memset(out, 0, sizeof(*out));
    return f->s->ops->search(f->s, q, collect_hit, out);
}

static struct hits *search_ok(struct fixture *f, const char *text, unsigned k)
{
    static struct hits hs;
    struct store_search q = {.query = text, .k = k};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    return &hs;
}


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
