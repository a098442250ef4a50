/* Child environments keep only the names asked for (issue 13: secrets in
 * child processes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/env.h"

static void test_allowlist(void **state)
{
    (void)state;
    char *envp[] = {"PATH=/usr/bin", "CC_AUTH_ADMIN_TOKEN=secret", "PATHX=no", "LANG=C.UTF-8",
                    "PAT=no", "CC_STORE_POSTGRES_DSN=postgres://u:p@h/db", "LANG", NULL};
    static const char *const keep[] = {"PATH", "LANG", NULL};
    char *out[8];
    assert_int_equal(cc_env_allow(envp, keep, out, 8), 2);
    assert_string_equal(out[0], "PATH=/usr/bin");
    assert_string_equal(out[1], "LANG=C.UTF-8");
    assert_null(out[2]);
    /* bounded: room for one entry and the NULL */
    assert_int_equal(cc_env_allow(envp, keep, out, 2), 1);
    assert_null(out[1]);
    assert_int_equal(cc_env_allow(NULL, keep, out, 2), 0);
    assert_null(out[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
