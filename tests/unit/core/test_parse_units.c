/* The one duration parser and the one size parser, as Compose files use
 * them (nanoseconds, fractions, us/µs, Docker's binary "gb") next to the
 * configuration (milliseconds, SI "MB"); test_clock.c holds the older
 * configuration cases. Diagnostics say where and what. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/clock.h"
#include "core/diag.h"

static void ns_ok(const char *s, int64_t want)
{
    int64_t got = -42;
    struct cc_diag d = {0};
    if (cc_parse_duration_ns(s, &got, &d) != CC_OK)
        fail_msg("'%s' refused: %s", s, d.msg);
    assert_true(got == want);
}

static void ns_bad(const char *s, const char *msg_part)
{
    int64_t got = -42;
    struct cc_diag d = {0};
    assert_int_equal(cc_parse_duration_ns(s, &got, &d), CC_EINVAL);
    assert_true(got == -42);
    if (!strstr(d.msg, msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", s, d.msg, msg_part);
}

static void test_duration_compose_forms(void **state)
{
    (void)state;
    ns_ok("1m30s", 90000000000LL);
    ns_ok("1.5s", 1500000000LL);
    ns_ok("1.1s", 1100000000LL);            /* exact, not 1099999999 */
    ns_ok("500ms", 500000000LL);
    ns_ok("10us", 10000LL);
    ns_ok("10\xc2\xb5s", 10000LL);          /* µs, MICRO SIGN */
    ns_ok("10\xce\xbcs", 10000LL);          /* μs, GREEK SMALL LETTER MU */
    ns_ok("7ns", 7);
    ns_ok("2h", 7200000000000LL);
    ns_ok("1d", 86400000000000LL);
    ns_ok("0.5", 500000000LL);              /* a lone number is seconds */
    ns_ok("30", 30000000000LL);
    ns_ok(".5s", 500000000LL);
    ns_ok("1.5h", 5400000000000LL);
    ns_ok("1.5ms", 1500000LL);
    ns_ok("0.0000000015s", 1);              /* digits past the ninth are ignored */
    ns_ok("1h0.5m1s250ms", 3631250000000LL);
    ns_ok("9223372036854775807ns", INT64_MAX);
    ns_ok("9223372036.854775807s", INT64_MAX);
}

static void test_duration_refusals_say_why(void **state)
{
    (void)state;
    ns_bad("", "empty");
    ns_bad("1m30", "no unit");
    ns_bad("1x", "unknown unit");
    ns_bad("1S", "unknown unit");
    ns_bad("-1s", "not a duration");
    ns_bad(".s", "not a duration");
    ns_bad("1s ", "not a duration");
    ns_bad("9223372036854775808ns", "too long");
    ns_bad("9223372036.854775808s", "too long");
    ns_bad("293y", "unknown unit");
    ns_bad("107000d", "too long");          /* fits in ms, not in ns */
    struct cc_diag d = {0};
    int64_t v;
    assert_int_equal(cc_parse_duration_ns("10s5q", &v, &d), CC_EINVAL);
    assert_int_equal(d.col, 5);             /* the unknown unit's column */
    /* The diagnostics are optional. */
    assert_int_equal(cc_parse_duration_ns("nope", &v, NULL), CC_EINVAL);
}

static void test_duration_ms_view(void **state)
{
    (void)state;
    int64_t ms = -1;
    struct cc_diag d = {0};
    assert_int_equal(cc_parse_duration_ms("1.5s", &ms, NULL), CC_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(cc_parse_duration_ms("2000us", &ms, NULL), CC_OK);
    assert_int_equal(ms, 2);
    assert_int_equal(cc_parse_duration_ms("107000d", &ms, NULL), CC_OK);
    assert_true(ms == 107000LL * 86400000);
    ms = -1;
    assert_int_equal(cc_parse_duration_ms("1500us", &ms, &d), CC_EINVAL);
    assert_int_equal(ms, -1);
    assert_non_null(strstr(d.msg, "finer than a millisecond"));
}

static void size_ok(const char *s, enum cc_size_units u, uint64_t want)
{
    uint64_t got = 42;
    struct cc_diag d = {0};
    if (cc_parse_size(s, u, &got, &d) != CC_OK)
        fail_msg("'%s' refused: %s", s, d.msg);
    if (got != want)
        fail_msg("'%s': %llu, want %llu", s, (unsigned long long)got,
                 (unsigned long long)want);
}

static void size_bad(const char *s, const char *msg_part)
{
    uint64_t got = 42;
    struct cc_diag d = {0};
    assert_int_equal(cc_parse_size(s, CC_SIZE_KB_IS_1024, &got, &d), CC_EINVAL);
    assert_true(got == 42);
    if (!strstr(d.msg, msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", s, d.msg, msg_part);
}

static void test_size_compose_forms(void **state)
{
    (void)state;
    const enum cc_size_units dk = CC_SIZE_KB_IS_1024, si = CC_SIZE_KB_IS_1000;
    size_ok("512m", dk, 512ull << 20);
    size_ok("32M", dk, 32ull << 20);
    size_ok("1g", dk, 1ull << 30);
    size_ok("64k", dk, 64ull << 10);
    size_ok("1GiB", dk, 1ull << 30);
    size_ok("1gb", dk, 1ull << 30);         /* Docker: every unit is binary */
    size_ok("1gb", si, 1000000000ull);      /* the configuration: SI */
    size_ok("10MB", si, 10000000ull);
    size_ok("10MiB", si, 10ull << 20);
    size_ok("1.5g", dk, 3ull << 29);
    size_ok("0.5k", si, 512);
    size_ok("1.5kb", si, 1500);
    size_ok("2t", dk, 2ull << 40);
    size_ok("1TB", si, 1000000000000ull);
    size_ok("1tib", si, 1ull << 40);
    size_ok("1.7", si, 1);                  /* rounded down to a byte */
    size_ok("1073741824", dk, 1ull << 30);
    size_ok("7b", dk, 7);
    size_ok("15.999999999999t", dk, (16ull << 40) - 1100);   /* 9 digits kept, floor */
}

static void test_size_refusals_say_why(void **state)
{
    (void)state;
    size_bad("lots", "not a size");
    size_bad(".5k", "not a size");
    size_bad("1 k", "unknown unit");
    size_bad("1p", "unknown unit");
    size_bad("10kbytes", "unknown unit");
    size_bad("18446744073709551616", "not a size");  /* the number alone overflows */
    size_bad("16777216t", "too large");
    assert_int_equal(cc_parse_size(NULL, CC_SIZE_KB_IS_1000, &(uint64_t){0}, NULL), CC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_compose_forms),
        cmocka_unit_test(test_duration_refusals_say_why),
        cmocka_unit_test(test_duration_ms_view),
        cmocka_unit_test(test_size_compose_forms),
        cmocka_unit_test(test_size_refusals_say_why),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
