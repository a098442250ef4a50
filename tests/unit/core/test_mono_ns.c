/* cc_mono_ns: latencies below a millisecond on the real clock, and the
 * fake clock's own time line (so a test that moves it moves latencies). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/clock.h"
#include "fakes/fake_clock.h"

static void test_real_clock_ns(void **state)
{
    (void)state;
    struct cc_clock *c = cc_clock_system();
    int64_t ms0 = cc_mono_ms(c);
    int64_t a = cc_mono_ns(c);
    int64_t b = cc_mono_ns(c);
    int64_t ms1 = cc_mono_ms(c);
    assert_true(b >= a);
    /* Same time line as mono_ms (CLOCK_MONOTONIC). */
    assert_true(a / 1000000 >= ms0 && a / 1000000 <= ms1);
    /* Resolution finer than a millisecond: some of many readings are not
     * whole milliseconds. */
    bool sub_ms = false;
    for (int i = 0; i < 1000 && !sub_ms; i++)
        sub_ms = cc_mono_ns(c) % 1000000 != 0;
    assert_true(sub_ms);
}

static void test_fake_clock_ns(void **state)
{
    (void)state;
    struct fake_clock fc;
    fake_clock_init(&fc, 1795306760123LL);
    int64_t a = cc_mono_ns(&fc.base);
    assert_true(a == (int64_t)FAKE_CLOCK_MONO_ORIGIN * 1000000);
    fake_clock_advance(&fc, 250);
    assert_true(cc_mono_ns(&fc.base) - a == 250000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_clock_ns),
        cmocka_unit_test(test_fake_clock_ns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
