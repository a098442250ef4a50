/*
 * test_webhooks_sqlite.c - webhook deliveries in the store (store.h,
 * "webhooks"): a delivery is recorded with its jobs all or nothing, a
 * repeated id is a duplicate that queues nothing, a refused job rolls the
 * delivery back so a retry is new, and old deliveries are pruned.
 * test_webhooks_pg.c runs the same cases on PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/store.h"

#include "store_fixture.h"

static struct store_job run_job(int64_t source_id, const char *dedup)
{
    static const char payload[] = "{\"reason\":\"github push\"}";
    return (struct store_job){.kind = "source.run", .source_id = source_id, .dedup_key = dedup,
                              .payload = payload, .payload_len = sizeof(payload) - 1,
                              .max_attempts = 3, .next_run_ms = 10, .created_ms = 10,
                              .updated_ms = 10};
}

static cc_err deliver(struct fixture *f, const char *provider, const char *id, int64_t at_ms,
                      int64_t prune_before_ms, const struct store_job *jobs, size_t n,
                      unsigned limit, int64_t *ids, bool *dup)
{
    struct store_delivery d = {.provider = provider, .delivery_id = id, .event = "push",
                               .received_ms = at_ms, .prune_before_ms = prune_before_ms};
    bool existing[8];
    return f->s->ops->webhook_delivery(f->s, &d, jobs, n, limit, ids, existing, dup);
}

static void test_new_then_duplicate(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5), b = add_source(f, "b", 5);
    struct store_job jobs[2] = {run_job(a, NULL), run_job(b, NULL)};
    int64_t ids[2] = {0};
    bool dup = true;
    assert_int_equal(deliver(f, "github", "guid-1", 1000, 0, jobs, 2, 0, ids, &dup), CC_OK);
    assert_false(dup);
    assert_true(ids[0] > 0 && ids[1] > ids[0]);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 2);
    assert_int_equal(raw_int(f, "SELECT jobs FROM webhook_deliveries"), 2);

    int64_t again[2] = {0};
    assert_int_equal(deliver(f, "github", "guid-1", 2000, 0, jobs, 2, 0, again, &dup), CC_OK);
    assert_true(dup);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 2);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 1);
    /* the same id from another provider is another delivery; none with no jobs */
    assert_int_equal(deliver(f, "generic", "guid-1", 2000, 0, NULL, 0, 0, NULL, &dup), CC_OK);
    assert_false(dup);
    assert_int_equal(deliver(f, "generic", "guid-1", 2000, 0, NULL, 0, 0, NULL, &dup), CC_OK);
    assert_true(dup);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 2);
}

static void test_refused_job_rolls_back(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5);
    struct store_job one = run_job(a, NULL);
    int64_t id = 0;
    bool dup = false;
    /* fill a's queue (limit 1) */
    assert_int_equal(deliver(f, "github", "g-1", 1000, 0, &one, 1, 1, &id, &dup), CC_OK);
    /* the next delivery finds the queue full: nothing recorded */
    struct store_job two[2] = {run_job(a, NULL), run_job(a, NULL)};
    int64_t ids[2];
    assert_int_equal(deliver(f, "github", "g-2", 1000, 0, two, 2, 1, ids, &dup), CC_ELIMIT);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 1);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 1);
    /* a job of an unknown source: the same */
    struct store_job ghost = run_job(a + 100, NULL);
    assert_int_equal(deliver(f, "github", "g-3", 1000, 0, &ghost, 1, 0, &id, &dup),
                     CC_ENOTFOUND);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 1);
    /* once there is room the retried delivery is new, not a duplicate */
    assert_int_equal(deliver(f, "github", "g-2", 1000, 0, two, 2, 0, ids, &dup), CC_OK);
    assert_false(dup);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 3);
}

static void test_dedup_key_joins_queued_job(void **state)
{
    struct fixture *f = *state;
    int64_t a = add_source(f, "a", 5);
    struct store_job j = run_job(a, "source.run:1");
    int64_t first = 0, second = 0;
    bool dup = true, existing[1] = {false};
    assert_int_equal(deliver(f, "generic", "1:x", 1000, 0, &j, 1, 0, &first, &dup), CC_OK);
    struct store_delivery d = {.provider = "generic", .delivery_id = "1:y",
                               .received_ms = 1000};
    assert_int_equal(f->s->ops->webhook_delivery(f->s, &d, &j, 1, 0, &second, existing, &dup),
                     CC_OK);
    assert_false(dup);
    assert_true(existing[0]);
    assert_int_equal(first, second);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM jobs"), 1);
}

static void test_prune(void **state)
{
    struct fixture *f = *state;
    bool dup;
    char id[32];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "old-%d", i);
        assert_int_equal(deliver(f, "github", id, 1000 + i, 0, NULL, 0, 0, NULL, &dup), CC_OK);
    }
    /* each record deletes at most STORE_DELIVERY_PRUNE_MAX expired ones */
    assert_int_equal(deliver(f, "github", "new-1", 5000, 2000, NULL, 0, 0, NULL, &dup), CC_OK);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"),
                     101 - STORE_DELIVERY_PRUNE_MAX);
    assert_int_equal(deliver(f, "github", "new-2", 5000, 2000, NULL, 0, 0, NULL, &dup), CC_OK);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 2);
    /* a pruned id is new again */
    assert_int_equal(deliver(f, "github", "old-0", 5000, 0, NULL, 0, 0, NULL, &dup), CC_OK);
    assert_false(dup);
    int64_t n = 0;
    assert_int_equal(f->s->ops->webhook_prune(f->s, 5001, &n), CC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 0);
}

static void test_validation(void **state)
{
    struct fixture *f = *state;
    bool dup;
    char long_id[STORE_DELIVERY_ID_MAX + 2];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(deliver(f, "github", "", 1, 0, NULL, 0, 0, NULL, &dup), CC_EINVAL);
    assert_int_equal(deliver(f, "", "x", 1, 0, NULL, 0, 0, NULL, &dup), CC_EINVAL);
    assert_int_equal(deliver(f, "github", long_id, 1, 0, NULL, 0, 0, NULL, &dup), CC_EINVAL);
    long_id[STORE_DELIVERY_ID_MAX] = '\0';
    assert_int_equal(deliver(f, "github", long_id, 1, 0, NULL, 0, 0, NULL, &dup), CC_OK);
    struct store_job bad = run_job(1, NULL);
    bad.kind = "";
    assert_int_equal(deliver(f, "github", "v", 1, 0, &bad, 1, 0, NULL, &dup), CC_EINVAL);
    struct store_delivery d = {.provider = "github", .delivery_id = "v", .received_ms = 1};
    assert_int_equal(f->s->ops->webhook_delivery(f->s, &d, NULL, 0, 0, NULL, NULL, NULL),
                     CC_EINVAL);
    assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM webhook_deliveries"), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_new_then_duplicate),
        T(test_refused_job_rolls_back),
        T(test_dedup_key_joins_queued_job),
        T(test_prune),
        T(test_validation),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
