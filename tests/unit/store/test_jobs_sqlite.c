/*
 * test_jobs_sqlite.c - the durable job queue of the SQLite store through
 * the public interface: lifecycle, leases, dedup, backpressure, paging,
 * and two store handles on one file claiming concurrently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

#include "store_fixture.h"

/* Claims by four threads over two handles wait on each other: a long
 * busy timeout keeps that test about correctness, not timing. */
static int setup_jobs(void **state)
{
    return fixture_open(state, 20000, CC_LOG_INFO);
}


static cc_err enqueue(struct fixture *f, int64_t source_id, const char *dedup,
                      unsigned limit, int64_t *id, bool *existing)
{
    static const char payload[] = "{\"source_id\": 1}";
    struct store_job j = {.kind = "source.run", .source_id = source_id, .dedup_key = dedup,
                          .payload = payload, .payload_len = sizeof(payload) - 1,
                          .max_attempts = 5, .next_run_ms = 0, .created_ms = 100,
                          .updated_ms = 100};
    return f->s->ops->job_enqueue(f->s, &j, limit, id, existing);
}

static int64_t enqueue_ok(struct fixture *f, int64_t source_id)
{
    int64_t id = 0;
    assert_int_equal(enqueue(f, source_id, NULL, 0, &id, NULL), CC_OK);
    assert_true(id > 0);
    return id;
}

struct job_copy {
    int n;
    int64_t id, source_id, next_run_ms, lease_until_ms, created_ms, finished_ms;
    int attempts, max_attempts;
    char kind[32], state[16], owner[32], stage[16], error[64], payload[64];
    bool error_null;
    size_t payload_len;
    int64_t ids[1100];
};

static void copy_job(void *arg, const struct store_job *j)
{
    struct job_copy *c = arg;
    if (c->n < 1100)
        c->ids[c->n] = j->id;
    c->n++;
    c->id = j->id;
    c->source_id = j->source_id;
    c->next_run_ms = j->next_run_ms;
    c->lease_until_ms = j->lease_until_ms;
    c->created_ms = j->created_ms;
    c->finished_ms = j->finished_ms;
    c->attempts = j->attempts;
    c->max_attempts = j->max_attempts;
    cc_strlcpy(c->kind, j->kind, sizeof(c->kind));
    cc_strlcpy(c->state, j->state, sizeof(c->state));
    cc_strlcpy(c->owner, j->lease_owner ? j->lease_owner : "", sizeof(c->owner));
    cc_strlcpy(c->stage, j->stage ? j->stage : "", sizeof(c->stage));
    c->error_null = j->last_error == NULL;
    cc_strlcpy(c->error, j->last_error ? j->last_error : "", sizeof(c->error));
    c->payload_len = j->payload_len;
    memset(c->payload, 0, sizeof(c->payload));
    if (j->payload && j->payload_len < sizeof(c->payload))
        memcpy(c->payload, j->payload, j->payload_len);
}

static struct job_copy *get_job(struct fixture *f, int64_t id)
{
    static struct job_copy c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->job_get(f->s, id, copy_job, &c), CC_OK);
    assert_int_equal(c.n, 1);
    return &c;
}

static cc_err claim(struct fixture *f, const char *owner, int64_t now, int64_t lease,
                    struct job_copy *out)
{
    memset(out, 0, sizeof(*out));
    return f->s->ops->job_claim(f->s, owner, now, lease, copy_job, out);
}

/* ---- lifecycle ------------------------------------------------------- */

static void test_enqueue_claim_succeed(void **state)
{
    struct fixture *f = *state;
    int64_t src = add_source(f, "feed", 5);
    int64_t id = enqueue_ok(f, src);
    struct job_copy *g = get_job(f, id);
    assert_string_equal(g->state, "queued");
    assert_int_equal(g->attempts, 0);
    assert_int_equal(g->source_id, src);

    struct job_copy c;
    assert_int_equal(claim(f, "w1", 1000, 30000, &c), CC_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.id, id);
    assert_string_equal(c.kind, "source.run");
    assert_string_equal(c.state, "running");
    assert_string_equal(c.owner, "w1");
    assert_int_equal(c.attempts, 1);
    assert_int_equal(c.lease_until_ms, 31000);
    assert_int_equal(c.payload_len, strlen("{\"source_id\": 1}"));
    assert_string_equal(c.payload, "{\"source_id\": 1}");

    assert_int_equal(claim(f, "w2", 1000, 30000, &c), CC_ENOTFOUND);
    assert_int_equal(c.n, 0);

    assert_int_equal(f->s->ops->job_heartbeat(f->s, id, "w1", 40000, "fetch"), CC_OK);
    assert_int_equal(get_job(f, id)->lease_until_ms, 40000);
    assert_string_equal(get_job(f, id)->stage, "fetch");
    assert_int_equal(f->s->ops->job_heartbeat(f->s, id, "w1", 50000, NULL), CC_OK);
    assert_string_equal(get_job(f, id)->stage, "fetch");   /* NULL keeps the stage */

    assert_int_equal(f->s->ops->job_succeed(f->s, id, "w1", 2000), CC_OK);
    g = get_job(f, id);
    assert_string_equal(g->state, "succeeded");
    assert_int_equal(g->finished_ms, 2000);
    assert_string_equal(g->owner, "");
    assert_int_equal(g->payload_len, 0);   /* dropped: a finished job never runs again */
    assert_int_equal(claim(f, "w1", 999999, 30000, &c), CC_ENOTFOUND);
    /* Finishing twice is a state error, a missing job is not found. */
    assert_int_equal(f->s->ops->job_succeed(f->s, id, "w1", 2000), CC_ESTATE);
    assert_int_equal(f->s->ops->job_succeed(f->s, id + 50, "w1", 2000), CC_ENOTFOUND);
}

static void test_fail_retry_then_dead(void **state)
{
    struct fixture *f = *state;
    int64_t id = enqueue_ok(f, 0);
    struct job_copy c;
    assert_int_equal(claim(f, "w1", 1000, 30000, &c), CC_OK);
    assert_int_equal(f->s->ops->job_fail(f->s, id, "w1", 1100, "HTTP 503", 5000), CC_OK);
    struct job_copy *g = get_job(f, id);
    assert_string_equal(g->state, "failed");
    assert_string_equal(g->error, "HTTP 503");
    assert_int_equal(g->next_run_ms, 5000);
    assert_int_equal(g->finished_ms, 0);

    assert_int_equal(claim(f, "w1", 4999, 30000, &c), CC_ENOTFOUND);   /* not yet due */
    assert_int_equal(claim(f, "w2", 5000, 30000, &c), CC_OK);
    assert_int_equal(c.id, id);
    assert_int_equal(c.attempts, 2);
    assert_string_equal(c.owner, "w2");

    assert_int_equal(f->s->ops->job_fail(f->s, id, "w2", 6000, "still 503", 0), CC_OK);
    g = get_job(f, id);
    assert_string_equal(g->state, "dead");
    assert_int_equal(g->finished_ms, 6000);
    assert_string_equal(g->error, "still 503");
    assert_int_equal(claim(f, "w1", 1000000, 30000, &c), CC_ENOTFOUND);
}

static void test_retry(void **state)
{
    struct fixture *f = *state;
    int64_t id = enqueue_ok(f, 0);
    struct job_copy c;
    assert_int_equal(f->s->ops->job_retry(f->s, id, 10), CC_ESTATE);     /* queued */
    assert_int_equal(claim(f, "w1", 1000, 30000, &c), CC_OK);
    assert_int_equal(f->s->ops->job_retry(f->s, id, 10), CC_ESTATE);     /* running */
    assert_int_equal(f->s->ops->job_fail(f->s, id, "w1", 1100, "boom", 0), CC_OK);

    assert_int_equal(f->s->ops->job_retry(f->s, id, 7000), CC_OK);
    struct job_copy *g = get_job(f, id);
    assert_string_equal(g->state, "queued");
    assert_int_equal(g->attempts, 0);
    assert_int_equal(g->next_run_ms, 7000);
    assert_int_equal(g->finished_ms, 0);
    assert_string_equal(g->error, "boom");                  /* kept for the operator */
    assert_int_equal(claim(f, "w1", 6999, 30000, &c), CC_ENOTFOUND);
    assert_int_equal(claim(f, "w1", 7000, 30000, &c), CC_OK);
    assert_int_equal(c.attempts, 1);

    /* failed (waiting for its retry) can be retried now too. */
    assert_int_equal(f->s->ops->job_fail(f->s, id, "w1", 7100, "again", 99999), CC_OK);
    assert_int_equal(f->s->ops->job_retry(f->s, id, 8000), CC_OK);
    assert_int_equal(claim(f, "w1", 8000, 30000, &c), CC_OK);
    assert_int_equal(f->s->ops->job_retry(f->s, id + 10, 8000), CC_ENOTFOUND);
}

static void test_lease_expiry_reclaim(void **state)
{
    struct fixture *f = *state;
    int64_t id = enqueue_ok(f, 0);
    struct job_copy c;
    assert_int_equal(claim(f, "w1", 1000, 1000, &c), CC_OK);      /* lease until 2000 */
    assert_int_equal(claim(f, "w2", 1500, 1000, &c), CC_ENOTFOUND);
    assert_int_equal(claim(f, "w2", 2000, 1000, &c), CC_ENOTFOUND);   /* not yet past */
    assert_int_equal(claim(f, "w2", 2001, 1000, &c), CC_OK);          /* w1 died */
    assert_int_equal(c.id, id);
    assert_int_equal(c.attempts, 2);
    assert_string_equal(c.owner, "w2");
    assert_int_equal(c.lease_until_ms, 3001);

    /* The old owner has lost it: every transition is refused. */
    assert_int_equal(f->s->ops->job_heartbeat(f->s, id, "w1", 9000, "index"), CC_ESTATE);
    assert_int_equal(f->s->ops->job_succeed(f->s, id, "w1", 2500), CC_ESTATE);
    assert_int_equal(f->s->ops->job_fail(f->s, id, "w1", 2500, "x", 0), CC_ESTATE);
    assert_string_equal(get_job(f, id)->owner, "w2");
    assert_int_equal(f->s->ops->job_heartbeat(f->s, id, "w2", 9000, "extract"), CC_OK);
    assert_int_equal(f->s->ops->job_heartbeat(f->s, id + 9, "w2", 9000, NULL), CC_ENOTFOUND);
    assert_int_equal(f->s->ops->job_succeed(f->s, id, "w2", 2600), CC_OK);
}

static void test_claim_order(void **state)
{
    struct fixture *f = *state;
    struct store_job j = {.kind = "k", .max_attempts = 1, .created_ms = 1, .updated_ms = 1};
    int64_t late = 0, early = 0, early2 = 0;
    j.next_run_ms = 300;
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, &late, NULL), CC_OK);
    j.next_run_ms = 100;
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, &early, NULL), CC_OK);
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, &early2, NULL), CC_OK);
    struct job_copy c;
    assert_int_equal(claim(f, "w", 1000, 10, &c), CC_OK);
    assert_int_equal(c.id, early);
    assert_int_equal(claim(f, "w", 1000, 10, &c), CC_OK);
    assert_int_equal(c.id, early2);
    assert_int_equal(claim(f, "w", 1000, 10, &c), CC_OK);
    assert_int_equal(c.id, late);
}

/* ---- dedup and backpressure ------------------------------------------ */

static void test_dedup(void **state)
{
    struct fixture *f = *state;
    int64_t a = 0, b = 0;
    bool existing = true;
    assert_int_equal(enqueue(f, 0, "delivery-1", 0, &a, &existing), CC_OK);
    assert_false(existing);
    assert_int_equal(enqueue(f, 0, "delivery-1", 0, &b, &existing), CC_OK);
    assert_true(existing);
    assert_int_equal(b, a);
    assert_int_equal(enqueue(f, 0, "delivery-1", 0, &b, NULL), CC_OK);   /* optional flag */
    assert_int_equal(b, a);

    /* Still held while running and while failed... */
    struct job_copy c;
    assert_int_equal(claim(f, "w", 1000, 100, &c), CC_OK);
    assert_int_equal(enqueue(f, 0, "delivery-1", 0, &b, &existing), CC_OK);
    assert_true(existing);
    assert_int_equal(f->s->ops->job_fail(f->s, a, "w", 1001, "e", 2000), CC_OK);
    assert_int_equal(enqueue(f, 0, "delivery-1", 0, &b, &existing), CC_OK);
    assert_true(existing);
    assert_int_equal(b, a);

    /* ...released once finished. */
    assert_int_equal(claim(f, "w", 2000, 100, &c), CC_OK);
    assert_int_equal(f->s->ops->job_succeed(f->s, a, "w", 2001), CC_OK);
    assert_int_equal(enqueue(f, 0, "delivery-1", 0, &b, &existing), CC_OK);
    assert_false(existing);
    assert_true(b > a);
}

static void test_queue_limit(void **state)
{
    struct fixture *f = *state;
    int64_t s1 = add_source(f, "one", 5);
    int64_t s2 = add_source(f, "two", 5);
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(enqueue(f, s1, NULL, 3, &ids[i], NULL), CC_OK);
    int64_t untouched = -1;
    assert_int_equal(enqueue(f, s1, NULL, 3, &untouched, NULL), CC_ELIMIT);
    assert_int_equal(untouched, -1);
    assert_int_equal(enqueue(f, s2, NULL, 3, NULL, NULL), CC_OK);   /* per source */
    assert_int_equal(enqueue(f, s1, NULL, 0, NULL, NULL), CC_OK);   /* 0 = no limit */

    /* A finished job frees a slot; a dead one does too. */
    struct job_copy c;
    assert_int_equal(claim(f, "w", 1000, 100, &c), CC_OK);
    assert_int_equal(c.id, ids[0]);
    assert_int_equal(f->s->ops->job_fail(f->s, ids[0], "w", 1001, "x", 0), CC_OK);
    assert_int_equal(enqueue(f, s1, NULL, 4, NULL, NULL), CC_OK);
    assert_int_equal(enqueue(f, s1, NULL, 4, NULL, NULL), CC_ELIMIT);

    /* Jobs without a source share one bucket; unknown sources are refused. */
    assert_int_equal(enqueue(f, 0, NULL, 1, NULL, NULL), CC_OK);
    assert_int_equal(enqueue(f, 0, NULL, 1, NULL, NULL), CC_ELIMIT);
    assert_int_equal(enqueue(f, 999, NULL, 0, NULL, NULL), CC_ENOTFOUND);
}

static void test_validation(void **state)
{
    struct fixture *f = *state;
    struct store_job j = {.kind = "", .max_attempts = 1};
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, NULL, NULL), CC_EINVAL);
    j.kind = "k";
    j.max_attempts = 0;
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, NULL, NULL), CC_EINVAL);
    j.max_attempts = 1;
    j.payload_len = 4;                      /* length without bytes */
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, NULL, NULL), CC_EINVAL);
    j.payload_len = 0;
    j.dedup_key = "";
    assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, NULL, NULL), CC_EINVAL);
    assert_int_equal(f->s->ops->job_enqueue(f->s, NULL, 0, NULL, NULL), CC_EINVAL);
    struct job_copy c;
    assert_int_equal(claim(f, "", 1, 10, &c), CC_EINVAL);
    assert_int_equal(claim(f, "w", 1, 0, &c), CC_EINVAL);
    assert_int_equal(f->s->ops->job_claim(f->s, "w", 1, 10, NULL, NULL), CC_EINVAL);
    assert_int_equal(f->s->ops->job_list(f->s, "bogus", 0, 10, copy_job, &c), CC_EINVAL);
    assert_int_equal(f->s->ops->job_get(f->s, 12345, copy_job, &c), CC_ENOTFOUND);
}

/* ---- reading and housekeeping ---------------------------------------- */

static void test_counts(void **state)
{
    struct fixture *f = *state;
    struct store_job_counts n;
    assert_int_equal(f->s->ops->job_counts(f->s, &n), CC_OK);
    assert_int_equal(n.queued + n.running + n.succeeded + n.failed + n.dead, 0);
    assert_int_equal(n.oldest_queued_ms, 0);

    struct store_job j = {.kind = "k", .max_attempts = 3};
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        j.created_ms = j.updated_ms = 100 + i;
        assert_int_equal(f->s->ops->job_enqueue(f->s, &j, 0, &ids[i], NULL), CC_OK);
    }
    struct job_copy c;
    /* ids[0] succeeded, [1] dead, [2] failed, [3] running, [4],[5] queued */
    for (int i = 0; i < 4; i++)
        assert_int_equal(claim(f, "w", 1000, 100000, &c), CC_OK);
    assert_int_equal(f->s->ops->job_succeed(f->s, ids[0], "w", 1001), CC_OK);
    assert_int_equal(f->s->ops->job_fail(f->s, ids[1], "w", 1001, "x", 0), CC_OK);
    assert_int_equal(f->s->ops->job_fail(f->s, ids[2], "w", 1001, "x", 50000), CC_OK);
    assert_int_equal(f->s->ops->job_counts(f->s, &n), CC_OK);
    assert_int_equal(n.queued, 2);
    assert_int_equal(n.running, 1);
    assert_int_equal(n.succeeded, 1);
    assert_int_equal(n.failed, 1);
    assert_int_equal(n.dead, 1);
    assert_int_equal(n.oldest_queued_ms, 102);              /* the failed one, waiting */
}

static void test_prune(void **state)
{
    struct fixture *f = *state;
    int64_t a = enqueue_ok(f, 0);
    int64_t b = enqueue_ok(f, 0);
    int64_t d = enqueue_ok(f, 0);
    struct job_copy c;
    for (int i = 0; i < 3; i++)
        assert_int_equal(claim(f, "w", 50, 100000, &c), CC_OK);
    assert_int_equal(f->s->ops->job_succeed(f->s, a, "w", 100), CC_OK);
    assert_int_equal(f->s->ops->job_succeed(f->s, b, "w", 200), CC_OK);
    assert_int_equal(f->s->ops->job_fail(f->s, d, "w", 100, "x", 0), CC_OK);
    int64_t deleted = -1;
    assert_int_equal(f->s->ops->job_prune(f->s, 150, &deleted), CC_OK);
    assert_int_equal(deleted, 1);
    assert_int_equal(f->s->ops->job_get(f->s, a, copy_job, &c), CC_ENOTFOUND);
    get_job(f, b);
    assert_string_equal(get_job(f, d)->state, "dead");      /* only succeeded go */
    assert_int_equal(f->s->ops->job_prune(f->s, 1000, NULL), CC_OK);
    assert_int_equal(f->s->ops->job_get(f->s, b, copy_job, &c), CC_ENOTFOUND);
}

static void test_list_paging(void **state)
{
    struct fixture *f = *state;
    int64_t ids[25];
    for (int i = 0; i < 25; i++)
        ids[i] = enqueue_ok(f, 0);
    static struct job_copy c;
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->job_list(f->s, NULL, 0, 10, copy_job, &c), CC_OK);
    assert_int_equal(c.n, 10);
    assert_int_equal(c.ids[0], ids[24]);                    /* newest first */
    assert_int_equal(c.ids[9], ids[15]);
    int64_t before = c.ids[9];
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->job_list(f->s, NULL, before, 10, copy_job, &c), CC_OK);
    assert_int_equal(c.n, 10);
    assert_int_equal(c.ids[0], ids[14]);
    before = c.ids[9];
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->job_list(f->s, NULL, before, 10, copy_job, &c), CC_OK);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.ids[4], ids[0]);

    struct job_copy one;
    assert_int_equal(claim(f, "w", 1000, 100, &one), CC_OK);
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->job_list(f->s, "running", 0, 10, copy_job, &c), CC_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.ids[0], one.id);

    /* The limit is capped at STORE_JOB_LIST_MAX. */
    for (unsigned i = 25; i < STORE_JOB_LIST_MAX + 10; i++)
        enqueue_ok(f, 0);
    memset(&c, 0, sizeof(c));
    assert_int_equal(f->s->ops->job_list(f->s, NULL, 0, 100000, copy_job, &c), CC_OK);
    assert_int_equal(c.n, STORE_JOB_LIST_MAX);
}

/* ---- concurrency: two handles, four threads each ---------------------- */

#define CONC_JOBS 1000
#define CONC_THREADS_PER_HANDLE 4

struct conc {
    struct store *handles[2];
    pthread_mutex_t mu;
    int claimed[CONC_JOBS + 1];           /* by job id (ids are 1..CONC_JOBS) */
    int errors;
};

struct worker {
    struct conc *c;
    struct store *s;
    char owner[16];
};

static void note_claim(void *arg, const struct store_job *j)
{
    *(int64_t *)arg = j->id;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        int64_t id = 0;
        cc_err err = w->s->ops->job_claim(w->s, w->owner, 1000, 3600000, note_claim, &id);
        if (err == CC_ENOTFOUND)
            break;
        pthread_mutex_lock(&w->c->mu);
        if (err || id < 1 || id > CONC_JOBS)
            w->c->errors++;
        else
            w->c->claimed[id]++;
        pthread_mutex_unlock(&w->c->mu);
        if (err)
            break;
        if (w->s->ops->job_succeed(w->s, id, w->owner, 1001) != CC_OK) {
            pthread_mutex_lock(&w->c->mu);
            w->c->errors++;
            pthread_mutex_unlock(&w->c->mu);
        }
    }
    return NULL;
}

static void test_concurrent_claims_two_handles(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < CONC_JOBS; i++)
        assert_int_equal(enqueue_ok(f, 0), i + 1);
    struct conc *c = cc_xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->handles[0] = f->s;
    struct store_cfg cfg = fixture_cfg(f, 20000);
    assert_int_equal(store_open(&cfg, &c->handles[1]), CC_OK);

    enum { N = 2 * CONC_THREADS_PER_HANDLE };
    struct worker w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct worker){.c = c, .s = c->handles[i % 2]};
        snprintf(w[i].owner, sizeof(w[i].owner), "w%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);

    assert_int_equal(c->errors, 0);
    for (int id = 1; id <= CONC_JOBS; id++) {
        if (c->claimed[id] != 1)
            fail_msg("job %d claimed %d times", id, c->claimed[id]);
    }
    struct store_job_counts n;
    assert_int_equal(f->s->ops->job_counts(f->s, &n), CC_OK);
    assert_int_equal(n.succeeded, CONC_JOBS);
    assert_int_equal(n.queued + n.running, 0);
    store_close(c->handles[1]);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_jobs, teardown)
    const struct CMUnitTest tests[] = {
        T(test_enqueue_claim_succeed),
        T(test_fail_retry_then_dead),
        T(test_retry),
        T(test_lease_expiry_reclaim),
        T(test_claim_order),
        T(test_dedup),
        T(test_queue_limit),
        T(test_validation),
        T(test_counts),
        T(test_prune),
        T(test_list_paging),
        T(test_concurrent_claims_two_handles),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
