/* The breaker is what makes the API answer at once while the engine is
 * down: it must open after exactly `failure_threshold` consecutive failures,
 * refuse while open, let a bounded number of trials through after open_ms,
 * and be safe to share between threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>

#include "core/breaker.h"
#include "fakes/fake_clock.h"

static const struct cc_breaker_cfg cfg3 = {
    .failure_threshold = 3, .open_ms = 30000, .half_open_max = 1,
};

static void test_opens_after_threshold(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_CLOSED);
    assert_true(cc_breaker_allow(&b));
    cc_breaker_failure(&b);
    cc_breaker_failure(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_CLOSED);
    assert_true(cc_breaker_allow(&b));
    cc_breaker_failure(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
    assert_int_equal(b.opened_total, 1);
    cc_breaker_release(&b);
}

static void test_success_resets_consecutive_failures(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    for (int i = 0; i < 10; i++) {
        cc_breaker_failure(&b);
        cc_breaker_failure(&b);
        cc_breaker_success(&b);
    }
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_CLOSED);
    assert_int_equal(b.opened_total, 0);
    cc_breaker_release(&b);
}

static void test_refuses_while_open(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    for (int i = 0; i < 3; i++)
        cc_breaker_failure(&b);
    for (int i = 0; i < 100; i++)
        assert_false(cc_breaker_allow(&b));
    fake_clock_advance(&fc, 29999);
    assert_false(cc_breaker_allow(&b));
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
    /* Late results of calls from before it opened change nothing. */
    cc_breaker_success(&b);
    cc_breaker_failure(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
    assert_int_equal(b.opened_total, 1);
    assert_int_equal(cc_breaker_retry_after_ms(&b), 1);
    cc_breaker_release(&b);
}

static void test_half_open_after_open_ms(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    for (int i = 0; i < 3; i++)
        cc_breaker_failure(&b);
    fake_clock_advance(&fc, 30000);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_HALF_OPEN);
    assert_true(cc_breaker_allow(&b));       /* the one trial */
    assert_false(cc_breaker_allow(&b));      /* half_open_max = 1 */
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_HALF_OPEN);
    cc_breaker_release(&b);
}

static void test_success_in_half_open_closes(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    for (int i = 0; i < 3; i++)
        cc_breaker_failure(&b);
    fake_clock_advance(&fc, 30000);
    assert_true(cc_breaker_allow(&b));
    cc_breaker_success(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_CLOSED);
    for (int i = 0; i < 10; i++)
        assert_true(cc_breaker_allow(&b));
    /* The failure count starts over: two failures do not reopen it. */
    cc_breaker_failure(&b);
    cc_breaker_failure(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_CLOSED);
    cc_breaker_failure(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
    assert_int_equal(b.opened_total, 2);
    cc_breaker_release(&b);
}

static void test_failure_in_half_open_reopens(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    for (int i = 0; i < 3; i++)
        cc_breaker_failure(&b);
    fake_clock_advance(&fc, 45000);          /* well past open_ms */
    assert_true(cc_breaker_allow(&b));
    cc_breaker_failure(&b);                  /* one failure is enough */
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
    assert_int_equal(b.opened_total, 2);
    assert_false(cc_breaker_allow(&b));
    /* A whole new open_ms from the reopening, not from the first opening. */
    assert_int_equal(cc_breaker_retry_after_ms(&b), 30000);
    fake_clock_advance(&fc, 29999);
    assert_false(cc_breaker_allow(&b));
    fake_clock_advance(&fc, 1);
    assert_true(cc_breaker_allow(&b));
    cc_breaker_release(&b);
}

static void test_half_open_max_limits_trials(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker_cfg cfg = {.failure_threshold = 1, .open_ms = 1000,
                                 .half_open_max = 3};
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg, &fc.base);
    cc_breaker_failure(&b);
    fake_clock_advance(&fc, 1000);
    assert_true(cc_breaker_allow(&b));
    assert_true(cc_breaker_allow(&b));
    assert_true(cc_breaker_allow(&b));
    assert_false(cc_breaker_allow(&b));
    assert_false(cc_breaker_allow(&b));
    /* After a reopening the trial budget is fresh. */
    cc_breaker_failure(&b);
    fake_clock_advance(&fc, 1000);
    int passed = 0;
    for (int i = 0; i < 10; i++)
        passed += cc_breaker_allow(&b);
    assert_int_equal(passed, 3);
    cc_breaker_release(&b);
}

static void test_retry_after_ms(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg3, &fc.base);
    assert_int_equal(cc_breaker_retry_after_ms(&b), 0);   /* closed */
    for (int i = 0; i < 3; i++)
        cc_breaker_failure(&b);
    assert_int_equal(cc_breaker_retry_after_ms(&b), 30000);
    fake_clock_advance(&fc, 12345);
    assert_int_equal(cc_breaker_retry_after_ms(&b), 30000 - 12345);
    fake_clock_advance(&fc, 30000 - 12345);
    assert_int_equal(cc_breaker_retry_after_ms(&b), 0);
    fake_clock_advance(&fc, 100000);
    assert_int_equal(cc_breaker_retry_after_ms(&b), 0);   /* never negative */
    assert_true(cc_breaker_allow(&b));
    assert_int_equal(cc_breaker_retry_after_ms(&b), 0);   /* half-open */
    cc_breaker_release(&b);
}

static void test_zero_config_is_usable(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker_cfg zero = {0};
    struct cc_breaker b;
    cc_breaker_init(&b, &zero, &fc.base);
    assert_true(cc_breaker_allow(&b));
    cc_breaker_failure(&b);                   /* threshold 0 acts as 1 */
    assert_int_equal(b.opened_total, 1);
    assert_true(cc_breaker_allow(&b));        /* open_ms 0: trial at once */
    assert_false(cc_breaker_allow(&b));       /* half_open_max 0 acts as 1 */
    cc_breaker_success(&b);
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_CLOSED);
    cc_breaker_release(&b);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(cc_breaker_state_str(CC_BREAKER_CLOSED), "closed");
    assert_string_equal(cc_breaker_state_str(CC_BREAKER_OPEN), "open");
    assert_string_equal(cc_breaker_state_str(CC_BREAKER_HALF_OPEN), "half-open");
    assert_string_equal(cc_breaker_state_str((enum cc_breaker_state)42), "unknown");
}

enum { THREADS = 8 };

struct shared {
    struct cc_breaker *b;
    pthread_barrier_t *start;
    int failures_each;
    int allowed;
};

static void *fail_many(void *arg)
{
    struct shared *s = arg;
    pthread_barrier_wait(s->start);
    for (int i = 0; i < s->failures_each; i++)
        cc_breaker_failure(s->b);
    return NULL;
}

static void *try_once(void *arg)
{
    struct shared *s = arg;
    pthread_barrier_wait(s->start);
    s->allowed = cc_breaker_allow(s->b);
    return NULL;
}

static void test_concurrent_failures_are_all_counted(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker_cfg cfg = {.failure_threshold = THREADS * 5000,
                                 .open_ms = 1000, .half_open_max = 1};
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg, &fc.base);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t tid[THREADS];
    struct shared sh[THREADS];
    for (int i = 0; i < THREADS; i++) {
        sh[i] = (struct shared){.b = &b, .start = &start, .failures_each = 5000};
        assert_int_equal(pthread_create(&tid[i], NULL, fail_many, &sh[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    /* Opens on exactly the last failure, and only once. */
    assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
    assert_int_equal(b.opened_total, 1);
    pthread_barrier_destroy(&start);
    cc_breaker_release(&b);
}

static void test_concurrent_trials_are_bounded(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_breaker_cfg cfg = {.failure_threshold = 1, .open_ms = 1000,
                                 .half_open_max = 3};
    struct cc_breaker b;
    cc_breaker_init(&b, &cfg, &fc.base);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    for (int round = 0; round < 50; round++) {
        cc_breaker_failure(&b);   /* closed or half-open -> open */
        assert_int_equal(cc_breaker_state(&b), CC_BREAKER_OPEN);
        fake_clock_advance(&fc, 1000);
        pthread_t tid[THREADS];
        struct shared sh[THREADS];
        for (int i = 0; i < THREADS; i++) {
            sh[i] = (struct shared){.b = &b, .start = &start};
            assert_int_equal(pthread_create(&tid[i], NULL, try_once, &sh[i]), 0);
        }
        int allowed = 0;
        for (int i = 0; i < THREADS; i++) {
            pthread_join(tid[i], NULL);
            allowed += sh[i].allowed;
        }
        assert_int_equal(allowed, 3);
    }
    pthread_barrier_destroy(&start);
    cc_breaker_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_after_threshold),
        cmocka_unit_test(test_success_resets_consecutive_failures),
        cmocka_unit_test(test_refuses_while_open),
        cmocka_unit_test(test_half_open_after_open_ms),
        cmocka_unit_test(test_success_in_half_open_closes),
        cmocka_unit_test(test_failure_in_half_open_reopens),
        cmocka_unit_test(test_half_open_max_limits_trials),
        cmocka_unit_test(test_retry_after_ms),
        cmocka_unit_test(test_zero_config_is_usable),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_concurrent_failures_are_all_counted),
        cmocka_unit_test(test_concurrent_trials_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
