/*
 * test_store_sql.c - the shared SQL layer (store_sql.h) and store.c's
 * checks, on SQLite; test_store_sql_pg.c runs the same cases on
 * PostgreSQL. Covers: the statement table and the ?N -> $N rewrite, that
 * every bad argument is refused in front of the backend (so both backends
 * refuse the same input), the enqueue batch rules on each backend, and
 * the pool's wait on the store's clock.
 */
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
#include "core/log.h"
#include "fakes/fake_clock.h"
#include "store/store.h"
#include "store/store_sql.h"

#include "store_fixture.h"

/* ---- the statement table ---------------------------------------------- */

static void test_every_statement_has_text_for_both_dialects(void **state)
{
    (void)state;
    for (int id = 0; id < SQL__COUNT; id++) {
        const char *name = store__sql_name((enum store_sql_id)id);
        assert_string_not_equal(name, "?");
        for (int k = 0; k < STORE_SQL__KINDS; k++) {
            const char *sql = store__sql_text((enum store_sql_id)id, (enum store_sql_kind)k);
            assert_non_null(sql);
            /* Written once with ?N; only the PostgreSQL dialect says $N. */
            assert_null(strchr(sql, '$'));
        }
    }
    assert_null(store__sql_text(SQL__COUNT, STORE_SQL_SQLITE));
}

static void test_placeholders_rewritten_outside_quotes(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(store__sql_placeholders("SELECT ?1, '?2', \"a?3\" FROM t WHERE x = ?12"
                                             " AND y = ? || '''?4'",
                                             out, sizeof(out)),
                     CC_OK);
    assert_string_equal(out, "SELECT $1, '?2', \"a?3\" FROM t WHERE x = $12"
                             " AND y = ? || '''?4'");
    char small[9];
    assert_int_equal(store__sql_placeholders("SELECT ?1 + ?2", small, sizeof(small)),
                     CC_ELIMIT);
    assert_int_equal(store__sql_placeholders("SELECT 1", small, sizeof(small)), CC_OK);
    assert_string_equal(small, "SELECT 1");
    assert_int_equal(store__sql_placeholders("SELECT 1", small, sizeof(small) - 1), CC_ELIMIT);
}

/* ---- the checks in front of every backend ----------------------------- */

static void on_token(void *arg, const struct store_token *t)
{
    (void)arg;
    (void)t;
}

static void on_job(void *arg, const struct store_job *j)
{
    (void)arg;
    (void)j;
}

static void on_hit(void *arg, const struct store_hit *h)
{
    (void)arg;
    (void)h;
}

static void on_vec(void *arg, int64_t chunk_id, double cosine)
{
    (void)arg;
    (void)chunk_id;
    (void)cosine;
}

/* Every call below breaks a rule of store.h. The backend behind the checks
 * is an empty table: a call that got past them would crash the test. */
static void test_bad_input_never_reaches_the_backend(void **state)
{
    struct fixture *f = *state;
    static const struct store_ops none;
    const struct store_ops *real = f->s->backend;
    assert_non_null(real);
    f->s->backend = &none;
    struct store *s = f->s;
    const struct store_ops *o = s->ops;
    char name65[66];
    memset(name65, 'n', 65);
    name65[65] = '\0';
    char h64[65];
    hash_of(h64, 7);

    const struct store_token tokens[] = {
        {.name = "", .hash = h64, .scope = "read"},
        {.name = name65, .hash = h64, .scope = "read"},
        {.name = "t", .hash = "abc", .scope = "read"},
        {.name = "t", .hash = h64, .scope = "root"},
        {.name = "t", .hash = h64, .scope = NULL},
    };
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
        assert_int_equal(o->token_insert(s, &tokens[i], NULL), CC_EINVAL);
    assert_int_equal(o->token_insert(s, NULL, NULL), CC_EINVAL);
    assert_int_equal(o->token_list(s, NULL, NULL), CC_EINVAL);

    struct store_project p = {.name = "p", .compose_path = "/x", .state = ""};
    assert_int_equal(o->project_insert(s, &p, NULL), CC_EINVAL);
    assert_int_equal(o->project_update(s, &p), CC_EINVAL);
    assert_int_equal(o->project_get(s, NULL, NULL, NULL), CC_EINVAL);
    assert_int_equal(o->project_delete(s, NULL), CC_EINVAL);
    struct store_event e = {.kind = "", .message = "m"};
    assert_int_equal(o->event_append(s, &e, NULL), CC_EINVAL);
    assert_int_equal(o->event_list(s, 0, 10, NULL, NULL), CC_EINVAL);

    struct store_source src = {.name = "bad name", .type = "manual", .priority = 5};
    assert_int_equal(o->source_insert(s, &src, NULL), CC_EINVAL);
    src.name = "ok";
    src.priority = 11;
    assert_int_equal(o->source_insert(s, &src, NULL), CC_EINVAL);
    src.priority = 5;
    src.type = "ftp";
    assert_int_equal(o->source_insert(s, &src, NULL), CC_EINVAL);
    src.type = "manual";
    assert_int_equal(o->source_update(s, &src), CC_EINVAL);   /* id 0 */
    struct store_source_run run = {.source_id = 1, .next_run_ms = -2};
    assert_int_equal(o->source_record_run(s, &run), CC_EINVAL);
    assert_int_equal(o->source_add_counts(s, 1, -1, 0), CC_EINVAL);
    assert_int_equal(o->source_schedule(s, 1, -5), CC_EINVAL);
    assert_int_equal(o->source_get_by_name(s, NULL, NULL, NULL), CC_EINVAL);

    char out_hash[65];
    assert_int_equal(o->doc_hash(s, 1, NULL, out_hash), CC_EINVAL);
    assert_int_equal(o->doc_delete_external(s, 1, ""), CC_EINVAL);
    assert_int_equal(o->doc_get(s, 1, NULL, NULL), CC_EINVAL);
    assert_int_equal(o->doc_list(s, 1, 0, 10, NULL, NULL), CC_EINVAL);
    assert_int_equal(o->doc_upsert(s, NULL, NULL, NULL), CC_EINVAL);
    struct store_search q = {.query = "x", .k = 0};
    assert_int_equal(o->search(s, &q, on_hit, NULL), CC_EINVAL);
    float v[2] = {1, 0};
    int64_t missing = 0;
    assert_int_equal(o->vectors_put(s, 1, 0, "m", v, 1), CC_EINVAL);
    assert_int_equal(o->vectors_missing(s, 1, NULL, "m", &missing), CC_EINVAL);
    assert_int_equal(o->vectors_missing(s, 1, "x", "m", NULL), CC_EINVAL);
    assert_int_equal(o->vector_search(s, v, 2, "m", NULL, 0, on_vec, NULL), CC_EINVAL);

    struct store_job j = {.kind = "k", .max_attempts = 0};
    assert_int_equal(o->job_enqueue(s, &j, 0, NULL, NULL), CC_EINVAL);
    j = (struct store_job){.kind = "k", .max_attempts = 1, .dedup_key = ""};
    assert_int_equal(o->job_enqueue(s, &j, 0, NULL, NULL), CC_EINVAL);
    assert_int_equal(o->job_claim(s, "w", 1000, 0, on_job, NULL), CC_EINVAL);
    assert_int_equal(o->job_claim(s, "", 1000, 10, on_job, NULL), CC_EINVAL);
    assert_int_equal(o->job_claim(s, "w", INT64_MAX - 5, 10, on_job, NULL), CC_EINVAL);
    assert_int_equal(store_job_claim_batch(s, "w", 1000, -1, 4, on_job, NULL), CC_EINVAL);
    assert_int_equal(o->job_heartbeat(s, 1, "", 5, NULL), CC_EINVAL);
    assert_int_equal(o->job_succeed(s, 1, NULL, 5), CC_EINVAL);
    assert_int_equal(o->job_fail(s, 1, "w", 5, "e", -1), CC_EINVAL);
    assert_int_equal(o->job_list(s, "bogus", 0, 10, on_job, NULL), CC_EINVAL);
    assert_int_equal(o->job_list(s, NULL, -1, 10, on_job, NULL), CC_EINVAL);
    assert_int_equal(o->job_counts(s, NULL), CC_EINVAL);
    assert_int_equal(o->info(s, NULL), CC_EINVAL);
    struct store_doc_write w = {.doc = NULL, .job_id = 1};
    assert_int_equal(store_doc_write_batch(s, "", 1, &w, 1), CC_EINVAL);

    f->s->backend = real;
    /* Nothing of the above was written. */
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM tokens"), 0);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sources"), 0);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 0);
    /* And a good call still reaches the backend. */
    struct store_token t = {.name = "t", .hash = h64, .scope = "read", .created_ms = 1};
    int64_t id = 0;
    assert_int_equal(o->token_insert(s, &t, &id), CC_OK);
    assert_true(id > 0);
    assert_int_equal(o->token_list(s, on_token, NULL), CC_OK);
}

/* ---- enqueue batches, on each backend's own op ------------------------- */

static struct store_job job_for(int64_t source_id, const char *dedup)
{
    return (struct store_job){.kind = "ingest.document", .source_id = source_id,
                              .dedup_key = dedup, .max_attempts = 3, .created_ms = 10,
                              .updated_ms = 10};
}

static void test_enqueue_batch_rules(void **state)
{
    struct fixture *f = *state;
    assert_non_null(f->s->backend->job_enqueue_batch);   /* both backends have it */
    int64_t src = add_source(f, "feed", 5);
    int64_t ids[4] = {0};
    bool existing[4] = {false};
    size_t done = 99;

    /* A key twice in one batch: the second finds the first. */
    struct store_job a[3] = {job_for(src, "k1"), job_for(src, "k1"), job_for(src, NULL)};
    assert_int_equal(store_job_enqueue_batch(f->s, a, 3, 0, ids, existing, &done), CC_OK);
    assert_int_equal(done, 3);
    assert_int_equal(ids[1], ids[0]);
    assert_false(existing[0]);
    assert_true(existing[1]);
    assert_false(existing[2]);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 2);

    /* The queue limit counts what the batch itself queued: 2 + 1 of 3. */
    struct store_job b[3] = {job_for(src, "k2"), job_for(src, "k3"), job_for(src, "k4")};
    assert_int_equal(store_job_enqueue_batch(f->s, b, 3, 3, ids, existing, &done), CC_ELIMIT);
    assert_int_equal(done, 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 3);

    /* An unknown source stops the batch; the jobs before it stay queued. */
    struct store_job c[3] = {job_for(0, "n1"), job_for(src + 100, "n2"), job_for(0, "n3")};
    assert_int_equal(store_job_enqueue_batch(f->s, c, 3, 0, ids, NULL, &done), CC_ENOTFOUND);
    assert_int_equal(done, 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs WHERE source_id IS NULL"), 1);

    /* An invalid job: the ones before it are queued, then CC_EINVAL. */
    struct store_job d[2] = {job_for(0, "v1"), job_for(0, "v2")};
    d[1].max_attempts = 0;
    assert_int_equal(store_job_enqueue_batch(f->s, d, 2, 0, ids, NULL, &done), CC_EINVAL);
    assert_int_equal(done, 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs WHERE dedup_key = 'v1'"), 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs WHERE dedup_key = 'v2'"), 0);
}

/* ---- source state ------------------------------------------------------ */

struct seen_state {
    char keys[8][64];
    char values[8][64];
    size_t n;
};

static void keep_state(void *arg, const char *key, const char *value, int64_t updated_ms)
{
    struct seen_state *s = arg;
    (void)updated_ms;
    if (s->n < 8) {
        snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
        snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value);
        s->n++;
    }
}

static void test_source_state(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "site", 5), other = add_source(f, "other", 5);
    struct store *st = f->s;
    struct seen_state seen = {0};
    assert_int_equal(st->ops->source_state_get(st, src, "feed", keep_state, &seen),
                     CC_ENOTFOUND);
    assert_int_equal(st->ops->source_state_put(st, src, "feed", "{\"etag\":\"a\"}", 5), CC_OK);
    assert_int_equal(st->ops->source_state_put(st, src, "feed", "{\"etag\":\"b\"}", 6), CC_OK);
    assert_int_equal(st->ops->source_state_get(st, src, "feed", keep_state, &seen), CC_OK);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.values[0], "{\"etag\":\"b\"}");

    /* Listing: by prefix, in byte order (uppercase before lowercase, as
     * strcmp), after a key, bounded; other sources' keys never show. */
    const char *keys[] = {"page:b", "page:a", "page:B", "page:c", "pagez", "x"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(st->ops->source_state_put(st, src, keys[i], "1", 7), CC_OK);
    assert_int_equal(st->ops->source_state_put(st, other, "page:a", "2", 7), CC_OK);
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->source_state_list(st, src, "page:", NULL, 10, keep_state, &seen),
                     CC_OK);
    assert_int_equal(seen.n, 4);
    assert_string_equal(seen.keys[0], "page:B");
    assert_string_equal(seen.keys[1], "page:a");
    assert_string_equal(seen.keys[3], "page:c");
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(st->ops->source_state_list(st, src, "page:", "page:a", 2, keep_state, &seen),
                     CC_OK);
    assert_int_equal(seen.n, 2);
    assert_string_equal(seen.keys[0], "page:b");
    assert_string_equal(seen.keys[1], "page:c");

    /* NULL deletes (absent is fine); bad keys and unknown sources refused. */
    assert_int_equal(st->ops->source_state_put(st, src, "page:a", NULL, 8), CC_OK);
    assert_int_equal(st->ops->source_state_put(st, src, "page:a", NULL, 8), CC_OK);
    assert_int_equal(st->ops->source_state_get(st, src, "page:a", keep_state, &seen),
                     CC_ENOTFOUND);
    assert_int_equal(st->ops->source_state_put(st, src, "", "1", 8), CC_EINVAL);
    assert_int_equal(st->ops->source_state_put(st, src, "k", "\xff", 8), CC_EINVAL);
    assert_int_equal(st->ops->source_state_put(st, other + 100, "k", "1", 8), CC_ENOTFOUND);

    /* The state goes with its source. */
    assert_int_equal(st->ops->source_delete(st, src), CC_OK);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM source_state"), 1);
}

/* ---- events, newest first ------------------------------------------------ */

static void keep_event_id(void *arg, const struct store_event *e)
{
    int64_t *ids = arg;
    ids[++ids[0]] = e->id;
}

static void test_event_list_before(void **state)
{
    struct fixture *f = *state;
    struct store *st = f->s;
    int64_t id[5];
    for (int i = 0; i < 5; i++) {
        struct store_event e = {.ts_ms = 100 + i, .kind = "test.event", .message = "m"};
        assert_int_equal(st->ops->event_append(st, &e, &id[i]), CC_OK);
    }
    int64_t got[8] = {0};
    assert_int_equal(st->ops->event_list_before(st, 0, 2, keep_event_id, got), CC_OK);
    assert_int_equal(got[0], 2);
    assert_int_equal(got[1], id[4]);
    assert_int_equal(got[2], id[3]);
    memset(got, 0, sizeof(got));
    assert_int_equal(st->ops->event_list_before(st, id[3], 10, keep_event_id, got), CC_OK);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], id[2]);
    assert_int_equal(got[3], id[0]);
    assert_int_equal(st->ops->event_list_before(st, -1, 10, keep_event_id, got), CC_EINVAL);
}

/* ---- the store's clock ------------------------------------------------ */

/* store_cfg.clock is the store's time: a fresh database opened with a fake
 * clock records its migrations at the fake wall time. */
static void test_store_uses_the_clock_it_is_given(void **state)
{
    struct fixture *f = *state;
    struct fake_clock fc;
    fake_clock_init(&fc, 1234567);
    store_close(f->s);
    f->s = NULL;
#ifdef STORE_FIXTURE_PG
    fixture_pg_drop(f);
    fixture_pg_schema(f);
#else
    const char *suffix[] = {"", "-wal", "-shm"};
    char p[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
#endif
    struct store_cfg cfg = fixture_cfg(f, 5000);
    cfg.clock = &fc.base;
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
    assert_true(raw_int(f, "SELECT COUNT(*) FROM schema_migrations") >= 1);
    assert_int_equal(raw_int(f, "SELECT MIN(applied_at) FROM schema_migrations"), 1234567);
    assert_int_equal(raw_int(f, "SELECT MAX(applied_at) FROM schema_migrations"), 1234567);
    assert_int_equal(f->s->ops->ping(f->s), CC_OK);
}

/* ---- the pool --------------------------------------------------------- */


/* Waits until the pool's taker blocks in wait_until, then moves the fake
 * time to its deadline (a minute ahead). */
static void *advance_when_waited(void *arg)
{
    struct fake_clock *fc = arg;
    assert_true(fake_clock_settle(fc, 1, 60000));
    fake_clock_advance_next(fc, 120000);
    return NULL;
}

static void test_pool_waits_on_the_clock(void **state)
{
    (void)state;
    struct store_pool p;
    int conns[2];
    void *got = NULL;
    struct cc_clock *sys = cc_clock_system();
    store__pool_init(&p, 2, sys);
    store__pool_put(&p, &conns[0]);
    store__pool_put(&p, &conns[1]);
    assert_int_equal(store__pool_take(&p, 0, &got), CC_OK);
    assert_ptr_equal(got, &conns[1]);
    assert_int_equal(store__pool_take(&p, 0, &got), CC_OK);
    assert_ptr_equal(got, &conns[0]);
    /* Empty: CC_EAGAIN once busy_timeout has passed on the store's clock. */
    int64_t t0 = cc_mono_ms(sys);
    assert_int_equal(store__pool_take(&p, 40, &got), CC_EAGAIN);
    assert_true(cc_mono_ms(sys) - t0 >= 40);
    store__pool_release(&p);

    /* On a fake clock the wait ends when the test moves the time past
     * busy_timeout, not before: a minute of fake time, no real waiting. */
    struct fake_clock fc;
    fake_clock_init(&fc, 1000);
    store__pool_init(&p, 1, &fc.base);
    pthread_t mover;
    assert_int_equal(pthread_create(&mover, NULL, advance_when_waited, &fc), 0);
    assert_int_equal(store__pool_take(&p, 60000, &got), CC_EAGAIN);
    pthread_join(mover, NULL);
    assert_true(fake_clock_mono(&fc) >= FAKE_CLOCK_MONO_ORIGIN + 60000);
    store__pool_put(&p, &conns[0]);
    assert_int_equal(store__pool_take(&p, 60000, &got), CC_OK);
    assert_ptr_equal(got, &conns[0]);
    store__pool_release(&p);
}

struct putter {
    struct store_pool *p;
    void *conn;
};

static void *put_later(void *arg)
{
    struct putter *pt = arg;
    store__pool_put(pt->p, pt->conn);
    return NULL;
}

/* A connection given back by another thread ends the wait. */
static void test_pool_put_wakes_a_waiter(void **state)
{
    (void)state;
    struct store_pool p;
    int conn;
    void *got = NULL;
    store__pool_init(&p, 1, cc_clock_system());
    struct putter pt = {.p = &p, .conn = &conn};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, put_later, &pt), 0);
    assert_int_equal(store__pool_take(&p, 30000, &got), CC_OK);
    assert_ptr_equal(got, &conn);
    pthread_join(t, NULL);
    store__pool_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_statement_has_text_for_both_dialects),
        cmocka_unit_test(test_placeholders_rewritten_outside_quotes),
        cmocka_unit_test_setup_teardown(test_bad_input_never_reaches_the_backend, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_enqueue_batch_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_list_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_uses_the_clock_it_is_given, setup, teardown),
        cmocka_unit_test(test_pool_waits_on_the_clock),
        cmocka_unit_test(test_pool_put_wakes_a_waiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
