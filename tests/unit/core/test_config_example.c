/* The example configuration is generated from the key table: it must list
 * every key with exactly the default the binary uses, load as a valid
 * (all-defaults) file, and the checked-in deploy/commandcenter.example.yml
 * must be what the binary prints (CC_UPDATE_DOCS=1 rewrites it). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/diag.h"

static void test_every_default_is_shown_commented(void **state)
{
    (void)state;
    struct cc_config c;
    struct cc_buf ex, dump;
    cc_buf_init(&ex, 1 << 20);
    cc_buf_init(&dump, 1 << 20);
    cc_config_init(&c);
    assert_int_equal(cc_config_example(&ex), CC_OK);
    assert_int_equal(cc_config_dump(&c, &dump), CC_OK);
    /* Each "leaf: value" line of the dump appears as "# leaf: value" at the
     * same indent; each section line appears as is. */
    int values = 0;
    for (const char *p = cc_buf_str(&dump); *p;) {
        size_t n = strcspn(p, "\n");
        size_t ind = strspn(p, " ");
        char want[512];
        if (p[n - 1] == ':')
            snprintf(want, sizeof(want), "\n%.*s\n", (int)n, p);
        else
            snprintf(want, sizeof(want), "\n%.*s# %.*s\n", (int)ind, p, (int)(n - ind), p + ind);
        if (!strstr(cc_buf_str(&ex), want))
            fail_msg("the example lacks %s", want);
        values += p[n - 1] != ':';
        p += n + (p[n] == '\n');
    }
    assert_true(values > 60);
    /* And it is a valid file meaning "all defaults". */
    struct cc_diag d = {0};
    assert_int_equal(cc_config_load_string(&c, ex.ptr, ex.len, "example", &d), CC_OK);
    cc_config_release(&c);
    cc_buf_release(&ex);
    cc_buf_release(&dump);
}

static void test_lines_are_short_and_checked_in_copy_matches(void **state)
{
    (void)state;
    struct cc_buf ex;
    cc_buf_init(&ex, 1 << 20);
    assert_int_equal(cc_config_example(&ex), CC_OK);
    for (const char *p = cc_buf_str(&ex); *p;) {
        size_t n = strcspn(p, "\n");
        /* one unbreakable word may run over; nothing here is that long */
        if (n > 78)
            fail_msg("line longer than 78 columns: %.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
    const char *src = getenv("CC_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof(path), "%s/deploy/commandcenter.example.yml", src);
    const char *update = getenv("CC_UPDATE_DOCS");
    if (update && strcmp(update, "1") == 0) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(ex.ptr, 1, ex.len, f), ex.len);
        assert_int_equal(fclose(f), 0);
    }
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char have[1 << 20];
    size_t len = fread(have, 1, sizeof(have) - 1, f);
    fclose(f);
    have[len] = '\0';
    if (len != ex.len || memcmp(have, ex.ptr, len) != 0)
        fail_msg("%s is out of date: run this test with CC_UPDATE_DOCS=1", path);
    cc_buf_release(&ex);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_default_is_shown_commented),
        cmocka_unit_test(test_lines_are_short_and_checked_in_copy_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
