/*
 * test_alerts_sqlite.c - the alerts Alertmanager reported, through the
 * public store interface: firing -> resolved -> firing again, late
 * notifications ignored, listing by state, validation, and pruning by age
 * and by the row cap. test_alerts_pg.c runs the same cases on PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

#include "store_fixture.h"

static struct store_alert alert(const char *fp, const char *status, int64_t starts_ms,
                                int64_t now_ms)
{
    return (struct store_alert){
        .fingerprint = fp, .status = status, .name = "CCServiceDown",
        .severity = "critical",
        .labels_json = "{\"alertname\":\"CCServiceDown\",\"service\":\"web\"}",
        .annotations_json = "{\"summary\":\"web is down\"}",
        .generator_url = "http://127.0.0.1:9090/graph", .starts_ms = starts_ms,
        .ends_ms = strcmp(status, "resolved") == 0 ? now_ms : 0, .created_ms = now_ms,
        .updated_ms = now_ms};
}

static enum store_alert_change put(struct fixture *f, const struct store_alert *a)
{
    enum store_alert_change c = (enum store_alert_change)-1;
    assert_int_equal(f->s->ops->alert_upsert(f->s, a, &c), CC_OK);
    return c;
}

struct seen {
    int n;
    char fp[8][65];
    char status[8][16];
    int64_t starts[8], ends[8], created[8], updated[8];
    char severity[8][16];
};

static void keep(void *arg, const struct store_alert *a)
{
    struct seen *s = arg;
    if (s->n >= 8)
        return;
    snprintf(s->fp[s->n], sizeof(s->fp[0]), "%s", a->fingerprint);
    snprintf(s->status[s->n], sizeof(s->status[0]), "%s", a->status);
    snprintf(s->severity[s->n], sizeof(s->severity[0]), "%s", a->severity ? a->severity : "");
    s->starts[s->n] = a->starts_ms;
    s->ends[s->n] = a->ends_ms;
    s->created[s->n] = a->created_ms;
    s->updated[s->n] = a->updated_ms;
    s->n++;
}

static struct seen list(struct fixture *f, const char *status)
{
    struct seen s = {0};
    assert_int_equal(f->s->ops->alert_list(f->s, status, 100, keep, &s), CC_OK);
    return s;
}

static void test_fire_resolve_fire_again(void **state)
{
    struct fixture *f = *state;
    struct store_alert a = alert("a1b2c3d4e5f60718", "firing", 1000, 2000);
    assert_int_equal(put(f, &a), STORE_ALERT_NEW);
    a.updated_ms = 3000;
    assert_int_equal(put(f, &a), STORE_ALERT_SAME);   /* Alertmanager's repeat */
    struct seen s = list(f, "firing");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.created[0], 2000);
    assert_int_equal(s.updated[0], 3000);
    assert_int_equal(s.ends[0], 0);

    a = alert("a1b2c3d4e5f60718", "resolved", 1000, 4000);
    assert_int_equal(put(f, &a), STORE_ALERT_RESOLVED);
    assert_int_equal(list(f, "firing").n, 0);
    s = list(f, "resolved");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ends[0], 4000);
    assert_int_equal(s.created[0], 2000);              /* first seen is kept */

    /* The same rule fires again later: a new occurrence, a new startsAt. */
    a = alert("a1b2c3d4e5f60718", "firing", 5000, 6000);
    assert_int_equal(put(f, &a), STORE_ALERT_FIRED);
    s = list(f, NULL);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.status[0], "firing");
    assert_int_equal(s.starts[0], 5000);
    assert_int_equal(s.ends[0], 0);
}

static void test_late_notifications_are_stale(void **state)
{
    struct fixture *f = *state;
    struct store_alert a = alert("00ff00ff00ff00ff", "firing", 1000, 2000);
    put(f, &a);
    a = alert("00ff00ff00ff00ff", "resolved", 1000, 3000);
    assert_int_equal(put(f, &a), STORE_ALERT_RESOLVED);
    /* A firing repeat of that occurrence, delivered after its resolution. */
    a = alert("00ff00ff00ff00ff", "firing", 1000, 4000);
    assert_int_equal(put(f, &a), STORE_ALERT_STALE);
    struct seen s = list(f, NULL);
    assert_string_equal(s.status[0], "resolved");
    assert_int_equal(s.updated[0], 3000);
    /* A new occurrence, then a notification about an older one. */
    a = alert("00ff00ff00ff00ff", "firing", 9000, 9500);
    assert_int_equal(put(f, &a), STORE_ALERT_FIRED);
    a = alert("00ff00ff00ff00ff", "resolved", 1000, 9900);
    assert_int_equal(put(f, &a), STORE_ALERT_STALE);
    s = list(f, NULL);
    assert_string_equal(s.status[0], "firing");
    assert_int_equal(s.starts[0], 9000);
}

static void test_list_by_state_newest_first(void **state)
{
    struct fixture *f = *state;
    struct store_alert a = alert("aaaa", "firing", 1, 100);
    put(f, &a);
    a = alert("bbbb", "firing", 1, 300);
    a.severity = NULL;
    put(f, &a);
    a = alert("cccc", "resolved", 1, 200);
    put(f, &a);
    struct seen s = list(f, NULL);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.fp[0], "bbbb");
    assert_string_equal(s.fp[1], "cccc");
    assert_string_equal(s.fp[2], "aaaa");
    assert_string_equal(s.severity[0], "");            /* NULL stays NULL */
    s = list(f, "firing");
    assert_int_equal(s.n, 2);
    s = list(f, "resolved");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.fp[0], "cccc");
    struct seen one = {0};
    assert_int_equal(f->s->ops->alert_list(f->s, NULL, 1, keep, &one), CC_OK);
    assert_int_equal(one.n, 1);
}

static void test_validation(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    enum store_alert_change c;
    struct store_alert a = alert("abc", "firing", 1, 1);
    a.fingerprint = "not hex!";
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    a = alert("abc", "pending", 1, 1);
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    a = alert("abc", "firing", 1, 1);
    a.labels_json = "[1]";
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    a = alert("abc", "firing", 1, 1);
    a.annotations_json = "{";
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    a = alert("abc", "firing", -1, 1);
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    a = alert("abc", "firing", 1, 1);
    a.name = "";
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    char longfp[STORE_FINGERPRINT_MAX + 2];
    memset(longfp, 'a', sizeof(longfp) - 1);
    longfp[sizeof(longfp) - 1] = '\0';
    a = alert(longfp, "firing", 1, 1);
    assert_int_equal(s->ops->alert_upsert(s, &a, &c), CC_EINVAL);
    assert_int_equal(s->ops->alert_list(s, "open", 10, keep, &(struct seen){0}), CC_EINVAL);
    assert_int_equal(list(f, NULL).n, 0);
    /* No annotations at all is fine: they read back as {}. */
    a = alert("abc", "firing", 1, 1);
    a.annotations_json = NULL;
    assert_int_equal(put(f, &a), STORE_ALERT_NEW);
}

static void test_prune_by_age_and_cap(void **state)
{
    struct fixture *f = *state;
    char fp[16];
    for (int i = 0; i < 6; i++) {
        snprintf(fp, sizeof(fp), "f%d", i);
        struct store_alert a = alert(fp, i < 3 ? "resolved" : "firing", 1, 1000 + i);
        put(f, &a);
    }
    int64_t deleted = -1;
    /* Resolved before 1002: f0 and f1; firing ones are never aged out. */
    assert_int_equal(f->s->ops->alert_prune(f->s, 1002, 100, &deleted), CC_OK);
    assert_int_equal(deleted, 2);
    assert_int_equal(list(f, NULL).n, 4);
    /* Cap at 2 rows: the two most recently updated stay. */
    assert_int_equal(f->s->ops->alert_prune(f->s, 0, 2, &deleted), CC_OK);
    assert_int_equal(deleted, 2);
    struct seen s = list(f, NULL);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.fp[0], "f5");
    assert_string_equal(s.fp[1], "f4");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_fire_resolve_fire_again),
        T(test_late_notifications_are_stale),
        T(test_list_by_state_newest_first),
        T(test_validation),
        T(test_prune_by_age_and_cap),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
