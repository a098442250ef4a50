/*
 * test_store_search.c - the ranking both backends share (store_search.c):
 * the bounded window gives the top k of the whole window while looking up
 * only the rows that can still reach it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

#define ROWS 200

struct table {
    int priority[ROWS + 1];
    int64_t published[ROWS + 1];
    bool gone[ROWS + 1];               /* deleted meanwhile: CC_ENOTFOUND */
    unsigned lookups;
};

static cc_err meta(void *ctx, int64_t chunk_id, int *out_priority, int64_t *out_published_ms)
{
    struct table *t = ctx;
    t->lookups++;
    if (t->gone[chunk_id])
        return CC_ENOTFOUND;
    *out_priority = t->priority[chunk_id];
    *out_published_ms = t->published[chunk_id];
    return CC_OK;
}

static unsigned rnd(unsigned *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

/* A window best first: relevances with ties, ids ascending within a tie. */
static void make_window(unsigned *seed, int64_t *ids, double *rel, struct table *t,
                        int max_priority)
{
    double r = 50.0;
    for (int i = 0; i < ROWS; i++) {
        if (rnd(seed) % 4)
            r -= (double)(rnd(seed) % 100) / 40.0;
        ids[i] = i + 1;
        rel[i] = r < 0.0 ? 0.0 : r;
        t->priority[i + 1] = 1 + (int)(rnd(seed) % (unsigned)max_priority);
        t->published[i + 1] = (int64_t)(rnd(seed) % 3);
        t->gone[i + 1] = rnd(seed) % 50 == 0;
    }
}

static void test_bounded_equals_full(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int round = 0; round < 400; round++) {
        int64_t ids[ROWS];
        double rel[ROWS];
        struct table t = {0};
        int max_priority = 1 + (int)(rnd(&seed) % 10);
        unsigned k = 1 + rnd(&seed) % 20;
        make_window(&seed, ids, rel, &t, max_priority);

        struct store_window full, bounded;
        store__window_init(&full, k);
        store__window_init(&bounded, k);
        for (int i = 0; i < ROWS; i++) {
            if (!t.gone[ids[i]])
                store__window_add(&full, ids[i], rel[i], t.priority[ids[i]],
                                  t.published[ids[i]]);
        }
        assert_int_equal(store__window_bounded(&bounded, ids, rel, ROWS, k,
                                               store_priority_factor(max_priority), meta, &t),
                         CC_OK);
        store__window_sort(&full);
        store__window_sort(&bounded);
        size_t want = full.n < k ? full.n : k;
        assert_true(bounded.n >= want);
        for (size_t i = 0; i < want; i++) {
            assert_int_equal(bounded.v[i].chunk_id, full.v[i].chunk_id);
            assert_true(bounded.v[i].score == full.v[i].score);
            assert_true(bounded.v[i].relevance == full.v[i].relevance);
        }
        store__window_release(&full);
        store__window_release(&bounded);
    }
}

/* One priority everywhere: the rows after the k-th (and its ties) are
 * never looked up. */
static void test_bounded_stops_early(void **state)
{
    (void)state;
    int64_t ids[ROWS];
    double rel[ROWS];
    struct table t = {0};
    for (int i = 0; i < ROWS; i++) {
        ids[i] = i + 1;
        rel[i] = 100.0 - i;
        t.priority[i + 1] = 5;
    }
    struct store_window w;
    store__window_init(&w, 10);
    assert_int_equal(store__window_bounded(&w, ids, rel, ROWS, 10, store_priority_factor(5),
                                           meta, &t),
                     CC_OK);
    assert_int_equal(t.lookups, 10);
    assert_int_equal(w.n, 10);
    store__window_release(&w);
}

static cc_err meta_fails(void *ctx, int64_t chunk_id, int *out_priority,
                         int64_t *out_published_ms)
{
    (void)ctx;
    (void)chunk_id;
    (void)out_priority;
    (void)out_published_ms;
    return CC_EIO;
}

static void test_bounded_passes_errors(void **state)
{
    (void)state;
    int64_t ids[2] = {1, 2};
    double rel[2] = {2.0, 1.0};
    struct store_window w;
    store__window_init(&w, 10);
    assert_int_equal(store__window_bounded(&w, ids, rel, 2, 10, 2.0, meta_fails, NULL), CC_EIO);
    store__window_release(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_equals_full),
        cmocka_unit_test(test_bounded_stops_early),
        cmocka_unit_test(test_bounded_passes_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
