/* The arena is what caps a hostile request's memory: every pointer must be
 * 16-byte aligned and distinct, and the limit must hold even for sizes that
 * overflow arithmetic. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/arena.h"

static void assert_aligned(const void *p)
{
    assert_int_equal((uintptr_t)p % 16, 0);
}

static void test_alignment(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 256, 1 << 20);
    for (size_t n = 0; n < 100; n++) {
        void *p = cc_arena_alloc(&a, n);
        assert_non_null(p);
        assert_aligned(p);
    }
    assert_aligned(cc_arena_calloc(&a, 3, 7));
    assert_aligned(cc_arena_strdup(&a, "odd"));
    assert_aligned(cc_arena_printf(&a, "%d", 5));
    assert_aligned(cc_arena_alloc(&a, 5000));   /* a block of its own */
    assert_aligned(cc_arena_alloc(&a, 1));
    cc_arena_release(&a);
}

static void test_many_allocations_do_not_overlap(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 128, 16 << 20);
    enum { N = 10000 };
    static unsigned char *ptrs[N];
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + i % 40;
        ptrs[i] = cc_arena_alloc(&a, n);
        assert_non_null(ptrs[i]);
        memset(ptrs[i], (int)(i & 0xff), n);
    }
    for (size_t i = 0; i < N; i++) {
        size_t n = 1 + i % 40;
        for (size_t j = 0; j < n; j++)
            assert_int_equal(ptrs[i][j], i & 0xff);
    }
    assert_true(a.used <= a.limit);
    cc_arena_release(&a);
}

static void test_limit_returns_null(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 512, 4096);
    size_t got = 0;
    for (int i = 0; i < 1000; i++) {
        void *p = cc_arena_alloc(&a, 100);
        if (!p)
            break;
        memset(p, 0xab, 100);   /* ASan catches a block smaller than promised */
        got += 100;
        assert_true(a.used <= a.limit);
    }
    assert_true(got > 0);
    assert_true(got <= 4096);
    assert_null(cc_arena_alloc(&a, 100));
    assert_true(a.used <= a.limit);
    cc_arena_release(&a);

    /* One object larger than the whole limit. */
    cc_arena_init(&a, 512, 4096);
    assert_null(cc_arena_alloc(&a, 4097));
    assert_int_equal(a.used, 0);
    cc_arena_release(&a);
}

static void test_overflowing_sizes_return_null(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 512, 1 << 20);
    /* Rounded up and plus block overhead these wrap around size_t; the
     * arena must refuse them, not hand out a tiny block. */
    assert_null(cc_arena_alloc(&a, SIZE_MAX));
    assert_null(cc_arena_alloc(&a, SIZE_MAX - 16));
    assert_null(cc_arena_alloc(&a, SIZE_MAX - 20));
    assert_null(cc_arena_alloc(&a, SIZE_MAX - 40));
    assert_null(cc_arena_alloc(&a, SIZE_MAX / 2));
    assert_null(cc_arena_calloc(&a, SIZE_MAX / 2, 4));
    assert_true(a.used <= a.limit);
    assert_non_null(cc_arena_alloc(&a, 16));
    cc_arena_release(&a);
}

static void test_calloc_zeroes(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 64, 1 << 16);
    unsigned char *p = cc_arena_alloc(&a, 48);
    memset(p, 0xff, 48);
    cc_arena_release(&a);
    cc_arena_init(&a, 64, 1 << 16);
    uint32_t *z = cc_arena_calloc(&a, 100, sizeof(uint32_t));
    assert_non_null(z);
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    cc_arena_release(&a);
}

static void test_strdup_and_printf(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 64, 1 << 16);
    const char *src = "hello, arena";
    char *s = cc_arena_strdup(&a, src);
    assert_string_equal(s, src);
    assert_true(s != src);
    assert_string_equal(cc_arena_strndup(&a, "abcdef", 2), "ab");
    assert_string_equal(cc_arena_strndup(&a, "ab", 99), "ab");
    assert_string_equal(cc_arena_strdup(&a, ""), "");
    char *f = cc_arena_printf(&a, "%s/%d/%04x", "p", -12, 0xbeef);
    assert_string_equal(f, "p/-12/beef");
    char *big = cc_arena_printf(&a, "%500d", 7);   /* bigger than a block */
    assert_non_null(big);
    assert_int_equal(strlen(big), 500);
    assert_int_equal(big[499], '7');
    assert_string_equal(s, src);   /* earlier strings untouched */
    cc_arena_release(&a);

    cc_arena_init(&a, 64, 256);
    assert_null(cc_arena_printf(&a, "%1000d", 7));
    cc_arena_release(&a);
}

static void test_release_and_reuse(void **state)
{
    (void)state;
    struct cc_arena a;
    cc_arena_init(&a, 128, 2048);
    for (int round = 0; round < 3; round++) {
        int n = 0;
        while (cc_arena_alloc(&a, 64))
            n++;
        assert_true(n > 10);
        assert_true(a.used <= a.limit);
        cc_arena_release(&a);
        assert_null(a.head);
        assert_int_equal(a.used, 0);
        /* Same limit and block size after release. */
        assert_int_equal(a.limit, 2048);
        assert_int_equal(a.block_size, 128);
    }
    char *s = cc_arena_strdup(&a, "reused");
    assert_string_equal(s, "reused");
    cc_arena_release(&a);
    cc_arena_release(&a);   /* twice is fine */
    cc_arena_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment),
        cmocka_unit_test(test_many_allocations_do_not_overlap),
        cmocka_unit_test(test_limit_returns_null),
        cmocka_unit_test(test_overflowing_sizes_return_null),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_strdup_and_printf),
        cmocka_unit_test(test_release_and_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
