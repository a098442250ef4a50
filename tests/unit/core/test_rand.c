/* Tokens and session ids come from cc_random_bytes, backoff jitter from
 * cc_jitter_u64: the first must fill whatever it is asked to, the second
 * must stay in range and be spread out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"

static void test_random_bytes_fill(void **state)
{
    (void)state;
    unsigned char a[64], b[64], zero[64] = {0};
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(cc_random_bytes(a, sizeof(a)), CC_OK);
    assert_int_equal(cc_random_bytes(b, sizeof(b)), CC_OK);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(cc_random_bytes(a, 0), CC_OK);
}

static void test_random_bytes_large(void **state)
{
    (void)state;
    /* Big reads may come back short from the kernel; all of it is filled. */
    size_t n = 4u << 20;
    unsigned char *p = calloc(1, n);
    assert_non_null(p);
    assert_int_equal(cc_random_bytes(p, n), CC_OK);
    /* A zero run of 64 bytes anywhere has probability ~2^-500. */
    unsigned char zero[64] = {0};
    for (size_t off = 0; off + 64 <= n; off += 64)
        assert_memory_not_equal(p + off, zero, 64);
    free(p);
}

static void test_jitter_bounds(void **state)
{
    (void)state;
    assert_int_equal(cc_jitter_u64(0), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cc_jitter_u64(1), 0);
    for (int i = 0; i < 10000; i++) {
        assert_true(cc_jitter_u64(7) < 7);
        assert_true(cc_jitter_u64(1000) < 1000);
        uint64_t big = (UINT64_MAX / 3) * 2;   /* rejection sampling path */
        assert_true(cc_jitter_u64(big) < big);
    }
    (void)cc_jitter_u64(UINT64_MAX);
}

static void test_jitter_is_spread(void **state)
{
    (void)state;
    enum { BUCKETS = 10, DRAWS = 100000 };
    unsigned count[BUCKETS] = {0};
    for (int i = 0; i < DRAWS; i++)
        count[cc_jitter_u64(BUCKETS)]++;
    /* Expected 10000 each; 9000..11000 is > 10 standard deviations. */
    for (int i = 0; i < BUCKETS; i++) {
        assert_true(count[i] > 9000);
        assert_true(count[i] < 11000);
    }
    /* High bits are random too, not only the low ones. */
    uint64_t seen_or = 0, seen_and = UINT64_MAX;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = cc_jitter_u64(UINT64_MAX);
        seen_or |= v;
        seen_and &= v;
    }
    assert_true(seen_or >> 62 == 3);
    assert_true(seen_and == 0);
}

static void *draw(void *arg)
{
    uint64_t *out = arg;
    for (int i = 0; i < 4; i++)
        out[i] = cc_jitter_u64(UINT64_MAX);
    return NULL;
}

static void test_threads_get_different_sequences(void **state)
{
    (void)state;
    uint64_t seq[2][4];
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, draw, seq[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_memory_not_equal(seq[0], seq[1], sizeof(seq[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bytes_fill),
        cmocka_unit_test(test_random_bytes_large),
        cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_jitter_is_spread),
        cmocka_unit_test(test_threads_get_different_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
