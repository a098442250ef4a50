/* test_utf8.c - cc_utf8_valid against the boundaries of RFC 3629. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

static bool valid(const char *s) { return cc_utf8_valid(s, strlen(s)); }

static void test_valid_forms(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("plain ascii"));
    assert_true(valid("\xc2\x80"));                 /* U+0080, the first 2-byte */
    assert_true(valid("\xdf\xbf"));                 /* U+07FF */
    assert_true(valid("\xe0\xa0\x80"));             /* U+0800, the first 3-byte */
    assert_true(valid("\xed\x9f\xbf"));             /* U+D7FF, before the surrogates */
    assert_true(valid("\xee\x80\x80"));             /* U+E000, after them */
    assert_true(valid("\xef\xbf\xbf"));             /* U+FFFF */
    assert_true(valid("\xf0\x90\x80\x80"));         /* U+10000 */
    assert_true(valid("\xf4\x8f\xbf\xbf"));         /* U+10FFFF, the last */
    assert_true(valid("caf\xc3\xa9 \xf0\x9f\x93\x9a"));
    assert_true(cc_utf8_valid("a\0b", 3));          /* NUL is a code point */
}

static void test_invalid_forms(void **state)
{
    (void)state;
    const char *bad[] = {
        "\x80", "\xbf",                             /* lone continuation bytes */
        "\xc0\xaf", "\xc1\xbf",                     /* overlong 2-byte */
        "\xe0\x80\xaf", "\xe0\x9f\xbf",             /* overlong 3-byte */
        "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",     /* overlong 4-byte */
        "\xed\xa0\x80", "\xed\xbf\xbf",             /* surrogates */
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",     /* past U+10FFFF */
        "\xf8\x88\x80\x80\x80", "\xff", "\xfe",
        "\xc3", "\xe2\x82", "\xf0\x9f\x93",         /* cut short */
        "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x9a",  /* a bad continuation */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (valid(bad[i]))
            fail_msg("bad sequence %zu accepted", i);
    /* A valid prefix does not make a cut tail valid. */
    assert_false(cc_utf8_valid("ok\xe2\x82\xac", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_forms),
        cmocka_unit_test(test_invalid_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
