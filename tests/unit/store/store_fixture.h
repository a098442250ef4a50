/*
 * store_fixture.h - the store fixture shared by the knowledge, job and
 * vector tests: a fresh database per test, its log captured to a file in a
 * temporary directory, and helpers that add sources and documents.
 * Header-only (static inline) so each test binary takes what it uses.
 *
 * The backend is a parameter: by default SQLite (a file in the temporary
 * directory). A test file that defines STORE_FIXTURE_PG before including
 * its SQLite twin runs the same cases on PostgreSQL: each test gets a
 * fresh schema (cc_test_<pid>_<n>) in the database of $CC_TEST_PG_DSN,
 * dropped at teardown. Without CC_TEST_PG_DSN the PostgreSQL variant fails
 * and says how to start a server (scripts/postgres.sh).
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

#include <libpq-fe.h>

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
    char schema[64];           /* PostgreSQL: this test's schema */
    char dsn[1024];            /* PostgreSQL: the DSN with search_path set */
};

#ifdef STORE_FIXTURE_PG
#define FIXTURE_DRIVER "postgres"
/* Rows of the full-text index, as the operator would count them. */
#define FTS_ROWS_SQL "SELECT nrows FROM fts_totals"
#else
#define FIXTURE_DRIVER "sqlite"
#define FTS_ROWS_SQL "SELECT COUNT(*) FROM chunks_fts"
#endif

static inline struct store_cfg fixture_cfg(struct fixture *f, int64_t busy_timeout_ms)
{
    return (struct store_cfg){.driver = FIXTURE_DRIVER, .sqlite_path = f->path,
                              .postgres_dsn = f->dsn,
                              .busy_timeout_ms = busy_timeout_ms, .pool_size = 2,
                              .log = &f->log};
}

/* The server of $CC_TEST_PG_DSN, or a failed test that says what to do. */
static inline const char *fixture_pg_base(void)
{
    const char *dsn = getenv("CC_TEST_PG_DSN");
    if (!dsn || !*dsn)
        fail_msg("CC_TEST_PG_DSN is not set: the PostgreSQL store tests need a server. Run\n"
                 "  eval \"$(scripts/postgres.sh start /tmp/ccpg)\"; export CC_TEST_PG_DSN\n"
                 "(scripts/test.sh does this itself), then run the tests again.");
    return dsn;
}

/* Runs sql on the test database as the operator would (no schema set). */
static inline void fixture_pg_exec(const char *dsn, const char *sql)
{
    PGconn *pg = PQconnectdb(dsn);
    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("cannot connect to CC_TEST_PG_DSN: %s", PQerrorMessage(pg));
    PQclear(PQexec(pg, "SET client_min_messages = warning"));
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(pg);
}

/* A fresh schema and a DSN that puts it first on the search_path. The
 * schema also gets hex(bytea), so tests can read blobs as with SQLite. */
static inline void fixture_pg_schema(struct fixture *f)
{
    static unsigned seq;
    const char *base = fixture_pg_base();
    char sql[512];
    snprintf(f->schema, sizeof(f->schema), "cc_test_%ld_%u", (long)getpid(), seq++);
    snprintf(sql, sizeof(sql),
             "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s;"
             " CREATE FUNCTION %s.hex(bytea) RETURNS text LANGUAGE sql IMMUTABLE"
             " AS 'SELECT upper(encode($1, ''hex''))'",
             f->schema, f->schema, f->schema);
    fixture_pg_exec(base, sql);
    snprintf(f->dsn, sizeof(f->dsn), "%s options='-csearch_path=%s'", base, f->schema);
}

static inline void fixture_pg_drop(struct fixture *f)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", f->schema);
    fixture_pg_exec(fixture_pg_base(), sql);
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
#ifdef STORE_FIXTURE_PG
    fixture_pg_schema(f);
#endif
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
#ifdef STORE_FIXTURE_PG
    fixture_pg_drop(f);
#endif
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
#ifdef STORE_FIXTURE_PG
    PGconn *pg = PQconnectdb(f->dsn);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    int64_t pv = -1;
    if (PQntuples(res) > 0) {
        const char *v = PQgetvalue(res, 0, 0);
        pv = strcmp(v, "t") == 0 ? 1 : strcmp(v, "f") == 0 ? 0 : strtoll(v, NULL, 10);
    }
    PQclear(res);
    PQfinish(pg);
    return pv;
#endif
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
