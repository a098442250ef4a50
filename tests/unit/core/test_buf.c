/* cc_buf is what bounds every string built from input: the limit must hold
 * exactly, a refused append must change nothing, and the contents must
 * always be a C string. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static void test_empty_buffer(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 100);
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_string_equal(cc_buf_str(&b), "");
    /* An empty append still yields a valid C string. */
    assert_int_equal(cc_buf_add(&b, "", 0), CC_OK);
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, "");
    cc_buf_release(&b);
    assert_null(b.ptr);
    cc_buf_release(NULL);
}

static void test_append_and_nul_termination(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 1000);
    const char raw[] = {'a', 'b', 'c', 'X'};
    assert_int_equal(cc_buf_add(&b, raw, 3), CC_OK);   /* no NUL in the input */
    assert_int_equal(b.len, 3);
    assert_int_equal(b.ptr[3], '\0');
    assert_string_equal(cc_buf_str(&b), "abc");
    assert_int_equal(cc_buf_addch(&b, '-'), CC_OK);
    assert_int_equal(cc_buf_addstr(&b, "def"), CC_OK);
    assert_string_equal(cc_buf_str(&b), "abc-def");
    assert_int_equal(b.len, 7);
    assert_true(b.len < b.cap);
    /* Grow well past the first allocation. */
    for (int i = 0; i < 100; i++)
        assert_int_equal(cc_buf_addch(&b, (char)('0' + i % 10)), CC_OK);
    assert_int_equal(b.len, 107);
    assert_int_equal(strlen(b.ptr), 107);
    assert_memory_equal(b.ptr, "abc-def0123456789", 17);
    assert_int_equal(b.ptr[b.len], '\0');
    cc_buf_release(&b);
}

static void test_limit_is_exact_and_refusal_changes_nothing(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 10);
    assert_int_equal(cc_buf_addstr(&b, "12345"), CC_OK);
    char *before = b.ptr;
    size_t cap = b.cap;
    assert_int_equal(cc_buf_addstr(&b, "678901"), CC_ELIMIT);   /* would be 11 */
    assert_int_equal(b.len, 5);
    assert_ptr_equal(b.ptr, before);
    assert_int_equal(b.cap, cap);
    assert_string_equal(cc_buf_str(&b), "12345");
    assert_int_equal(cc_buf_addf(&b, "%d", 123456), CC_ELIMIT);
    assert_string_equal(cc_buf_str(&b), "12345");
    assert_int_equal(cc_buf_addstr(&b, "67890"), CC_OK);        /* exactly 10 */
    assert_string_equal(cc_buf_str(&b), "1234567890");
    assert_int_equal(cc_buf_addch(&b, 'x'), CC_ELIMIT);
    assert_int_equal(cc_buf_add(&b, "", 0), CC_OK);             /* nothing more */
    assert_int_equal(b.len, 10);
    assert_string_equal(cc_buf_str(&b), "1234567890");
    cc_buf_release(&b);
}

static void test_limit_zero(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 0);
    assert_int_equal(cc_buf_addch(&b, 'a'), CC_ELIMIT);
    assert_int_equal(cc_buf_addf(&b, "%s", "a"), CC_ELIMIT);
    assert_string_equal(cc_buf_str(&b), "");
    assert_int_equal(cc_buf_addf(&b, "%s", ""), CC_OK);
    assert_string_equal(cc_buf_str(&b), "");
    cc_buf_release(&b);
}

static void test_allocation_stays_near_limit(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(cc_buf_addch(&b, 'a'), CC_OK);
    assert_int_equal(cc_buf_addch(&b, 'a'), CC_ELIMIT);
    assert_true(b.cap <= 101);   /* content plus NUL, never more */
    cc_buf_release(&b);
}

static void test_huge_append_is_refused(void **state)
{
    (void)state;
    /* An "unlimited" buffer must still refuse lengths whose size + NUL
     * overflows size_t instead of wrapping and writing out of bounds. */
    struct cc_buf b;
    cc_buf_init(&b, SIZE_MAX);
    assert_int_equal(cc_buf_addstr(&b, "x"), CC_OK);
    assert_int_equal(cc_buf_add(&b, "y", SIZE_MAX), CC_ELIMIT);
    assert_int_equal(cc_buf_add(&b, "y", SIZE_MAX - 1), CC_ELIMIT);
    assert_string_equal(cc_buf_str(&b), "x");
    cc_buf_release(&b);

    cc_buf_init(&b, 50);
    assert_int_equal(cc_buf_add(&b, "y", SIZE_MAX), CC_ELIMIT);
    assert_null(b.ptr);
    cc_buf_release(&b);
}

static void test_addf(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 4096);
    assert_int_equal(cc_buf_addf(&b, "%s=%d", "port", 8080), CC_OK);
    assert_int_equal(cc_buf_addf(&b, ";%05.1f;%c", 3.14159, 'z'), CC_OK);
    assert_string_equal(cc_buf_str(&b), "port=8080;003.1;z");
    assert_int_equal(b.len, strlen("port=8080;003.1;z"));
    /* Longer than the first allocation in one go. */
    assert_int_equal(cc_buf_addf(&b, "%300s", "end"), CC_OK);
    assert_int_equal(b.len, 17 + 300);
    assert_string_equal(b.ptr + b.len - 3, "end");
    assert_int_equal(b.ptr[b.len], '\0');
    cc_buf_release(&b);
}

static void test_take(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 100);
    cc_buf_addstr(&b, "hello");
    char *s = cc_buf_take(&b);
    assert_string_equal(s, "hello");
    assert_null(b.ptr);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.limit, 100);   /* still usable with the same limit */
    assert_int_equal(cc_buf_addstr(&b, "again"), CC_OK);
    assert_string_equal(cc_buf_str(&b), "again");
    assert_true(b.ptr != s);
    free(s);
    cc_buf_release(&b);

    /* Nothing appended: an empty heap string, not NULL. */
    cc_buf_init(&b, 100);
    s = cc_buf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_reset_keeps_allocation(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 100);
    cc_buf_reset(&b);   /* before any allocation */
    assert_string_equal(cc_buf_str(&b), "");
    cc_buf_addstr(&b, "some text");
    char *p = b.ptr;
    size_t cap = b.cap;
    cc_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(cc_buf_str(&b), "");
    assert_ptr_equal(b.ptr, p);
    assert_int_equal(b.cap, cap);
    cc_buf_addstr(&b, "new");
    assert_string_equal(cc_buf_str(&b), "new");
    cc_buf_release(&b);
}

static void test_strlcpy(void **state)
{
    (void)state;
    char dst[8];
    assert_int_equal(cc_strlcpy(dst, "abc", sizeof(dst)), CC_OK);
    assert_string_equal(dst, "abc");
    assert_int_equal(cc_strlcpy(dst, "1234567", sizeof(dst)), CC_OK);   /* fits exactly */
    assert_string_equal(dst, "1234567");
    assert_int_equal(cc_strlcpy(dst, "12345678", sizeof(dst)), CC_ELIMIT);
    assert_string_equal(dst, "1234567");
    assert_int_equal(cc_strlcpy(dst, "a much longer string", sizeof(dst)), CC_ELIMIT);
    assert_string_equal(dst, "a much ");
    assert_int_equal(cc_strlcpy(dst, "", sizeof(dst)), CC_OK);
    assert_string_equal(dst, "");
    memcpy(dst, "keepme!", 8);
    assert_int_equal(cc_strlcpy(dst, "x", 0), CC_ELIMIT);   /* no room at all */
    assert_string_equal(dst, "keepme!");
    assert_int_equal(cc_strlcpy(dst, "x", 1), CC_ELIMIT);
    assert_string_equal(dst, "");
}

static void test_xstrndup(void **state)
{
    (void)state;
    char *s = cc_xstrndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
    s = cc_xstrndup("ab", 10);   /* n past the end stops at the NUL */
    assert_string_equal(s, "ab");
    free(s);
    s = cc_xstrdup("");
    assert_string_equal(s, "");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_buffer),
        cmocka_unit_test(test_append_and_nul_termination),
        cmocka_unit_test(test_limit_is_exact_and_refusal_changes_nothing),
        cmocka_unit_test(test_limit_zero),
        cmocka_unit_test(test_allocation_stays_near_limit),
        cmocka_unit_test(test_huge_append_is_refused),
        cmocka_unit_test(test_addf),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_reset_keeps_allocation),
        cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_xstrndup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
