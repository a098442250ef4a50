/* Per-host politeness of the fetcher on a fake clock: requests in flight
 * per host, the delay between starts, Retry-After blocks (waited out up to
 * the cap, refused beyond it), the wait deadline and slot recycling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "fakes/fake_clock.h"
#include "ingest/fetch_int.h"

#define REAL_TIMEOUT_MS 10000
#define FAR (1LL << 40)

struct entrant {
    struct ingest__hosts *h;
    const char *host;
    int64_t delay, deadline;
    pthread_t t;
    atomic_bool done;
    cc_err rc;
    char err[256];
};

static void *enter_thread(void *arg)
{
    struct entrant *e = arg;
    e->rc = ingest__hosts_enter(e->h, e->host, e->delay, e->deadline, e->err, sizeof(e->err));
    atomic_store(&e->done, true);
    return NULL;
}

static void start(struct entrant *e, struct ingest__hosts *h, const char *host, int64_t delay,
                  int64_t deadline)
{
    *e = (struct entrant){.h = h, .host = host, .delay = delay, .deadline = deadline};
    assert_int_equal(pthread_create(&e->t, NULL, enter_thread, e), 0);
}

static void finish(struct entrant *e)
{
    assert_int_equal(pthread_join(e->t, NULL), 0);
}

/* A fake clock at wall time wall_ms and a table of nslots hosts, per_host
 * requests in flight each, Retry-After waited out up to 10 minutes. */
static void setup(struct fake_clock *fc, struct ingest__hosts *h, int64_t wall_ms,
                  size_t nslots, unsigned per_host)
{
    fake_clock_init(fc, wall_ms);
    assert_int_equal(ingest__hosts_init(h, &fc->base, nslots, per_host, 600000), CC_OK);
}

static cc_err enter_now(struct ingest__hosts *h, const char *host, char *err)
{
    return ingest__hosts_enter(h, host, 0, FAR, err, 256);
}

static void test_concurrency_per_host(void **state)
{
    (void)state;
    struct fake_clock fc;
    struct ingest__hosts h;
    char err[256] = "";
    setup(&fc, &h, 1000000, 8, 2);
    assert_int_equal(enter_now(&h, "a.example", err), CC_OK);
    assert_int_equal(enter_now(&h, "a.example", err), CC_OK);
    assert_int_equal(enter_now(&h, "b.example", err), CC_OK); /* another host is free */
    struct entrant third;
    start(&third, &h, "a.example", 0, FAR);
    assert_true(fake_clock_settle(&fc, 1, REAL_TIMEOUT_MS));
    assert_false(atomic_load(&third.done));
    ingest__hosts_leave(&h, "a.example", -1);
    finish(&third);
    assert_int_equal(third.rc, CC_OK);
    ingest__hosts_leave(&h, "a.example", -1);
    ingest__hosts_leave(&h, "a.example", -1);
    ingest__hosts_leave(&h, "b.example", -1);
    ingest__hosts_release(&h);
}

static void test_min_delay_between_starts(void **state)
{
    (void)state;
    struct fake_clock fc;
    struct ingest__hosts h;
    char err[256] = "";
    setup(&fc, &h, 1000000, 8, 4);
    assert_int_equal(ingest__hosts_enter(&h, "a.example", 1500, FAR, err, sizeof(err)), CC_OK);
    ingest__hosts_leave(&h, "a.example", -1);
    int64_t t0 = fake_clock_mono(&fc);
    struct entrant next;
    start(&next, &h, "a.example", 1500, FAR);
    assert_true(fake_clock_settle(&fc, 1, REAL_TIMEOUT_MS));
    assert_int_equal(fake_clock_advance_next(&fc, FAR), 1500);
    finish(&next);
    assert_int_equal(next.rc, CC_OK);
    assert_int_equal(fake_clock_mono(&fc) - t0, 1500);
    ingest__hosts_leave(&h, "a.example", -1);
    ingest__hosts_release(&h);
}

static void test_retry_after_waited_out_within_the_cap(void **state)
{
    (void)state;
    struct fake_clock fc;
    struct ingest__hosts h;
    char err[256] = "";
    setup(&fc, &h, 1000000, 8, 2);
    assert_int_equal(enter_now(&h, "a.example", err), CC_OK);
    ingest__hosts_leave(&h, "a.example", 5000); /* a 429 with Retry-After: 5 */
    assert_int_equal(enter_now(&h, "b.example", err), CC_OK); /* others unaffected */
    struct entrant next;
    start(&next, &h, "a.example", 0, FAR);
    assert_true(fake_clock_settle(&fc, 1, REAL_TIMEOUT_MS));
    assert_int_equal(fake_clock_advance_next(&fc, FAR), 5000);
    finish(&next);
    assert_int_equal(next.rc, CC_OK);
    ingest__hosts_leave(&h, "a.example", -1);
    ingest__hosts_leave(&h, "b.example", -1);
    ingest__hosts_release(&h);
}

static void test_retry_after_beyond_the_cap_is_refused(void **state)
{
    (void)state;
    struct fake_clock fc;
    struct ingest__hosts h;
    char err[256] = "";
    fake_clock_init(&fc, 1800000000000LL); /* 2027-01-15T08:00:00Z */
    assert_int_equal(ingest__hosts_init(&h, &fc.base, 8, 2, 600000), CC_OK);
    assert_int_equal(enter_now(&h, "a.example", err), CC_OK);
    ingest__hosts_leave(&h, "a.example", 3600000);
    assert_int_equal(enter_now(&h, "a.example", err), CC_EUPSTREAM);
    assert_non_null(strstr(err, "a.example"));
    assert_non_null(strstr(err, "2027-01-15T09:00:00")); /* when to come back */
    assert_non_null(strstr(err, "fetch.retry_after_max"));
    /* once the hour has passed the host is open again */
    fake_clock_advance(&fc, 3600000);
    assert_int_equal(enter_now(&h, "a.example", err), CC_OK);
    ingest__hosts_leave(&h, "a.example", -1);
    ingest__hosts_release(&h);
}

static void test_wait_deadline(void **state)
{
    (void)state;
    struct fake_clock fc;
    struct ingest__hosts h;
    char err[256] = "";
    setup(&fc, &h, 1000000, 8, 1);
    assert_int_equal(enter_now(&h, "a.example", err), CC_OK);
    struct entrant late;
    start(&late, &h, "a.example", 0, fake_clock_mono(&fc) + 250);
    assert_true(fake_clock_settle(&fc, 1, REAL_TIMEOUT_MS));
    assert_int_equal(fake_clock_advance_next(&fc, FAR), 250);
    finish(&late);
    assert_int_equal(late.rc, CC_EUPSTREAM);
    assert_non_null(strstr(late.err, "fetch.per_host_concurrency"));
    ingest__hosts_leave(&h, "a.example", -1);
    ingest__hosts_release(&h);
}

static void test_slots_are_recycled(void **state)
{
    (void)state;
    struct fake_clock fc;
    struct ingest__hosts h;
    char err[256] = "";
    setup(&fc, &h, 1000000, 2, 1);
    /* idle hosts give their slots to new ones */
    const char *hosts[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(enter_now(&h, hosts[i], err), CC_OK);
        ingest__hosts_leave(&h, hosts[i], -1);
    }
    /* a blocked host keeps its slot: its block survives other hosts' traffic */
    assert_int_equal(enter_now(&h, "blocked", err), CC_OK);
    ingest__hosts_leave(&h, "blocked", 3600000);
    assert_int_equal(enter_now(&h, "x", err), CC_OK);
    ingest__hosts_leave(&h, "x", -1);
    assert_int_equal(enter_now(&h, "y", err), CC_OK);
    ingest__hosts_leave(&h, "y", -1);
    assert_int_equal(enter_now(&h, "blocked", err), CC_EUPSTREAM);
    /* every slot busy: a new host waits for one to free */
    assert_int_equal(enter_now(&h, "x", err), CC_OK);
    struct entrant z;
    start(&z, &h, "z", 0, FAR);
    assert_true(fake_clock_settle(&fc, 1, REAL_TIMEOUT_MS));
    assert_false(atomic_load(&z.done));
    ingest__hosts_leave(&h, "x", -1);
    finish(&z);
    assert_int_equal(z.rc, CC_OK);
    ingest__hosts_leave(&h, "z", -1);
    ingest__hosts_release(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrency_per_host),
        cmocka_unit_test(test_min_delay_between_starts),
        cmocka_unit_test(test_retry_after_waited_out_within_the_cap),
        cmocka_unit_test(test_retry_after_beyond_the_cap_is_refused),
        cmocka_unit_test(test_wait_deadline),
        cmocka_unit_test(test_slots_are_recycled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
