/*
 * test_pool_sqlite.c - what the store tells about its connection pool, for
 * the cc_store_pool_* metrics: pool_stats (taken / size) and the pool_wait
 * hook (every take, how long it waited, whether it gave up at
 * busy_timeout). test_pool_pg.c runs the same cases on PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

#include "store_fixture.h"

struct waits {
    int takes, timeouts;
    int64_t longest_ns;
};

static void on_wait(void *arg, int64_t waited_ns, bool timed_out)
{
    struct waits *w = arg;
    w->takes++;
    w->timeouts += timed_out;
    if (waited_ns > w->longest_ns)
        w->longest_ns = waited_ns;
}

/* Reopens the fixture's store with the hook and a short busy_timeout. */
static void reopen(struct fixture *f, struct waits *w)
{
    store_close(f->s);
    f->s = NULL;
    struct store_cfg cfg = fixture_cfg(f, 100);
    cfg.pool_wait = on_wait;
    cfg.pool_wait_arg = w;
    assert_int_equal(store_open(&cfg, &f->s), CC_OK);
}

struct inside {
    struct fixture *f;
    struct store_pool_stats during;
    cc_err nested;
};

/* Runs while source_list holds a pooled connection. */
static void while_holding(void *arg, const struct store_source *src)
{
    struct inside *in = arg;
    (void)src;
    assert_int_equal(in->f->s->ops->pool_stats(in->f->s, &in->during), CC_OK);
}

static void test_stats_and_waits(void **state)
{
    struct fixture *f = *state;
    struct waits w = {0};
    reopen(f, &w);
    struct store_pool_stats ps = {.in_use = 99};
    assert_int_equal(f->s->ops->pool_stats(f->s, &ps), CC_OK);
    assert_int_equal(ps.size, 2);          /* store.pool_size */
    assert_int_equal(ps.in_use, 0);
    add_source(f, "docs", 5);
    int before = w.takes;
    struct inside in = {.f = f};
    assert_int_equal(f->s->ops->source_list(f->s, while_holding, &in), CC_OK);
    assert_int_equal(in.during.in_use, 1);
    assert_int_equal(in.during.size, 2);
    assert_true(w.takes > before);         /* the read took a pooled connection */
    assert_int_equal(w.timeouts, 0);
    assert_int_equal(f->s->ops->pool_stats(f->s, &ps), CC_OK);
    assert_int_equal(ps.in_use, 0);        /* given back */
    assert_int_equal(f->s->ops->pool_stats(f->s, NULL), CC_EINVAL);
}

struct hold_all {
    struct fixture *f;
    int depth;
    cc_err last;
};

/* Nests reads until the pool is empty; the innermost one must give up. */
static void hold_more(void *arg, const struct store_source *src)
{
    struct hold_all *h = arg;
    (void)src;
    if (++h->depth > 2)
        return;
    cc_err err = h->f->s->ops->source_list(h->f->s, hold_more, h);
    if (err)
        h->last = err;
}

static void test_a_full_pool_times_out_and_says_so(void **state)
{
    struct fixture *f = *state;
    struct waits w = {0};
    reopen(f, &w);
    add_source(f, "docs", 5);
    struct hold_all h = {.f = f};
    assert_int_equal(f->s->ops->source_list(f->s, hold_more, &h), CC_OK);
    assert_int_equal(h.last, CC_EAGAIN);   /* the third read found both taken */
    assert_int_equal(w.timeouts, 1);
    assert_true(w.longest_ns >= 90 * 1000000LL);   /* waited out busy_timeout (100 ms) */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_stats_and_waits),
        T(test_a_full_pool_times_out_and_says_so),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
