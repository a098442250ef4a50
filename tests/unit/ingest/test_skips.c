/*
 * test_skips.c - the skip report a folder ingest or scan prints: reasons
 * in a fixed order, extensions with counts when there are several, and a
 * sentence cut safely when the buffer is small.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ingest/skips.h"

static void test_nothing_skipped(void **state)
{
    (void)state;
    struct ingest_skips k = {0};
    char out[64] = "x";
    assert_int_equal(ingest_skips_format(&k, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}

static void test_reasons(void **state)
{
    (void)state;
    struct ingest_skips k = {.too_big = 2};
    char out[256];
    ingest_skips_unsupported(&k, "dir/file.xyz");
    assert_int_equal(ingest_skips_format(&k, out, sizeof(out)), 3);
    assert_string_equal(out, "2 over the size cap, 1 unsupported type (.xyz)");
    ingest_skips_unsupported(&k, "a.xyz");
    ingest_skips_unsupported(&k, "Makefile");
    ingest_skips_unsupported(&k, ".hidden");      /* a leading dot is no extension */
    ingest_skips_unsupported(&k, "x.dir/noext");
    k.not_regular = 1;
    k.excluded = 4;
    assert_int_equal(ingest_skips_format(&k, out, sizeof(out)), 12);
    assert_string_equal(out, "2 over the size cap, 5 unsupported types (2 .xyz, 3 no extension), "
                             "1 not regular file (symlinks are not followed), "
                             "4 excluded by options.exclude");
}

static void test_many_extensions_and_small_buffers(void **state)
{
    (void)state;
    struct ingest_skips k = {0};
    char name[32], out[512];
    for (int i = 0; i < INGEST_SKIP_EXTS + 3; i++) {
        snprintf(name, sizeof(name), "f.e%d", i);
        ingest_skips_unsupported(&k, name);
    }
    ingest_skips_unsupported(&k, "f.averyveryverylongextension");
    assert_int_equal(ingest_skips_format(&k, out, sizeof(out)), INGEST_SKIP_EXTS + 4);
    assert_non_null(strstr(out, "1 .e0"));
    assert_non_null(strstr(out, ", ...)"));
    assert_null(strstr(out, ".e9"));
    for (size_t n = 0; n < 40; n++) {   /* every size: terminated, never past the end */
        char small[40];
        memset(small, 'Z', sizeof(small));
        ingest_skips_format(&k, small, n);
        if (n > 0) {
            assert_true(strlen(small) < n);
            assert_int_equal(strncmp(small, out, strlen(small)), 0);
        }
        for (size_t i = n; i < sizeof(small); i++)
            assert_int_equal(small[i], 'Z');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_skipped),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_many_extensions_and_small_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
