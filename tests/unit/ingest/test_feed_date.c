/*
 * test_feed_date.c - the date forms feeds carry: RFC 822/2822 with odd zones,
 * missing seconds, 2-digit years, missing or wrong weekdays; ISO 8601 /
 * RFC 3339 / W3C-DTF partials; broken forms seen in the wild; and dates that
 * must stay unknown (never "now", never a guess).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/tz.h"
#include "ingest/feed/feed_int.h"

static const struct {
    const char *in, *want; /* want NULL: no date */
} cases[] = {
    {"Mon, 02 Jan 2006 15:04:05 -0700", "2006-01-02T22:04:05Z"},
    {"Mon, 02 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z"},
    {"Mon, 02 Jan 2006 15:04:05 Z", "2006-01-02T15:04:05Z"},
    {"Mon, 02 Jan 2006 15:04:05 +01:00", "2006-01-02T14:04:05Z"},
    {"2 Jan 06 15:04 EST", "2006-01-02T20:04:00Z"},
    {"Mon, 2 Jan 2006 15:04 PST", "2006-01-02T23:04:00Z"},
    {"Sun, 1 Jan 2006 10:00 EDT", "2006-01-01T14:00:00Z"},
    {"Fri, 02 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z"}, /* wrong weekday */
    {"02 Jan 2006 15:04:05 +0100", "2006-01-02T14:04:05Z"},
    {"02 January 2006 15:04:05 +0100", "2006-01-02T14:04:05Z"},
    {"Tue, 10 Jun 2003 04:00:00 XYZ", "2003-06-10T04:00:00Z"},  /* unknown zone: UTC */
    {"Sun, 10 Nov 2019 10:00:00 +0000 (UTC)", "2019-11-10T10:00:00Z"},
    {"Wed, 02 Oct 2002 13:00:00 GMT+1", "2002-10-02T12:00:00Z"},
    {"Monday, 02-Jan-06 15:04:05 GMT", "2006-01-02T15:04:05Z"},
    {"Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z"},
    {"Jan 2, 2006", "2006-01-02T00:00:00Z"},
    {"Jan 2, 2006 3:04 PM", "2006-01-02T15:04:00Z"},
    {"Jan 2, 2006 12:30 AM", "2006-01-02T00:30:00Z"},
    {"Thu, 01 Jan 70 00:00:00 GMT", "1970-01-01T00:00:00Z"},
    {"Thu, 01 Jan 49 00:00:00 GMT", "2049-01-01T00:00:00Z"},
    {"Thu, 01 Jan 50 00:00:00 GMT", "1950-01-01T00:00:00Z"},
    {"Sat, 31 Dec 2016 23:59:60 GMT", "2016-12-31T23:59:59Z"}, /* leap second */
    {"  Mon, 02 Jan 2006 15:04:05 GMT\n", "2006-01-02T15:04:05Z"},
    {"2003-12-31T10:14:55.123-08:00", "2003-12-31T18:14:55Z"},
    {"2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z"},
    {"2003-12-31t10:14:55z", "2003-12-31T10:14:55Z"},
    {"2006-01-02T15:04Z", "2006-01-02T15:04:00Z"},
    {"2006-01-02T15:04:05", "2006-01-02T15:04:05Z"},
    {"2006-01-02T15:04:05+0530", "2006-01-02T09:34:05Z"},
    {"2006-01-02T15:04:05+05", "2006-01-02T10:04:05Z"},
    {"2006-01-02 15:04:05", "2006-01-02T15:04:05Z"},
    {"2006-01-02 15:04:05 EST", "2006-01-02T20:04:05Z"},
    {"2006-01-02", "2006-01-02T00:00:00Z"},
    {"2006-01", "2006-01-01T00:00:00Z"},
    {"2006", "2006-01-01T00:00:00Z"},
    {"20060102T150405Z", "2006-01-02T15:04:05Z"},
    {"20060102", "2006-01-02T00:00:00Z"},
    {"2006/01/02 15:04:05", "2006-01-02T15:04:05Z"},
    {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
    {"2006-01-02T24:00:00Z", "2006-01-03T00:00:00Z"},
    /* unknown: no guess */
    {"", NULL},
    {"sometime last week", NULL},
    {"garbage 2006", NULL},
    {"Fri, 31 Feb 2006 10:00:00 GMT", NULL},
    {"2023-02-29", NULL},
    {"Mon, 02 Jan 2006 25:04:05 GMT", NULL},
    {"Mon, 02 Jan 2006 15:61:05 GMT", NULL},
    {"2006-13-01", NULL},
    {"2006-01-02T15:04:05+25:00", NULL},
    {"2006-01-02Tfoo", NULL},
    {"Mon, 02 Foo 2006", NULL},
    {"02 Jan", NULL},
    {"12345", NULL},
    {"2006-01-02T15:04:05Z trailing", NULL},
};

static void test_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = 42;
        bool ok = feed__date_parse(cases[i].in, &t);
        char got[40] = "(none)";
        if (ok)
            cc_time_rfc3339_s(t, got, sizeof(got));
        if (!cases[i].want) {
            if (ok)
                fail_msg("'%s': want no date, got %s", cases[i].in, got);
            assert_int_equal(t, 42); /* out untouched */
        } else if (!ok || strcmp(got, cases[i].want) != 0) {
            fail_msg("'%s': want %s, got %s", cases[i].in, cases[i].want, got);
        }
    }
}

static void test_null_and_long_inputs(void **state)
{
    (void)state;
    int64_t t;
    assert_false(feed__date_parse(NULL, &t));
    char big[300];
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_false(feed__date_parse(big, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_null_and_long_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
