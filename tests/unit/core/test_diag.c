/* Diagnostics are what a user reads when the config is wrong: the location
 * parts must appear only when known, and long text must be cut, not overrun. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/diag.h"

static void test_format_variants(void **state)
{
    (void)state;
    struct cc_diag d;
    char out[128];
    cc_diag_set(&d, "cc.yml", 12, 5, "unknown key '%s'", "prot");
    cc_diag_format(&d, out, sizeof(out));
    assert_string_equal(out, "cc.yml:12:5: unknown key 'prot'");
    cc_diag_set(&d, "cc.yml", 12, 0, "bad");
    cc_diag_format(&d, out, sizeof(out));
    assert_string_equal(out, "cc.yml:12: bad");
    cc_diag_set(&d, "cc.yml", 0, 0, "bad");
    cc_diag_format(&d, out, sizeof(out));
    assert_string_equal(out, "cc.yml: bad");
    cc_diag_set(&d, NULL, 3, 4, "no file");
    cc_diag_format(&d, out, sizeof(out));
    assert_string_equal(out, "no file");
    cc_diag_set(NULL, "x", 1, 1, "ignored");   /* NULL-safe */
}

static void test_long_text_is_truncated(void **state)
{
    (void)state;
    struct cc_diag d;
    char file[400], msg[1000], out[32];
    memset(file, 'f', sizeof(file) - 1);
    file[sizeof(file) - 1] = '\0';
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    cc_diag_set(&d, file, 1, 2, "%s", msg);
    assert_int_equal(strlen(d.file), sizeof(d.file) - 1);
    assert_int_equal(strlen(d.msg), sizeof(d.msg) - 1);
    cc_diag_format(&d, out, sizeof(out));
    assert_int_equal(strlen(out), sizeof(out) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_variants),
        cmocka_unit_test(test_long_text_is_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
