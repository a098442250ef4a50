/* Rate limiting: bursts, refill, eviction, threads. Time is passed in, so
 * no test sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "http/ratelimit.h"

static void test_burst_then_refusal(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(2.0, 5, 100, &rl), CC_OK);
    int64_t retry = -1;
    for (int i = 0; i < 5; i++)
        assert_true(http_ratelimit_take(rl, "1.2.3.4", 1000, &retry));
    assert_int_equal(retry, -1);    /* untouched while allowed */
    assert_false(http_ratelimit_take(rl, "1.2.3.4", 1000, &retry));
    assert_int_equal(retry, 500);   /* 2 per second: one token every 500 ms */
    /* 200 ms later 0.4 tokens have come back: 300 ms to go */
    assert_false(http_ratelimit_take(rl, "1.2.3.4", 1200, &retry));
    assert_int_equal(retry, 300);
    /* other keys are independent */
    assert_true(http_ratelimit_take(rl, "5.6.7.8", 1200, &retry));
    http_ratelimit_free(rl);
}

static void test_refill(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(10.0, 3, 100, &rl), CC_OK);
    int64_t retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(http_ratelimit_take(rl, "k", 0, &retry));
    assert_false(http_ratelimit_take(rl, "k", 0, &retry));
    assert_int_equal(retry, 100);
    assert_false(http_ratelimit_take(rl, "k", 99, &retry));
    assert_int_equal(retry, 1);
    assert_true(http_ratelimit_take(rl, "k", 100, &retry));
    assert_false(http_ratelimit_take(rl, "k", 100, &retry));
    /* a long pause refills to burst, not beyond */
    for (int i = 0; i < 3; i++)
        assert_true(http_ratelimit_take(rl, "k", 60000, &retry));
    assert_false(http_ratelimit_take(rl, "k", 60000, &retry));
    /* a clock that goes back refills nothing and breaks nothing */
    assert_false(http_ratelimit_take(rl, "k", 10, &retry));
    assert_true(retry >= 1);
    http_ratelimit_free(rl);
}

static void test_retry_after_at_least_one(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(1e6, 1, 10, &rl), CC_OK);
    int64_t retry = 0;
    assert_true(http_ratelimit_take(rl, "k", 5, &retry));
    assert_false(http_ratelimit_take(rl, "k", 5, &retry));
    assert_int_equal(retry, 1);    /* 1 µs rounds up to 1 ms */
    http_ratelimit_free(rl);
}

static void test_disabled(void **state)
{
    const double off[] = {0.0, -1.0};
    for (size_t k = 0; k < 2; k++) {
        struct http_ratelimit *rl;
        assert_int_equal(http_ratelimit_new(off[k], 0, 0, &rl), CC_OK);
        for (int i = 0; i < 10000; i++)
            assert_true(http_ratelimit_take(rl, "k", 0, NULL));
        http_ratelimit_free(rl);
    }
    struct http_ratelimit *rl = NULL;
    assert_int_equal(http_ratelimit_new(1.0, 0, 10, &rl), CC_EINVAL);
    assert_int_equal(http_ratelimit_new(1.0, 1, 0, &rl), CC_EINVAL);
    assert_null(rl);
}

/* With room for 2 keys, cycling through 3 keeps recycling buckets; a
 * recycled key starts over with a full bucket. */
static void test_eviction(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(1.0, 1, 2, &rl), CC_OK);
    int64_t retry;
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "client-%d", i);
        assert_true(http_ratelimit_take(rl, key, 0, &retry));
        assert_false(http_ratelimit_take(rl, key, 0, &retry));
    }
    http_ratelimit_free(rl);

    /* max_keys 1: one stripe, one bucket; the LRU order is observable */
    assert_int_equal(http_ratelimit_new(1.0, 1, 1, &rl), CC_OK);
    assert_true(http_ratelimit_take(rl, "a", 0, &retry));
    assert_false(http_ratelimit_take(rl, "a", 0, &retry));
    assert_true(http_ratelimit_take(rl, "b", 0, &retry));  /* evicts a */
    assert_true(http_ratelimit_take(rl, "a", 0, &retry));  /* a is new again */
    http_ratelimit_free(rl);
}

/* With room for everyone, a busy key is never forgotten while other keys
 * come and go (the least recently used one goes first). */
static void test_lru_keeps_hot_key(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(0.001, 1, 16 * 4, &rl), CC_OK);
    int64_t retry;
    assert_true(http_ratelimit_take(rl, "hot", 0, &retry));
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "cold-%d", i);
        assert_true(http_ratelimit_take(rl, key, 0, &retry));
        /* touching "hot" keeps it most recent in its stripe */
        assert_false(http_ratelimit_take(rl, "hot", 0, &retry));
    }
    http_ratelimit_free(rl);
}

struct worker {
    struct http_ratelimit *rl;
    int id;
    bool fixed_time;
    long allowed;
    long bad_retry;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    char key[32];
    int64_t retry;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", (i * 7 + w->id) % 50);
        if (http_ratelimit_take(w->rl, key, w->fixed_time ? 0 : i / 10, &retry))
            w->allowed++;
        else if (retry < 1)
            w->bad_retry++;
    }
    return NULL;
}

static long run_workers(struct http_ratelimit *rl, bool fixed_time)
{
    enum { T = 8 };
    pthread_t th[T];
    struct worker w[T];
    for (int i = 0; i < T; i++) {
        w[i] = (struct worker){.rl = rl, .id = i, .fixed_time = fixed_time};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    long total = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad_retry, 0);
        total += w[i].allowed;
    }
    return total;
}

/* Time stands still and every key fits: across all threads exactly
 * keys x burst takes succeed, so no update was lost to a race. */
static void test_threads_exact(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(100.0, 10, 1000, &rl), CC_OK);
    assert_int_equal(run_workers(rl, true), 50 * 10);
    http_ratelimit_free(rl);
}

/* Fewer slots than keys, times interleaving: buckets are recycled
 * constantly under contention. Sanitizers do the checking here. */
static void test_threads_eviction(void **state)
{
    struct http_ratelimit *rl;
    assert_int_equal(http_ratelimit_new(100.0, 10, 20, &rl), CC_OK);
    assert_true(run_workers(rl, false) > 0);
    http_ratelimit_free(rl);
}

/* peek never takes, never creates, and agrees with take on Retry-After. */
static void test_peek(void **state)
{
    (void)state;
    struct http_ratelimit *rl;
    int64_t retry = 0, retry2 = 0;
    assert_int_equal(http_ratelimit_new(0.5, 2, 16, &rl), CC_OK);
    assert_true(http_ratelimit_peek(rl, "a", 1000, &retry));      /* unknown: could take */
    assert_true(http_ratelimit_take(rl, "a", 1000, &retry));
    assert_true(http_ratelimit_peek(rl, "a", 1000, &retry));
    assert_true(http_ratelimit_peek(rl, "a", 1000, &retry));      /* still one left */
    assert_true(http_ratelimit_take(rl, "a", 1000, &retry));
    assert_false(http_ratelimit_peek(rl, "a", 1000, &retry));
    assert_false(http_ratelimit_take(rl, "a", 1000, &retry2));
    assert_int_equal(retry, 2000);
    assert_int_equal(retry2, 2000);
    assert_false(http_ratelimit_peek(rl, "a", 2999, &retry));
    assert_int_equal(retry, 1);
    assert_true(http_ratelimit_peek(rl, "a", 3000, &retry));
    http_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refusal),
        cmocka_unit_test(test_peek),
        cmocka_unit_test(test_refill),
        cmocka_unit_test(test_retry_after_at_least_one),
        cmocka_unit_test(test_disabled),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_lru_keeps_hot_key),
        cmocka_unit_test(test_threads_exact),
        cmocka_unit_test(test_threads_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
