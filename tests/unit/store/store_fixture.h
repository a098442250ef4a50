/*
 * store_fixture.h - the SQLite store fixture shared by the knowledge and
 * vector tests: a fresh database in a temporary directory per test, its
 * log captured to a file, and helpers that add sources and documents.
 * Header-only (static inline) so each test binary takes what it uses.
 */
#ifndef CC_TESTS_STORE_FIXTURE_H
#define CC_TESTS_STORE_FIXTURE_H

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
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char path[128];
    char logpath[128];
    struct cc_log log;
    int logfd;
    struct store *s;
};

static inline struct store_cfg fixture_cfg(struct fixture *f, int64_t busy_timeout_ms)
{
    return (struct store_cfg){.driver = "sqlite", .sqlite_path = f->path,
                              .busy_timeout_ms = busy_timeout_ms, .pool_size = 2,
                              .log = &f->log};
}

/* A fresh store in a new temporary directory, its log in a file there. */
static inline int fixture_open(void **state, int64_t busy_timeout_ms, enum cc_log_level level)
{
    struct fixture *f = cc_xcalloc(1, sizeof(*f));
    cc_strlcpy(f->dir, "/tmp/cc_store_XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/cc.db", f->dir);
    snprintf(f->logpath, sizeof(f->logpath), "%s/log", f->dir);
    f->logfd = open(f->logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->logfd >= 0);
    cc_log_init(&f->log, f->logfd, level, CC_LOG_JSON, cc_clock_system());
    struct store_cfg cfg = fixture_cfg(f, busy_timeout_ms);
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    *state = f;
    return 0;
}

static inline int setup(void **state)
{
    return fixture_open(state, 5000, CC_LOG_DEBUG);
}

static inline int teardown(void **state)
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
static inline int64_t raw_int(struct fixture *f, const char *sql)
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

static inline int64_t add_source(struct fixture *f, const char *name, int priority)
{
    struct store_source src = {.name = name, .type = "manual", .priority = priority,
                               .enabled = true, .created_ms = 1000, .updated_ms = 1000};
    int64_t id = 0;
    assert_int_equal(f->s->ops->source_insert(f->s, &src, &id), CC_OK);
    assert_true(id > 0);
    return id;
}

/* A valid content hash that differs per seed. */
static inline const char *hash_of(char out[65], unsigned seed)
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

static inline cc_err put_doc(struct fixture *f, int64_t source_id, const char *external_id,
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

static inline int64_t put_doc_ok(struct fixture *f, int64_t source_id, const char *external_id,
                          const struct doc_spec *spec)
{
    enum store_upsert result = STORE_UNCHANGED;
    int64_t id = 0;
    assert_int_equal(put_doc(f, source_id, external_id, spec, &result, &id), CC_OK);
    assert_int_equal(result, STORE_CREATED);
    return id;
}

/* Documents without the words searched for, so BM25's IDF stays positive. */
static inline void add_filler(struct fixture *f, int64_t source_id, int n)
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

static inline void collect_hit(void *arg, const struct store_hit *h)
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

static inline cc_err search(struct fixture *f, const struct store_search *q, struct hits *out)
{
    memset(out, 0, sizeof(*out));
    return f->s->ops->search(f->s, q, collect_hit, out);
}

static inline struct hits *search_ok(struct fixture *f, const char *text, unsigned k)
{
    static struct hits hs;
    struct store_search q = {.query = text, .k = k};
    assert_int_equal(search(f, &q, &hs), CC_OK);
    return &hs;
}

#endif
