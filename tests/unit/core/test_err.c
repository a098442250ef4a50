/* Every error has a stable name and a message, and a bad value cannot crash
 * or print NULL: API error bodies and logs depend on both. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/err.h"

static void test_every_value_has_name_and_message(void **state)
{
    (void)state;
    assert_int_equal(CC_OK, 0);
    for (int i = 0; i < CC_ERR__COUNT; i++) {
        const char *name = cc_err_name((cc_err)i);
        const char *msg = cc_err_str((cc_err)i);
        assert_non_null(name);
        assert_non_null(msg);
        assert_true(strlen(name) > 0);
        assert_true(strlen(msg) > 0);
        assert_string_not_equal(name, "EUNKNOWN");
        assert_string_not_equal(msg, "unknown error");
        /* Names are the API's `code`: OK or E followed by capitals. */
        if (i != CC_OK)
            assert_int_equal(name[0], 'E');
        for (const char *p = name; *p; p++)
            assert_true(*p >= 'A' && *p <= 'Z');
    }
}

static void test_names_and_messages_are_unique(void **state)
{
    (void)state;
    for (int i = 0; i < CC_ERR__COUNT; i++)
        for (int j = i + 1; j < CC_ERR__COUNT; j++) {
            assert_string_not_equal(cc_err_name((cc_err)i), cc_err_name((cc_err)j));
            assert_string_not_equal(cc_err_str((cc_err)i), cc_err_str((cc_err)j));
        }
}

static void test_known_values(void **state)
{
    (void)state;
    assert_string_equal(cc_err_name(CC_OK), "OK");
    assert_string_equal(cc_err_str(CC_OK), "ok");
    assert_string_equal(cc_err_name(CC_ETIMEOUT), "ETIMEOUT");
    assert_string_equal(cc_err_str(CC_ETIMEOUT), "timed out");
    assert_string_equal(cc_err_name(CC_ELIMIT), "ELIMIT");
    assert_string_equal(cc_err_str(CC_ENOMEM), "out of memory");
    assert_string_equal(cc_err_name(CC_ESTATE), "ESTATE");
}

static void test_out_of_range(void **state)
{
    (void)state;
    cc_err bad[] = {CC_ERR__COUNT, (cc_err)(CC_ERR__COUNT + 100), (cc_err)-1,
                    (cc_err)0x7fffffff};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_string_equal(cc_err_str(bad[i]), "unknown error");
        assert_string_equal(cc_err_name(bad[i]), "EUNKNOWN");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_value_has_name_and_message),
        cmocka_unit_test(test_names_and_messages_are_unique),
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
