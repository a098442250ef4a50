/*
 * test_cron.c - cron expressions as a user writes them and as the scheduler
 * runs them: exact error messages with columns, next run times (the OR rule,
 * leap days, macros, DST gaps and repeats in Paris, New York and Lord Howe),
 * and two brute-force references (minute by minute, in UTC and in zones)
 * that keep the field-skipping search honest on random expressions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/tz.h"
#include "ingest/cron.h"

static struct cc_tz *load(const char *name)
{
    struct cc_tz *tz = NULL;
    struct cc_diag d = {0};
    if (cc_tz_load_dir(CC_TZ_DEFAULT_DIR, name, &tz, &d) != CC_OK)
        fail_msg("loading %s: %s", name, d.msg);
    return tz;
}

static int64_t at(const char *rfc3339)
{
    int64_t t;
    assert_int_equal(cc_time_parse_rfc3339(rfc3339, &t), CC_OK);
    return t;
}

static struct cron_expr parse_ok(const char *text)
{
    struct cron_expr e;
    struct cc_diag d = {0};
    if (cron_parse(text, &e, &d) != CC_OK)
        fail_msg("'%s': %s", text, d.msg);
    return e;
}

static uint64_t bits(const int *v)
{
    uint64_t b = 0;
    for (; *v >= 0; v++)
        b |= UINT64_C(1) << *v;
    return b;
}
#define BITS(...) bits((const int[]){__VA_ARGS__, -1})

static void test_parse_fields(void **state)
{
    (void)state;
    struct cron_expr e = parse_ok("*/15 * * * *");
    assert_int_equal(e.minute, BITS(0, 15, 30, 45));
    assert_int_equal(e.hour, 0xffffff);
    assert_int_equal(e.mday, 0xfffffffe);
    assert_int_equal(e.month, 0x1ffe);
    assert_int_equal(e.wday, 0x7f);
    assert_true(e.mday_star && e.wday_star);
    assert_int_equal(parse_ok("5/20 * * * *").minute, BITS(5, 25, 45));
    assert_int_equal(parse_ok("1-30/5 * * * *").minute, BITS(1, 6, 11, 16, 21, 26));
    assert_int_equal(parse_ok("0,59,7-9 * * * *").minute, BITS(0, 7, 8, 9, 59));
    assert_int_equal(parse_ok("*/60 * * * *").minute, BITS(0));
    e = parse_ok("0 9-17 * * MON-FRI");
    assert_int_equal(e.hour, BITS(9, 10, 11, 12, 13, 14, 15, 16, 17));
    assert_int_equal(e.wday, BITS(1, 2, 3, 4, 5));
    assert_true(e.mday_star);
    assert_false(e.wday_star);
    assert_int_equal(parse_ok("0 0 * * 7").wday, BITS(0));
    assert_int_equal(parse_ok("0 0 * * 5-7").wday, BITS(0, 5, 6));
    assert_int_equal(parse_ok("0 0 * * sat-SUN").wday, BITS(0, 6));
    assert_int_equal(parse_ok("0 0 * * MON-SUN").wday, 0x7f);
    assert_int_equal(parse_ok("0 0 * * 1/2").wday, BITS(1, 3, 5));
    assert_int_equal(parse_ok("0 0 * * */3").wday, BITS(0, 3, 6));
    assert_int_equal(parse_ok("* * * jan,Jul,DEC *").month, BITS(1, 7, 12));
    assert_int_equal(parse_ok("* * * FEB-apr/2 *").month, BITS(2, 4));
    e = parse_ok("0 0 1,15 * */2");
    assert_int_equal(e.mday, BITS(1, 15));
    assert_false(e.mday_star);
    assert_true(e.wday_star); /* starts with '*': crontab(5)'s "restricted" */
    e = parse_ok(" \t0  0\t* * *  ");
    assert_int_equal(e.minute, 1);
    assert_int_equal(e.hour, 1);
    assert_int_equal(parse_ok("0 0 29 2 *").mday, BITS(29));
}

static void test_parse_macros(void **state)
{
    (void)state;
    static const char *pairs[][2] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}, {"  @Hourly\t", "0 * * * *"}, {"@WEEKLY", "0 0 * * 0"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct cron_expr a = parse_ok(pairs[i][0]), b = parse_ok(pairs[i][1]);
        if (memcmp(&a, &b, sizeof(a)) != 0)
            fail_msg("%s differs from %s", pairs[i][0], pairs[i][1]);
    }
}

static void expect_error(const char *text, cc_err want, unsigned col, const char *msg)
{
    struct cron_expr e;
    memset(&e, 0xa5, sizeof(e));
    struct cron_expr before = e;
    struct cc_diag d = {0};
    cc_err err = cron_parse(text, &e, &d);
    if (err != want || d.col != col || strcmp(d.msg, msg) != 0)
        fail_msg("'%s': got %s col %u '%s'\n  want %s col %u '%s'", text, cc_err_name(err),
                 d.col, d.msg, cc_err_name(want), col, msg);
    assert_memory_equal(&e, &before, sizeof(e)); /* untouched on error */
    assert_int_equal(cron_parse(text, &e, NULL), want); /* NULL diag is fine */
}

static void test_parse_errors(void **state)
{
    (void)state;
    const cc_err P = CC_EPARSE;
    expect_error("", P, 1, "empty expression");
    expect_error(" \t ", P, 1, "empty expression");
    expect_error("* * * *", P, 8,
                 "expected 5 fields (minute hour day-of-month month day-of-week), found 4");
    expect_error("* * * * * *", P, 11, "expected 5 fields (minute hour day-of-month month "
                                       "day-of-week), found more than 5");
    expect_error("0 24 * * *", P, 3, "field 2 (hour): 24 is out of range 0-23");
    expect_error("60 * * * *", P, 1, "field 1 (minute): 60 is out of range 0-59");
    expect_error("* * 0 * *", P, 5, "field 3 (day of month): 0 is out of range 1-31");
    expect_error("* * 32 * *", P, 5, "field 3 (day of month): 32 is out of range 1-31");
    expect_error("* * * 13 *", P, 7, "field 4 (month): 13 is out of range 1-12");
    expect_error("* * * * 8", P, 9, "field 5 (day of week): 8 is out of range 0-7");
    expect_error("99999999999 * * * *", P, 1,
                 "field 1 (minute): 99999999999 is out of range 0-59");
    expect_error("*/0 * * * *", P, 3, "field 1 (minute): step 0 is out of range 1-60");
    expect_error("* */25 * * *", P, 5, "field 2 (hour): step 25 is out of range 1-24");
    expect_error("* * * * */8", P, 11, "field 5 (day of week): step 8 is out of range 1-7");
    expect_error("30-10 * * * *", P, 1, "field 1 (minute): range 30-10 is reversed (30 > 10)");
    expect_error("* * * * FRI-MON", P, 9,
                 "field 5 (day of week): range FRI-MON is reversed (5 > 1)");
    expect_error("x * * * *", P, 1, "field 1 (minute): unexpected 'x', names are only allowed "
                                    "for the month and day of week");
    expect_error("1,,2 * * * *", P, 3, "field 1 (minute): unexpected ',', expected a number");
    expect_error("1, * * * *", P, 3, "field 1 (minute): expected a number");
    expect_error("1- * * * *", P, 3, "field 1 (minute): expected a number");
    expect_error("-5 * * * *", P, 1, "field 1 (minute): unexpected '-', expected a number");
    expect_error("1-5x * * * *", P, 4,
                 "field 1 (minute): unexpected 'x', expected ',' or the end of the field");
    expect_error("** * * * *", P, 2,
                 "field 1 (minute): unexpected '*', expected ',' or the end of the field");
    expect_error("5\x01 * * * *", P, 2, "field 1 (minute): unexpected byte 0x01, expected ',' "
                                        "or the end of the field");
    expect_error("* * * FOO *", P, 7, "field 4 (month): unknown name 'FOO' (expected JAN-DEC)");
    expect_error("* * * * MONDAY", P, 9,
                 "field 5 (day of week): unknown name 'MONDAY' (expected SUN-SAT)");
    expect_error("* * * * MON/", P, 13, "field 5 (day of week): expected a step number");
    expect_error("* * * * 1/x", P, 11,
                 "field 5 (day of week): unexpected 'x', expected a step number");
    expect_error("0 0 * * 1\n", P, 10, "field 5 (day of week): unexpected byte 0x0a, expected "
                                      "',' or the end of the field");
    expect_error("@reboot", P, 1, "unknown macro '@reboot' (expected @yearly, @annually, "
                                  "@monthly, @weekly, @daily, @midnight or @hourly)");
    expect_error("@daily 5", P, 8, "unexpected text after @daily");
    expect_error("@", P, 1, "unknown macro '@' (expected @yearly, @annually, @monthly, "
                            "@weekly, @daily, @midnight or @hourly)");

    char text[CRON_TEXT_MAX + 2];
    memset(text, ' ', sizeof(text));
    memcpy(text, "0 0 * * *", 9);
    text[CRON_TEXT_MAX] = '\0';
    parse_ok(text); /* exactly at the cap */
    text[CRON_TEXT_MAX] = ' ';
    text[CRON_TEXT_MAX + 1] = '\0';
    expect_error(text, CC_ELIMIT, 257, "expression is longer than 256 characters");
}

/* Checks the `n` run times after `from` in `zone` (NULL: UTC). */
static void expect_runs(const char *expr, const char *zone, const char *from, int n, ...)
{
    struct cron_expr e = parse_ok(expr);
    struct cc_tz *tz = zone ? load(zone) : NULL;
    int64_t t = at(from);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        char got[32];
        cc_err err = cron_next(&e, tz, t, &t);
        if (err)
            fail_msg("'%s' in %s after %s: run %d: %s", expr, zone ? zone : "UTC", from, i,
                     cc_err_str(err));
        cc_time_rfc3339_s(t, got, sizeof(got));
        if (strcmp(got, want) != 0)
            fail_msg("'%s' in %s after %s: run %d is %s, want %s", expr, zone ? zone : "UTC",
                     from, i, got, want);
    }
    va_end(ap);
    cc_tz_free(tz);
}

static void test_next_utc(void **state)
{
    (void)state;
    expect_runs("*/15 * * * *", NULL, "2026-01-01T00:00:00Z", 2, "2026-01-01T00:15:00Z",
                "2026-01-01T00:30:00Z");
    expect_runs("*/15 * * * *", NULL, "2026-01-01T00:07:30Z", 1, "2026-01-01T00:15:00Z");
    expect_runs("*/15 * * * *", NULL, "2026-01-01T00:14:59Z", 1, "2026-01-01T00:15:00Z");
    expect_runs("* * * * *", NULL, "2026-12-31T23:59:59Z", 1, "2027-01-01T00:00:00Z");
    expect_runs("0 0 1 1 *", NULL, "2026-06-15T00:00:00Z", 2, "2027-01-01T00:00:00Z",
                "2028-01-01T00:00:00Z");
    expect_runs("59 23 31 12 *", NULL, "2026-12-31T23:59:00Z", 1, "2027-12-31T23:59:00Z");
    expect_runs("0 12 * * MON", NULL, "2026-03-29T00:00:00Z", 2, "2026-03-30T12:00:00Z",
                "2026-04-06T12:00:00Z");
    expect_runs("0 0 31 * *", NULL, "2026-02-01T00:00:00Z", 3, "2026-03-31T00:00:00Z",
                "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z");
    expect_runs("0 0 29 2 *", NULL, "2026-01-01T00:00:00Z", 2, "2028-02-29T00:00:00Z",
                "2032-02-29T00:00:00Z");
    expect_runs("0 0 29 2 *", NULL, "2096-03-01T00:00:00Z", 1, "2104-02-29T00:00:00Z");
    expect_runs("30 4 1-7 * 1", NULL, "2026-01-01T00:00:00Z", 4, "2026-01-01T04:30:00Z",
                "2026-01-02T04:30:00Z", "2026-01-03T04:30:00Z", "2026-01-04T04:30:00Z");
    expect_runs("0 22 * * 1-5", NULL, "2026-03-27T22:00:00Z", 2, "2026-03-30T22:00:00Z",
                "2026-03-31T22:00:00Z");
    expect_runs("5/20 9-10 * * *", NULL, "2026-01-01T09:45:00Z", 3, "2026-01-01T10:05:00Z",
                "2026-01-01T10:25:00Z", "2026-01-01T10:45:00Z");
}

static void test_next_or_rule(void **state)
{
    (void)state;
    /* both restricted: the 13th or a Friday */
    expect_runs("0 0 13 * FRI", NULL, "2026-01-01T00:00:00Z", 4, "2026-01-02T00:00:00Z",
                "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z");
    expect_runs("0 0 1 * MON", NULL, "2026-01-27T00:00:00Z", 3, "2026-02-01T00:00:00Z",
                "2026-02-02T00:00:00Z", "2026-02-09T00:00:00Z");
    /* a field starting with '*' is not "restricted": both must match */
    expect_runs("0 0 */2 * MON", NULL, "2026-01-01T00:00:00Z", 3, "2026-01-05T00:00:00Z",
                "2026-01-19T00:00:00Z", "2026-02-09T00:00:00Z");
    expect_runs("0 0 1 * *", NULL, "2026-01-01T00:00:00Z", 1, "2026-02-01T00:00:00Z");
    expect_runs("0 0 * * 0", NULL, "2026-01-01T00:00:00Z", 1, "2026-01-04T00:00:00Z");
    expect_runs("0 0 * * 7", NULL, "2026-01-01T00:00:00Z", 1, "2026-01-04T00:00:00Z");
    /* February 30th or a Sunday: the Sunday keeps it alive */
    expect_runs("0 0 30 2 SUN", NULL, "2026-02-01T00:00:00Z", 1, "2026-02-08T00:00:00Z");
}

static void test_next_macros(void **state)
{
    (void)state;
    const char *from = "2026-03-01T00:00:00Z"; /* a Sunday */
    expect_runs("@yearly", NULL, from, 1, "2027-01-01T00:00:00Z");
    expect_runs("@annually", NULL, from, 1, "2027-01-01T00:00:00Z");
    expect_runs("@monthly", NULL, from, 1, "2026-04-01T00:00:00Z");
    expect_runs("@weekly", NULL, from, 1, "2026-03-08T00:00:00Z");
    expect_runs("@daily", NULL, from, 1, "2026-03-02T00:00:00Z");
    expect_runs("@midnight", NULL, from, 1, "2026-03-02T00:00:00Z");
    expect_runs("@hourly", NULL, from, 1, "2026-03-01T01:00:00Z");
    expect_runs("@daily", "Europe/Paris", from, 2, "2026-03-01T23:00:00Z",
                "2026-03-02T23:00:00Z");
}

static void test_next_dst_paris(void **state)
{
    (void)state;
    const char *z = "Europe/Paris";
    /* 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 runs at 03:00, once */
    expect_runs("30 2 * * *", z, "2026-03-28T00:00:00Z", 3, "2026-03-28T01:30:00Z",
                "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
    expect_runs("*/30 2 * * *", z, "2026-03-28T12:00:00Z", 3, "2026-03-29T01:00:00Z",
                "2026-03-30T00:00:00Z", "2026-03-30T00:30:00Z");
    /* 03:00 itself is scheduled too: still one run at the end of the gap */
    expect_runs("0,30 2,3 * * *", z, "2026-03-29T00:30:00Z", 3, "2026-03-29T01:00:00Z",
                "2026-03-29T01:30:00Z", "2026-03-30T00:00:00Z");
    /* 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 runs the first time */
    expect_runs("30 2 * * *", z, "2026-10-24T12:00:00Z", 2, "2026-10-25T00:30:00Z",
                "2026-10-26T01:30:00Z");
    expect_runs("30 2 * * *", z, "2026-10-25T00:45:00Z", 1, "2026-10-26T01:30:00Z");
    expect_runs("0 * * * *", z, "2026-10-24T22:30:00Z", 4, "2026-10-24T23:00:00Z",
                "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z", "2026-10-25T03:00:00Z");
    expect_runs("@daily", z, "2026-03-28T12:00:00Z", 2, "2026-03-28T23:00:00Z",
                "2026-03-29T22:00:00Z");
}

static void test_next_dst_new_york(void **state)
{
    (void)state;
    const char *z = "America/New_York";
    expect_runs("30 2 * * *", z, "2026-03-07T12:00:00Z", 3, "2026-03-08T07:00:00Z",
                "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z");
    /* 2026-11-01: 01:30 happens at 05:30Z (EDT) and 06:30Z (EST); runs once */
    expect_runs("30 1 * * *", z, "2026-10-31T12:00:00Z", 3, "2026-11-01T05:30:00Z",
                "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z");
    expect_runs("30 1 * * *", z, "2026-11-01T06:10:00Z", 1, "2026-11-02T06:30:00Z");
    expect_runs("0 * * * *", z, "2026-11-01T03:30:00Z", 3, "2026-11-01T04:00:00Z",
                "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z");
    /* the footer rule beyond 2037 */
    expect_runs("30 2 * * *", z, "2100-03-13T12:00:00Z", 2, "2100-03-14T07:00:00Z",
                "2100-03-15T06:30:00Z");
    expect_runs("0 9 * * MON-FRI", z, "2026-03-06T15:00:00Z", 2, "2026-03-09T13:00:00Z",
                "2026-03-10T13:00:00Z");
}

static void test_next_dst_lord_howe(void **state)
{
    (void)state;
    const char *z = "Australia/Lord_Howe";
    /* 2026-10-04: 02:00 (+10:30) jumps to 02:30 (+11) */
    expect_runs("15 2 * * *", z, "2026-10-03T00:00:00Z", 2, "2026-10-03T15:30:00Z",
                "2026-10-04T15:15:00Z");
    /* 2026-04-05: 02:00 (+11) falls back to 01:30 (+10:30) */
    expect_runs("45 1 * * *", z, "2026-04-04T00:00:00Z", 2, "2026-04-04T14:45:00Z",
                "2026-04-05T15:15:00Z");
}

static void test_next_not_found(void **state)
{
    (void)state;
    static const char *never[] = {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 2 *"};
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        struct cron_expr e = parse_ok(never[i]);
        int64_t out = 42;
        assert_int_equal(cron_next(&e, NULL, at("2026-01-01T00:00:00Z"), &out), CC_ENOTFOUND);
        assert_int_equal(out, 42);
    }
    struct cron_expr e = parse_ok("0 0 1 1 *");
    int64_t out = 42;
    assert_int_equal(cron_next(&e, NULL, at("9999-06-01T00:00:00Z"), &out), CC_ENOTFOUND);
    assert_int_equal(cron_next(&e, NULL, at("0000-06-01T00:00:00Z"), &out), CC_EINVAL);
    assert_int_equal(cron_next(&e, NULL, INT64_MAX, &out), CC_EINVAL);
    assert_int_equal(out, 42);
    assert_int_equal(cron_next(&e, NULL, at("9998-06-01T00:00:00Z"), &out), CC_OK);
    assert_int_equal(out, at("9999-01-01T00:00:00Z"));
}

/* ---- brute-force references ---- */

static uint64_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static int value(uint64_t *s, int field, int min, int max, char *out, size_t outsz)
{
    int v = min + (int)(rng(s) % (uint64_t)(max - min + 1));
    if (field == 3 && rng(s) % 3 == 0)
        snprintf(out, outsz, "%s", month_names[v - 1]);
    else if (field == 4 && v < 7 && rng(s) % 3 == 0)
        snprintf(out, outsz, "%s", day_names[v]);
    else
        snprintf(out, outsz, "%d", v);
    return v;
}

/* A random valid field: '*', steps, values, ranges and lists. */
static void random_field(uint64_t *s, int field, char *out, size_t outsz)
{
    static const int mins[5] = {0, 0, 1, 1, 0}, maxs[5] = {59, 23, 31, 12, 7};
    int min = mins[field], max = maxs[field];
    int items = 1 + (rng(s) % 4 == 0 ? (int)(rng(s) % 3) : 0);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < items; i++) {
        char a[8], b[8], item[32];
        int kind = (int)(rng(s) % 6), step = 1 + (int)(rng(s) % (uint64_t)(max - min + 1));
        if (field == 4 && step > 7)
            step = 7;
        if (kind == 0) {
            snprintf(item, sizeof(item), "*");
        } else if (kind == 1) {
            snprintf(item, sizeof(item), "*/%d", step);
        } else if (kind == 2) {
            value(s, field, min, max, a, sizeof(a));
            snprintf(item, sizeof(item), "%s", a);
        } else {
            int lo = value(s, field, min, max, a, sizeof(a));
            int hi = value(s, field, lo, max, b, sizeof(b));
            (void)hi;
            if (kind == 3)
                snprintf(item, sizeof(item), "%s-%s", a, b);
            else if (kind == 4)
                snprintf(item, sizeof(item), "%s-%s/%d", a, b, step);
            else
                snprintf(item, sizeof(item), "%s/%d", a, step);
        }
        len += (size_t)snprintf(out + len, outsz - len, "%s%s", i ? "," : "", item);
    }
}

static void random_expr(uint64_t *s, char *out, size_t outsz)
{
    char f[5][128];
    for (int i = 0; i < 5; i++)
        random_field(s, i, f[i], sizeof(f[i]));
    if (rng(s) % 2) /* keep many expressions dense enough to test quickly */
        snprintf(f[rng(s) % 2 ? 3 : 2], sizeof(f[0]), "*");
    int n = snprintf(out, outsz, "%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
    assert_true(n > 0 && (size_t)n < outsz);   /* the caller's buffer holds 5 fields */
}

static bool matches(const struct cron_expr *e, int mo, int d, int h, int mi, int wd)
{
    bool md = e->mday >> d & 1, wdm = e->wday >> wd & 1;
    bool day = e->mday_star || e->wday_star ? md && wdm : md || wdm;
    return (e->minute >> mi & 1) && (e->hour >> h & 1) && (e->month >> mo & 1) && day;
}

/* Minute by minute in UTC, fields carried by hand; at most `limit` minutes. */
static bool brute_utc(const struct cron_expr *e, int64_t after, int64_t limit, int64_t *out)
{
    int64_t t = (after / 60 + 1) * 60;
    struct cc_tm tm;
    cc_tz_localtime(cc_tz_utc(), t, &tm);
    int y = tm.year, mo = tm.month, d = tm.mday, h = tm.hour, mi = tm.min, wd = tm.wday;
    for (int64_t i = 0; i < limit; i++, t += 60) {
        if (matches(e, mo, d, h, mi, wd)) {
            *out = t;
            return true;
        }
        if (++mi < 60)
            continue;
        mi = 0;
        if (++h < 24)
            continue;
        h = 0;
        wd = (wd + 1) % 7;
        if (++d <= cc_days_in_month(y, mo))
            continue;
        d = 1;
        if (++mo <= 12)
            continue;
        mo = 1;
        y++;
    }
    return false;
}

static void test_against_brute_force_utc(void **state)
{
    (void)state;
    uint64_t s = 20260329;
    const int64_t limit = 400 * 1440; /* minutes */
    for (int i = 0; i < 400; i++) {
        char text[5 * 128 + 8];
        random_expr(&s, text, sizeof(text));
        struct cron_expr e = parse_ok(text);
        for (int k = 0; k < 3; k++) {
            /* 2000 .. 2099, any second */
            int64_t after = 946684800 + (int64_t)(rng(&s) % UINT64_C(3155760000));
            int64_t fast = 0, slow = 0;
            cc_err err = cron_next(&e, NULL, after, &fast);
            bool found = brute_utc(&e, after, limit, &slow);
            if (found && (err || fast != slow))
                fail_msg("'%s' after %lld: fast %s %lld, brute force %lld", text,
                         (long long)after, cc_err_name(err), (long long)fast, (long long)slow);
            if (!found && !err && fast <= after + limit * 60)
                fail_msg("'%s' after %lld: fast %lld, brute force nothing", text,
                         (long long)after, (long long)fast);
        }
    }
}

/* The zone reference, minute by minute in UTC: u is a run when its wall
 * time matches and u is that wall time's first occurrence, or when u ends a
 * gap in which some skipped wall minute matches. */
static bool is_run(const struct cron_expr *e, const struct cc_tz *tz, int64_t u)
{
    struct cc_tm now, prev;
    cc_tz_localtime(tz, u, &now);
    cc_tz_localtime(tz, u - 60, &prev);
    int64_t wall = cc_days_from_civil(now.year, now.month, now.mday) * 86400 + now.hour * 3600 +
                   now.min * 60;
    int64_t pwall = cc_days_from_civil(prev.year, prev.month, prev.mday) * 86400 +
                    prev.hour * 3600 + prev.min * 60;
    if (matches(e, now.month, now.mday, now.hour, now.min, now.wday)) {
        int64_t first;
        assert_int_equal(cc_tz_mktime(tz, &now, CC_TZ_EARLIEST, &first, NULL), CC_OK);
        if (first == u)
            return true;
    }
    for (int64_t w = pwall + 60; w < wall; w += 60) { /* the skipped wall minutes */
        struct cc_tm g;
        cc_tz_localtime(cc_tz_utc(), w, &g);
        if (matches(e, g.month, g.mday, g.hour, g.min, g.wday))
            return true;
    }
    return false;
}

static void test_against_brute_force_zones(void **state)
{
    (void)state;
    static const char *zones[] = {"Europe/Paris", "America/New_York", "Australia/Lord_Howe"};
    /* a few days before each 2026 transition (and one in 2100) */
    static const char *near[] = {"2026-03-27T00:00:00Z", "2026-10-23T00:00:00Z",
                                 "2026-03-06T00:00:00Z", "2026-10-30T00:00:00Z",
                                 "2026-04-02T00:00:00Z", "2026-10-01T00:00:00Z",
                                 "2100-03-12T00:00:00Z"};
    uint64_t s = 42;
    for (size_t z = 0; z < 3; z++) {
        struct cc_tz *tz = load(zones[z]);
        for (int i = 0; i < 150; i++) {
            char text[5 * 128 + 8];
            random_expr(&s, text, sizeof(text));
            struct cron_expr e = parse_ok(text);
            int64_t after = at(near[rng(&s) % 7]) + (int64_t)(rng(&s) % (4 * 86400));
            int64_t fast = 0, u = (after / 60 + 1) * 60, end = u + 6 * 86400;
            cc_err err = cron_next(&e, tz, after, &fast);
            while (u < end && !is_run(&e, tz, u))
                u += 60;
            if (u < end && (err || fast != u))
                fail_msg("'%s' in %s after %lld: fast %s %lld, brute force %lld", text,
                         zones[z], (long long)after, cc_err_name(err), (long long)fast,
                         (long long)u);
            if (u >= end && !err && fast < end)
                fail_msg("'%s' in %s after %lld: fast %lld, brute force nothing", text,
                         zones[z], (long long)after, (long long)fast);
        }
        cc_tz_free(tz);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_macros),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_next_utc),
        cmocka_unit_test(test_next_or_rule),
        cmocka_unit_test(test_next_macros),
        cmocka_unit_test(test_next_dst_paris),
        cmocka_unit_test(test_next_dst_new_york),
        cmocka_unit_test(test_next_dst_lord_howe),
        cmocka_unit_test(test_next_not_found),
        cmocka_unit_test(test_against_brute_force_utc),
        cmocka_unit_test(test_against_brute_force_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
