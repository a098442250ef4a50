/* Backoff decides how hard CommandCenter hammers a failing engine or feed:
 * the sequence must be exact without jitter, bounded with it, and the retry
 * loop must stop for the documented reasons. The fake clock makes every
 * sleep instant and recorded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>

#include "core/retry.h"
#include "fakes/fake_clock.h"

static const struct cc_backoff standard = {
    .initial_ms = 1000, .max_ms = 60000, .multiplier = 2.0, .jitter = 0.0,
};

static void test_exact_sequence_without_jitter(void **state)
{
    (void)state;
    const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
    for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(cc_backoff_delay_ms(&standard, i + 1), want[i]);
}

static void test_large_attempts_saturate_at_cap(void **state)
{
    (void)state;
    assert_int_equal(cc_backoff_delay_ms(&standard, 64), 60000);
    assert_int_equal(cc_backoff_delay_ms(&standard, 65), 60000);
    assert_int_equal(cc_backoff_delay_ms(&standard, 2000), 60000);
    assert_int_equal(cc_backoff_delay_ms(&standard, UINT_MAX), 60000);

    struct cc_backoff huge = {.initial_ms = INT64_C(1) << 60, .max_ms = INT64_MAX,
                              .multiplier = 10.0};
    assert_int_equal(cc_backoff_delay_ms(&huge, 1), INT64_C(1) << 60);
    assert_int_equal(cc_backoff_delay_ms(&huge, 3), INT64_MAX);
    assert_int_equal(cc_backoff_delay_ms(&huge, UINT_MAX), INT64_MAX);
}

static void test_other_shapes(void **state)
{
    (void)state;
    struct cc_backoff flat = {.initial_ms = 500, .max_ms = 60000, .multiplier = 1.0};
    assert_int_equal(cc_backoff_delay_ms(&flat, 1), 500);
    assert_int_equal(cc_backoff_delay_ms(&flat, 1000), 500);
    struct cc_backoff triple = {.initial_ms = 100, .max_ms = 5000, .multiplier = 3.0};
    assert_int_equal(cc_backoff_delay_ms(&triple, 1), 100);
    assert_int_equal(cc_backoff_delay_ms(&triple, 2), 300);
    assert_int_equal(cc_backoff_delay_ms(&triple, 3), 900);
    assert_int_equal(cc_backoff_delay_ms(&triple, 4), 2700);
    assert_int_equal(cc_backoff_delay_ms(&triple, 5), 5000);
    /* The initial delay above the cap is capped too. */
    struct cc_backoff over = {.initial_ms = 9000, .max_ms = 5000, .multiplier = 2.0};
    assert_int_equal(cc_backoff_delay_ms(&over, 1), 5000);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    const double jitters[] = {0.1, 0.5, 1.0};
    for (size_t j = 0; j < sizeof(jitters) / sizeof(jitters[0]); j++) {
        struct cc_backoff b = standard;
        b.jitter = jitters[j];
        for (unsigned attempt = 1; attempt <= 8; attempt++) {
            int64_t base = cc_backoff_delay_ms(&standard, attempt);
            int64_t lo = base, hi = 0;
            for (int i = 0; i < 2000; i++) {
                int64_t d = cc_backoff_delay_ms(&b, attempt);
                assert_true(d <= base);
                assert_true((double)d >= (1.0 - b.jitter) * (double)base);
                assert_true(d >= 0);
                if (d < lo)
                    lo = d;
                if (d > hi)
                    hi = d;
            }
            /* Jitter really spreads the delays over its whole range. */
            double span = b.jitter * (double)base;
            assert_true((double)(base - lo) > 0.9 * span);
            assert_true((double)(base - hi) < 0.1 * span);
        }
    }
}

static void test_transient_classification(void **state)
{
    (void)state;
    for (int i = 0; i < CC_ERR__COUNT; i++) {
        bool want = i == CC_EAGAIN || i == CC_ETIMEOUT || i == CC_EUPSTREAM || i == CC_EIO;
        assert_int_equal(cc_err_is_transient((cc_err)i), want);
    }
}

/* An operation that fails with `errs[i]` on its i-th call, then succeeds,
 * optionally taking `work_ms` of (fake) time per call. */
struct script {
    const cc_err *errs;
    unsigned nerrs;
    unsigned calls;
    struct fake_clock *clock;
    int64_t work_ms;
    int64_t call_at[64];
};

static cc_err scripted(void *arg)
{
    struct script *s = arg;
    if (s->calls < 64)
        s->call_at[s->calls] = s->clock ? s->clock->mono_ms : 0;
    unsigned i = s->calls++;
    if (s->clock)
        fake_clock_advance(s->clock, s->work_ms);
    return i < s->nerrs ? s->errs[i] : CC_OK;
}

static cc_err always_eagain(void *arg)
{
    struct script *s = arg;
    s->calls++;
    if (s->clock)
        fake_clock_advance(s->clock, s->work_ms);
    return CC_EAGAIN;
}

static void test_success_first_try(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 5};
    struct script s = {0};
    unsigned attempts = 99;
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, &attempts), CC_OK);
    assert_int_equal(attempts, 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(fc.sleeps, 0);
}

static void test_permanent_error_stops_after_one_try(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 5};
    const cc_err errs[] = {CC_EINVAL, CC_EINVAL, CC_EINVAL};
    struct script s = {.errs = errs, .nerrs = 3};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, &attempts), CC_EINVAL);
    assert_int_equal(attempts, 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(fc.sleeps, 0);
    assert_int_equal(fc.slept_ms, 0);
}

static void test_transient_retried_until_max_attempts(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 5};
    struct script s = {.clock = &fc};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, always_eagain, &s, &attempts), CC_EAGAIN);
    assert_int_equal(attempts, 5);
    assert_int_equal(s.calls, 5);
    /* No sleep after the last try: it would only delay the error. */
    assert_int_equal(fc.sleeps, 4);
    assert_int_equal(fc.sleep_log[0], 1000);
    assert_int_equal(fc.sleep_log[1], 2000);
    assert_int_equal(fc.sleep_log[2], 4000);
    assert_int_equal(fc.sleep_log[3], 8000);
    assert_int_equal(fc.slept_ms, 15000);
    assert_int_equal(fc.mono_ms - FAKE_CLOCK_MONO_ORIGIN, 15000);
}

static void test_recovers_and_returns_ok(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 10};
    const cc_err errs[] = {CC_ETIMEOUT, CC_EUPSTREAM, CC_EIO};
    struct script s = {.errs = errs, .nerrs = 3, .clock = &fc};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, &attempts), CC_OK);
    assert_int_equal(attempts, 4);
    assert_int_equal(fc.sleeps, 3);
    assert_int_equal(fc.slept_ms, 7000);
    /* Each try starts right after the previous sleep. */
    assert_int_equal(s.call_at[1] - s.call_at[0], 1000);
    assert_int_equal(s.call_at[2] - s.call_at[1], 2000);
    assert_int_equal(s.call_at[3] - s.call_at[2], 4000);
}

static void test_transient_then_permanent(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard};   /* unlimited attempts */
    const cc_err errs[] = {CC_EAGAIN, CC_EAGAIN, CC_EAUTH};
    struct script s = {.errs = errs, .nerrs = 3};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, &attempts), CC_EAUTH);
    assert_int_equal(attempts, 3);
    assert_int_equal(fc.sleeps, 2);
}

static bool everything_transient(cc_err err)
{
    (void)err;
    return true;
}

static void test_custom_classifier(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 3,
                         .transient = everything_transient};
    const cc_err errs[] = {CC_EINVAL, CC_EINVAL, CC_EINVAL, CC_EINVAL};
    struct script s = {.errs = errs, .nerrs = 4};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, &attempts), CC_EINVAL);
    assert_int_equal(attempts, 3);
}

static void test_unlimited_attempts_with_cap(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard};
    cc_err errs[49];
    for (int i = 0; i < 49; i++)
        errs[i] = CC_EAGAIN;
    struct script s = {.errs = errs, .nerrs = 49};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, &attempts), CC_OK);
    assert_int_equal(attempts, 50);
    assert_int_equal(fc.sleeps, 49);
    /* 1+2+4+8+16+32 s, then 43 sleeps at the 60 s cap. */
    assert_int_equal(fc.slept_ms, 63000 + 43 * 60000);
    for (unsigned i = 6; i < 49; i++)
        assert_int_equal(fc.sleep_log[i], 60000);
}

static void test_deadline_not_overslept(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .deadline_ms = 10000};
    struct script s = {.clock = &fc};
    unsigned attempts = 0;
    /* Tries at 0, 1 s, 3 s, 7 s; the next sleep (8 s) would end at 15 s. */
    assert_int_equal(cc_retry_run(&r, &fc.base, always_eagain, &s, &attempts), CC_EAGAIN);
    assert_int_equal(attempts, 4);
    assert_int_equal(fc.sleeps, 3);
    assert_int_equal(fc.slept_ms, 7000);
    assert_true(fc.mono_ms - FAKE_CLOCK_MONO_ORIGIN <= 10000);
}

static void test_deadline_counts_time_spent_in_op(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .deadline_ms = 10000};
    struct script s = {.clock = &fc, .work_ms = 3000};
    unsigned attempts = 0;
    /* try 0-3 s, sleep 1 s, try 4-7 s, sleep 2 s, try 9-12 s: out of time. */
    assert_int_equal(cc_retry_run(&r, &fc.base, always_eagain, &s, &attempts), CC_EAGAIN);
    assert_int_equal(attempts, 3);
    assert_int_equal(fc.sleeps, 2);
    assert_int_equal(fc.slept_ms, 3000);
}

static void test_deadline_exactly_reached_still_sleeps(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    /* 1 + 2 = 3 s of sleep ends exactly at the deadline: allowed. */
    struct cc_retry r = {.backoff = standard, .deadline_ms = 3000};
    struct script s = {.clock = &fc};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, always_eagain, &s, &attempts), CC_EAGAIN);
    assert_int_equal(attempts, 3);
    assert_int_equal(fc.slept_ms, 3000);
}

static void test_jittered_sleeps_add_up(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 12};
    r.backoff.jitter = 0.3;
    struct script s = {0};
    unsigned attempts = 0;
    assert_int_equal(cc_retry_run(&r, &fc.base, always_eagain, &s, &attempts), CC_EAGAIN);
    assert_int_equal(fc.sleeps, 11);
    int64_t sum = 0;
    for (unsigned i = 0; i < fc.sleeps; i++) {
        int64_t base = cc_backoff_delay_ms(&standard, i + 1);
        assert_true(fc.sleep_log[i] <= base);
        assert_true((double)fc.sleep_log[i] >= 0.7 * (double)base);
        sum += fc.sleep_log[i];
    }
    assert_int_equal(fc.slept_ms, sum);
    assert_int_equal(fc.mono_ms - FAKE_CLOCK_MONO_ORIGIN, sum);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 0);
    struct cc_retry r = {.backoff = standard, .max_attempts = 1};
    struct script s = {0};
    assert_int_equal(cc_retry_run(NULL, &fc.base, scripted, &s, NULL), CC_EINVAL);
    assert_int_equal(cc_retry_run(&r, NULL, scripted, &s, NULL), CC_EINVAL);
    assert_int_equal(cc_retry_run(&r, &fc.base, NULL, &s, NULL), CC_EINVAL);
    assert_int_equal(s.calls, 0);
    /* attempts_out is optional. */
    assert_int_equal(cc_retry_run(&r, &fc.base, scripted, &s, NULL), CC_OK);
    assert_int_equal(s.calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_sequence_without_jitter),
        cmocka_unit_test(test_large_attempts_saturate_at_cap),
        cmocka_unit_test(test_other_shapes),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_transient_classification),
        cmocka_unit_test(test_success_first_try),
        cmocka_unit_test(test_permanent_error_stops_after_one_try),
        cmocka_unit_test(test_transient_retried_until_max_attempts),
        cmocka_unit_test(test_recovers_and_returns_ok),
        cmocka_unit_test(test_transient_then_permanent),
        cmocka_unit_test(test_custom_classifier),
        cmocka_unit_test(test_unlimited_attempts_with_cap),
        cmocka_unit_test(test_deadline_not_overslept),
        cmocka_unit_test(test_deadline_counts_time_spent_in_op),
        cmocka_unit_test(test_deadline_exactly_reached_still_sleeps),
        cmocka_unit_test(test_jittered_sleeps_add_up),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
