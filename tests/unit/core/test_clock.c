/* Timestamps appear in logs and API bodies, durations and sizes come from
 * the user's config: both must be exact on good input and refuse bad input
 * without touching the output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/clock.h"

static void check_rfc3339(int64_t ms, const char *want)
{
    char out[32];
    memset(out, 'X', sizeof(out));
    cc_time_rfc3339(ms, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_rfc3339_known_instants(void **state)
{
    (void)state;
    check_rfc3339(0, "1970-01-01T00:00:00.000Z");
    check_rfc3339(1, "1970-01-01T00:00:00.001Z");
    check_rfc3339(999, "1970-01-01T00:00:00.999Z");
    check_rfc3339(1000, "1970-01-01T00:00:01.000Z");
    check_rfc3339(1795306760123, "2026-11-22T00:19:20.123Z");
    check_rfc3339(951825600000, "2000-02-29T12:00:00.000Z");
    check_rfc3339(2147483648000, "2038-01-19T03:14:08.000Z");   /* past 32-bit time_t */
}

static void test_rfc3339_before_epoch(void **state)
{
    (void)state;
    check_rfc3339(-1, "1969-12-31T23:59:59.999Z");
    check_rfc3339(-999, "1969-12-31T23:59:59.001Z");
    check_rfc3339(-1000, "1969-12-31T23:59:59.000Z");
    check_rfc3339(-1001, "1969-12-31T23:59:58.999Z");
    check_rfc3339(-86400000, "1969-12-31T00:00:00.000Z");
    check_rfc3339(-2208988800000, "1900-01-01T00:00:00.000Z");
}

static void test_rfc3339_exact_and_short_buffers(void **state)
{
    (void)state;
    char out[25];   /* the documented minimum */
    cc_time_rfc3339(1795306760123, out, sizeof(out));
    assert_string_equal(out, "2026-11-22T00:19:20.123Z");
    char small[11];
    cc_time_rfc3339(1795306760123, small, sizeof(small));
    assert_string_equal(small, "2026-11-22");   /* truncated, still terminated */
}

static void test_rfc3339_clamps_to_four_digit_years(void **state)
{
    (void)state;
    /* Past year 9999 the text would outgrow the documented 25 bytes, and
     * gmtime_r fails outright for years past INT_MAX. */
    check_rfc3339(253402300799999, "9999-12-31T23:59:59.999Z");
    check_rfc3339(253402300800000, "9999-12-31T23:59:59.999Z");
    check_rfc3339(INT64_MAX, "9999-12-31T23:59:59.999Z");
    check_rfc3339(-62167219200000, "0000-01-01T00:00:00.000Z");
    check_rfc3339(-62167219200001, "0000-01-01T00:00:00.000Z");
    check_rfc3339(INT64_MIN, "0000-01-01T00:00:00.000Z");
}

static void check_duration(const char *s, int64_t want)
{
    int64_t got = -42;
    assert_int_equal(cc_parse_duration_ms(s, &got, NULL), CC_OK);
    assert_int_equal(got, want);
}

static void check_bad_duration(const char *s)
{
    int64_t got = -42;
    assert_int_equal(cc_parse_duration_ms(s, &got, NULL), CC_EINVAL);
    assert_int_equal(got, -42);   /* untouched on error */
}

static void test_duration_good(void **state)
{
    (void)state;
    check_duration("250ms", 250);
    check_duration("10s", 10000);
    check_duration("1m30s", 90000);
    check_duration("2h", 7200000);
    check_duration("10", 10000);   /* bare number: seconds */
    check_duration("0", 0);
    check_duration("0s", 0);
    check_duration("1d", 86400000);
    check_duration("1h30m15s250ms", 5415250);
    check_duration("1m5ms", 60005);
    check_duration("007s", 7000);
    check_duration("9223372036854775807ms", INT64_MAX);
}

static void test_duration_bad(void **state)
{
    (void)state;
    check_bad_duration(NULL);
    check_bad_duration("");
    check_bad_duration("-1s");
    check_bad_duration("+1s");
    check_bad_duration("1x");
    check_bad_duration("1m30");   /* ambiguous trailing number */
    check_bad_duration(" 1s");
    check_bad_duration("1s ");
    check_bad_duration("1 s");
    check_bad_duration("s");
    check_bad_duration("ms");
    check_bad_duration("1S");
    check_bad_duration("1sec");
    check_bad_duration("1s-");
    check_bad_duration("9223372036854775807s");            /* * 1000 overflows */
    check_bad_duration("99999999999999999999");            /* strtoll ERANGE */
    check_bad_duration("9223372036854775807ms1ms");        /* sum overflows */
    check_bad_duration("3000000000000000h");
}

static void check_size(const char *s, uint64_t want)
{
    uint64_t got = 42;
    assert_int_equal(cc_parse_size(s, CC_SIZE_KB_IS_1000, &got, NULL), CC_OK);
    assert_true(got == want);
}

static void check_bad_size(const char *s)
{
    uint64_t got = 42;
    assert_int_equal(cc_parse_size(s, CC_SIZE_KB_IS_1000, &got, NULL), CC_EINVAL);
    assert_true(got == 42);
}

static void test_size_good(void **state)
{
    (void)state;
    check_size("512", 512);
    check_size("0", 0);
    check_size("64k", 65536);
    check_size("64K", 65536);
    check_size("10MB", 10000000);
    check_size("10mb", 10000000);
    check_size("1GiB", 1073741824ull);
    check_size("2g", 2147483648ull);
    check_size("3kb", 3000);
    check_size("3KiB", 3072);
    check_size("5m", 5ull * 1024 * 1024);
    check_size("7b", 7);
    check_size("18446744073709551615", UINT64_MAX);
    check_size("16777215GiB", 16777215ull << 30);
}

static void test_size_bad(void **state)
{
    (void)state;
    check_bad_size(NULL);
    check_bad_size("");
    check_bad_size("k");
    check_bad_size("-1");
    check_bad_size("+1");
    check_bad_size(" 1");
    check_bad_size("1 k");
    check_bad_size("1x");
    check_bad_size("10kbytes");
    check_bad_size("10kk");
    check_bad_size("18446744073709551616");    /* strtoull ERANGE */
    check_bad_size("18446744073709551615k");   /* multiplication overflows */
    check_bad_size("17179869184GiB");
}

static void test_system_clock(void **state)
{
    (void)state;
    struct cc_clock *c = cc_clock_system();
    assert_ptr_equal(c, cc_clock_system());
    assert_true(cc_wall_ms(c) > 1577836800000);   /* after 2020-01-01 */
    int64_t m0 = cc_mono_ms(c);
    c->sleep_ms(c, 0);
    c->sleep_ms(c, -5);
    c->sleep_ms(c, 20);
    int64_t m1 = cc_mono_ms(c);
    assert_true(m1 - m0 >= 20);
    assert_true(m1 - m0 < 5000);
}

static void test_rfc3339_parse(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(cc_parse_rfc3339("1970-01-01T00:00:00Z", &ms), CC_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(cc_parse_rfc3339("2026-11-22T00:19:20.123Z", &ms), CC_OK);
    assert_int_equal(ms, 1795306760123LL);
    assert_int_equal(cc_parse_rfc3339("2026-11-22T01:19:20.1+01:00", &ms), CC_OK);
    assert_int_equal(ms, 1795306760100LL);
    assert_int_equal(cc_parse_rfc3339("2026-11-21T19:19:20-05:00", &ms), CC_OK);
    assert_int_equal(ms, 1795306760000LL);
    assert_int_equal(cc_parse_rfc3339("2024-02-29", &ms), CC_OK);
    assert_int_equal(ms, 1709164800000LL);
    assert_int_equal(cc_parse_rfc3339("1969-12-31T23:59:59Z", &ms), CC_OK);
    assert_int_equal(ms, -1000);
    /* A round trip through the formatter. */
    char buf[32];
    cc_time_rfc3339(1795306760123LL, buf, sizeof(buf));
    assert_int_equal(cc_parse_rfc3339(buf, &ms), CC_OK);
    assert_int_equal(ms, 1795306760123LL);
    const char *bad[] = {"", "2026", "2026-13-01", "2026-02-29", "2026-11-22T24:00:00Z",
                         "2026-11-22T00:00:00", "2026-11-22T00:00:00+0100",
                         "2026-11-22T00:00:00.Z", "2026-11-22T00:00:00Zjunk", "22/11/2026",
                         "2026-11-22T0:00:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ms = 42;
        assert_int_equal(cc_parse_rfc3339(bad[i], &ms), CC_EINVAL);
        assert_int_equal(ms, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_known_instants),
        cmocka_unit_test(test_rfc3339_before_epoch),
        cmocka_unit_test(test_rfc3339_exact_and_short_buffers),
        cmocka_unit_test(test_rfc3339_clamps_to_four_digit_years),
        cmocka_unit_test(test_duration_good),
        cmocka_unit_test(test_duration_bad),
        cmocka_unit_test(test_size_good),
        cmocka_unit_test(test_size_bad),
        cmocka_unit_test(test_system_clock),
        cmocka_unit_test(test_rfc3339_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
