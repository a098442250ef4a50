/*
 * test_store_pg.c - what is particular to the PostgreSQL backend: ranking
 * parity with SQLite (the same corpus and queries on both give the same
 * hits, relevance bit for bit, and snippets), migrations (recorded once,
 * a newer schema refused, two opens at once), the pool (busy_timeout ->
 * CC_EAGAIN), a killed connection (CC_EIO, then working again), tokens,
 * projects and events, and bad DSNs. Needs CC_TEST_PG_DSN
 * (scripts/postgres.sh); fails with a hint without it.
 */
#define STORE_FIXTURE_PG 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/embedded.h"
#include "core/log.h"
#include "store/store.h"

#include "store_fixture.h"

/* ---- parity ---------------------------------------------------------- */

static const struct {
    const char *title, *heading, *body, *tags, *version;
    int64_t published;
    int src;
} corpus[] = {
    {"Installing the server", "Install \xe2\x80\xba From source",
     "Install the server from source: run make install, then start the server.",
     "[\"ops\"]", "v1", 1000, 0},
    {"Release notes", NULL, "The installer now checks disk space before installing.",
     "[\"news\"]", "v2", 2000, 1},
    {"Caf\xc3\xa9 na\xc3\xafve r\xc3\xa9sum\xc3\xa9", "Diacritics",
     "A naive cafe resume, written na\xc3\xafvely; caf\xc3\xa9s & <tags> \"quoted\" 'single'.",
     NULL, NULL, 0, 0},
    {"Server tuning", "Memory", "Tune the server: memory, memory and more memory. "
     "Servers with lots of memory serve queries faster than servers without.",
     "[\"ops\",\"perf\"]", "v1", 3000, 1},
    {"Unrelated", NULL, "gardening tomatoes watering soil compost", NULL, NULL, 500, 0},
    {"Long text", "Sections", "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda "
     "mu nu xi omicron pi rho sigma tau upsilon phi chi psi omega alpha beta gamma delta "
     "server epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau",
     NULL, "v2", 4000, 2},
    {"Em\xe2\x80\x94" "dash and CJK", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e text with foo\xe2\x80\x94" "bar joined and foo bar apart",
     NULL, NULL, 100, 2},
};

static const char *const queries[] = {
    "install server", "installing", "server", "memory server", "cafe", "na\xc3\xafve",
    "resume caf\xc3\xa9", "alpha omega", ("foo\xe2\x80\x94" "bar"), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
    "\"quoted\" AND NOT ( tags*", "memory memory", "nothing-matches-this", "v1", "tags",
    /* 16 lexemes, as many as the candidates query has columns (a phrase of
     * four among them), then 17: BM25 computed by PostgreSQL */
    ("server foo\xe2\x80\x94" "bar\xe2\x80\x94" "one\xe2\x80\x94" "two alpha omega memory cafe"
     " resume tags v1 quoted three"),
    "alpha omega install server memory cafe resume tags v1 quoted foo bar one two three four"
    " five",
};

static void fill(struct fixture *f)
{
    int64_t src[3];
    src[0] = add_source(f, "docs", 5);
    src[1] = add_source(f, "news", 9);
    src[2] = add_source(f, "misc", 2);
    char ext[32];
    for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
        struct doc_spec spec = {.title = corpus[i].title, .heading = corpus[i].heading,
                                .body = corpus[i].body, .tags_json = corpus[i].tags,
                                .version = corpus[i].version,
                                .published_ms = corpus[i].published,
                                .hash_seed = (unsigned)i + 1};
        snprintf(ext, sizeof(ext), "doc-%zu", i);
        put_doc_ok(f, src[corpus[i].src], ext, &spec);
    }
    add_filler(f, src[2], 5);
}

static void compare(const char *what, const struct hits *a, const struct hits *b)
{
    if (a->n != b->n)
        fail_msg("%s: sqlite %zu hits, postgres %zu", what, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].chunk_id != b->v[i].chunk_id || a->v[i].relevance != b->v[i].relevance ||
            a->v[i].score != b->v[i].score || strcmp(a->v[i].snippet, b->v[i].snippet) != 0 ||
            strcmp(a->v[i].title, b->v[i].title) != 0 || a->v[i].priority != b->v[i].priority)
            fail_msg("%s: hit %zu differs:\n sqlite   chunk %lld rel %.17g score %.17g %s\n"
                     " postgres chunk %lld rel %.17g score %.17g %s",
                     what, i, (long long)a->v[i].chunk_id, a->v[i].relevance, a->v[i].score,
                     a->v[i].snippet, (long long)b->v[i].chunk_id, b->v[i].relevance,
                     b->v[i].score, b->v[i].snippet);
    }
}

static int setup_sqlite_twin(struct fixture **out)
{
    struct fixture *f = cc_xcalloc(1, sizeof(*f));
    cc_strlcpy(f->dir, "/tmp/cc_store_XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/cc.db", f->dir);
    snprintf(f->logpath, sizeof(f->logpath), "%s/log", f->dir);
    f->logfd = open(f->logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cc_log_init(&f->log, f->logfd, CC_LOG_DEBUG, CC_LOG_JSON, cc_clock_system());
    struct store_cfg cfg = {.driver = "sqlite", .sqlite_path = f->path, .busy_timeout_ms = 5000,
                            .pool_size = 2, .log = &f->log};
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    *out = f;
    return 0;
}

static void teardown_sqlite_twin(struct fixture *f)
{
    char p[256];
    store_close(f->s);
    close(f->logfd);
    const char *sfx[] = {"/cc.db", "/cc.db-wal", "/cc.db-shm", "/log"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", f->dir, sfx[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
}

static void test_ranking_parity_with_sqlite(void **state)
{
    struct fixture *pg = *state, *lite = NULL;
    setup_sqlite_twin(&lite);
    fill(pg);
    fill(lite);
    static struct hits a, b;
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        for (int variant = 0; variant < 4; variant++) {
            struct store_search q = {.query = queries[i], .k = 10};
            if (variant == 1)
                q.k = 2;
            if (variant == 2)
                q.tag = "ops";
            if (variant == 3) {
                q.version = "v1";
                q.since_ms = 1500;
            }
            cc_err ea = search(lite, &q, &a);
            cc_err eb = search(pg, &q, &b);
            assert_int_equal(ea, eb);
            char what[160];
            snprintf(what, sizeof(what), "query '%s' variant %d", queries[i], variant);
            compare(what, &a, &b);
        }
    }
    /* Something was actually compared. */
    struct hits *h = search_ok(pg, "server", 10);
    assert_true(h->n >= 3);
    assert_non_null(strstr(h->v[0].snippet, "<mark>"));
    /* Deleting keeps the statistics (and so the ranking) in step. */
    assert_int_equal(pg->s->ops->source_delete(pg->s, 1), CC_OK);
    assert_int_equal(lite->s->ops->source_delete(lite->s, 1), CC_OK);
    struct store_search q = {.query = "server memory", .k = 10};
    assert_int_equal(search(lite, &q, &a), CC_OK);
    assert_int_equal(search(pg, &q, &b), CC_OK);
    compare("after delete", &a, &b);
    assert_int_equal(raw_int(pg, "SELECT nrows FROM fts_totals"),
                     raw_int(pg, "SELECT COUNT(*) FROM chunks"));
    assert_int_equal(raw_int(pg, "SELECT ntok FROM fts_totals"),
                     raw_int(pg, "SELECT SUM(ntok) FROM chunks"));
    teardown_sqlite_twin(lite);
}

/* ---- migrations ------------------------------------------------------ */

/* Versions need not be contiguous (each one is recorded once). */
static int64_t migrations_in_binary(void)
{
    int64_t n = 0;
    for (const struct cc_embedded *m = postgres_migrations; m->name; m++)
        n++;
    return n;
}

static void test_migrations_recorded_once_and_newer_refused(void **state)
{
    struct fixture *f = *state;
    struct store_info info = {0};
    assert_int_equal(f->s->ops->info(f->s, &info), CC_OK);
    assert_string_equal(info.driver, "postgres");
    assert_true(info.schema_latest >= 3);
    assert_int_equal(info.schema_version, info.schema_latest);
    int64_t rows = raw_int(f, "SELECT COUNT(*) FROM schema_migrations");
    assert_int_equal(rows, migrations_in_binary());
    /* Reopening applies nothing. */
    store_close(f->s);
    struct store_cfg cfg = fixture_cfg(f, 5000);
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_migrations"), rows);
    /* A database from a newer binary is refused. */
    store_close(f->s);
    f->s = NULL;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO %s.schema_migrations (version, name, applied_at)"
             " VALUES (9999, '9999_future.sql', 0)", f->schema);
    fixture_pg_exec(fixture_pg_base(), sql);
    struct store *s = NULL;
    assert_int_equal(store_open(&cfg, &s), CC_ESTATE);
    assert_null(s);
}

struct opener {
    struct store_cfg cfg;
    struct store *s;
    cc_err err;
};

static void *open_thread(void *arg)
{
    struct opener *o = arg;
    o->err = store_open(&o->cfg, &o->s);
    return NULL;
}

/* Four stores opening a fresh schema at once: the advisory lock makes
 * them migrate one after another, each migration applied once. */
static void test_concurrent_open_migrates_once(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    f->s = NULL;
    fixture_pg_drop(f);
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", f->schema);
    fixture_pg_exec(fixture_pg_base(), sql);
    struct opener o[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (struct opener){.cfg = fixture_cfg(f, 20000)};
        assert_int_equal(pthread_create(&th[i], NULL, open_thread, &o[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(o[i].err, CC_OK);
    }
    struct store_info info = {0};
    assert_int_equal(o[0].s->ops->info(o[0].s, &info), CC_OK);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_migrations"), migrations_in_binary());
    assert_int_equal(info.schema_version, info.schema_latest);
    for (int i = 0; i < 4; i++)
        store_close(o[i].s);
}

/* ---- the pool and broken connections ---------------------------------- */

static void hold_cb(void *arg, const struct store_token *t)
{
    (void)t;
    struct fixture *f = arg;
    /* Inside a callback our connection is checked out: with pool_size 1 a
     * second call must give up after busy_timeout. */
    struct store_info info;
    assert_int_equal(f->s->ops->info(f->s, &info), CC_EAGAIN);
}

static void test_pool_exhausted_is_eagain(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    struct store_cfg cfg = fixture_cfg(f, 100);
    cfg.pool_size = 1;
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    struct store_token t = {.name = "a", .hash = "0000000000000000000000000000000000000000000000000000000000000001",
                            .scope = "read", .created_ms = 1};
    assert_int_equal(f->s->ops->token_insert(f->s, &t, NULL), CC_OK);
    int64_t t0 = cc_mono_ms(cc_clock_system());
    assert_int_equal(f->s->ops->token_list(f->s, hold_cb, f), CC_OK);
    assert_true(cc_mono_ms(cc_clock_system()) - t0 >= 90);
}

static void test_killed_connection_fails_then_recovers(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char dsn[1200], sql[256];
    snprintf(dsn, sizeof(dsn), "%s application_name=kill_%s", f->dsn, f->schema);
    struct store_cfg cfg = fixture_cfg(f, 5000);
    cfg.postgres_dsn = dsn;
    cfg.pool_size = 1;
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    assert_int_equal(f->s->ops->ping(f->s), CC_OK);
    snprintf(sql, sizeof(sql),
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = 'kill_%s'", f->schema);
    fixture_pg_exec(fixture_pg_base(), sql);
    usleep(200 * 1000);
    /* The first call sees the dead session and fails cleanly (the reset
     * follows at once); the next ones work on the new session. */
    assert_int_equal(f->s->ops->ping(f->s), CC_EIO);
    assert_int_equal(f->s->ops->ping(f->s), CC_OK);
    struct store_event e = {.ts_ms = 1, .kind = "k", .message = "m"};
    assert_int_equal(f->s->ops->event_append(f->s, &e, NULL), CC_OK);
}

/* ---- tokens, projects, events ------------------------------------------ */

static void count_token(void *arg, const struct store_token *t)
{
    (void)t;
    (*(int *)arg)++;
}

static void project_state(void *arg, const struct store_project *p)
{
    cc_strlcpy(arg, p->state, 32);
}

static void event_ids(void *arg, const struct store_event *e)
{
    int64_t *last = arg;
    assert_true(e->id > *last);
    *last = e->id;
}

static void test_tokens_projects_events(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    const char *hash = "00000000000000000000000000000000000000000000000000000000000000aa";
    struct store_token t = {.name = "ci", .hash = hash, .scope = "admin", .created_ms = 5};
    int64_t id = 0;
    assert_int_equal(s->ops->token_insert(s, &t, &id), CC_OK);
    assert_int_equal(s->ops->token_insert(s, &t, NULL), CC_ECONFLICT);
    t.scope = "root";
    assert_int_equal(s->ops->token_insert(s, &t, NULL), CC_EINVAL);
    assert_int_equal(s->ops->token_touch(s, id, 99), CC_OK);
    assert_int_equal(s->ops->token_touch(s, id + 50, 99), CC_ENOTFOUND);
    int n = 0;
    assert_int_equal(s->ops->token_list(s, count_token, &n), CC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s->ops->token_delete(s, id), CC_OK);
    assert_int_equal(s->ops->token_delete(s, id), CC_ENOTFOUND);

    struct store_project p = {.name = "web", .compose_path = "/x/compose.yml", .state = "registered",
                              .created_ms = 1, .updated_ms = 1};
    assert_int_equal(s->ops->project_insert(s, &p, &p.id), CC_OK);
    assert_int_equal(s->ops->project_insert(s, &p, NULL), CC_ECONFLICT);
    p.state = "up";
    assert_int_equal(s->ops->project_update(s, &p), CC_OK);
    char st[32] = "";
    assert_int_equal(s->ops->project_get(s, "web", project_state, st), CC_OK);
    assert_string_equal(st, "up");
    assert_int_equal(s->ops->project_get(s, "nope", project_state, st), CC_ENOTFOUND);
    assert_int_equal(s->ops->project_delete(s, "web"), CC_OK);
    assert_int_equal(s->ops->project_delete(s, "web"), CC_ENOTFOUND);

    for (int i = 0; i < 5; i++) {
        struct store_event e = {.ts_ms = 100 + i, .kind = "k", .message = "it's \"quoted\""};
        assert_int_equal(s->ops->event_append(s, &e, NULL), CC_OK);
    }
    int64_t deleted = 0, last = 0;
    assert_int_equal(s->ops->event_prune(s, 102, &deleted), CC_OK);
    assert_int_equal(deleted, 2);
    assert_int_equal(s->ops->event_list(s, 0, 100, event_ids, &last), CC_OK);
    assert_true(last >= 5);
    /* Text PostgreSQL cannot hold (not UTF-8) is a refused value, not a crash. */
    struct store_event bad = {.ts_ms = 1, .kind = "k", .message = "\xff\xfe"};
    assert_int_equal(s->ops->event_append(s, &bad, NULL), CC_EINVAL);
    assert_int_equal(s->ops->ping(s), CC_OK);
}

static void test_bad_dsn(void **state)
{
    struct fixture *f = *state;
    struct store_cfg cfg = fixture_cfg(f, 1000);
    struct store *s = NULL;
    cfg.postgres_dsn = "";
    assert_int_equal(store_open(&cfg, &s), CC_EINVAL);
    cfg.postgres_dsn = "host=";
    cfg.postgres_dsn = "this is = not ' valid";
    assert_int_equal(store_open(&cfg, &s), CC_EINVAL);
    cfg.postgres_dsn = "host=/nonexistent-dir-for-cc dbname=x connect_timeout=2";
    assert_int_equal(store_open(&cfg, &s), CC_EIO);
    assert_null(s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ranking_parity_with_sqlite),
        T(test_migrations_recorded_once_and_newer_refused),
        T(test_concurrent_open_migrates_once),
        T(test_pool_exhausted_is_eagain),
        T(test_killed_connection_fails_then_recovers),
        T(test_tokens_projects_events),
        T(test_bad_dsn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
