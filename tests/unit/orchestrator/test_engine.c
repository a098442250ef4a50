/*
 * test_engine.c - the engine end to end over the fake driver and a real
 * SQLite store: dependency order gated on health with independent services
 * started together, restarts after a kill and on unhealthy, the breaker,
 * down in reverse order, re-adoption after a daemon restart, a dead engine
 * answered fast, and the JSON views.
 *
 * Time is the fake clock's: the engine's threads wait on it, and the test
 * moves it from one of their deadlines to the next once they have nothing
 * left to do (fake_clock_settle), until what it waits for has happened.
 * Nothing here sleeps; real time is only measured (a dead engine must be
 * answered fast) or bounds a wait that should never run out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ctx.h"
#include "fakes/fake_clock.h"
#include "fakes/fake_driver.h"
#include "observe/metrics.h"
#include "orchestrator/engine.h"
#include "orchestrator/engine_int.h"   /* probes in flight, to know it is idle */
#include "store/store.h"

#define EV_MAX 512

struct fx {
    char dir[64];
    char db[128];
    char compose[128];
    struct store *store;
    struct cc_config cfg;
    struct cc_ctx ctx;
    struct obs_registry *metrics;
    struct fake_driver fd;
    struct fake_clock clk;
    unsigned nwait;        /* engine threads that wait on the clock when idle */
    struct orch_engine *eng;
    pthread_mutex_t ev_mu;
    unsigned nev;
    char ev[EV_MAX][200];
};

static void on_event(void *arg, const char *kind, const char *project, const char *service,
                     const char *message)
{
    struct fx *f = arg;
    (void)message;
    pthread_mutex_lock(&f->ev_mu);
    if (f->nev < EV_MAX)
        snprintf(f->ev[f->nev++], sizeof(f->ev[0]), "%s %s %s", kind, project, service);
    pthread_mutex_unlock(&f->ev_mu);
}

static unsigned count_events(struct fx *f, const char *text)
{
    unsigned n = 0;
    pthread_mutex_lock(&f->ev_mu);
    for (unsigned i = 0; i < f->nev; i++)
        n += strcmp(f->ev[i], text) == 0;
    pthread_mutex_unlock(&f->ev_mu);
    return n;
}

/* Real time, for what must be fast. */
static int64_t real_ms(void)
{
    return cc_mono_ms(cc_clock_system());
}

/* Probe threads are the engine's only threads that do not wait on the
 * clock when idle: waits until none runs (each signals its project's cv as
 * it ends). Then false, with *waits read, while a supervisor has not yet
 * seen what came in (a result, a request: p->kick), though it may still be
 * counted as waiting on the clock: it was woken but has not run yet. */
static bool engine_quiet(struct fx *f, unsigned long *waits)
{
    bool idle = true;
    pthread_mutex_lock(&f->eng->mu);
    for (size_t i = 0; i < f->eng->nprojects && idle; i++) {
        struct orch__project *p = f->eng->projects[i];
        int64_t end = real_ms() + 10000;
        struct timespec ts = {.tv_sec = end / 1000, .tv_nsec = (end % 1000) * 1000000};
        pthread_mutex_lock(&p->mu);
        while (p->probes_inflight > 0 && pthread_cond_timedwait(&p->cv, &p->mu, &ts) == 0)
            ;
        idle = p->probes_inflight == 0;
        if (idle && p->kick) {
            *waits = fake_clock_waits(&f->clk);
            idle = false;
        }
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&f->eng->mu);
    return idle;
}

/* Lets the engine run until pred holds, moving the fake time from one
 * deadline to the next (by at most 50 ms at a time) while it does not;
 * false when max_ms of fake time passed without it. */
static bool run_until(struct fx *f, bool (*pred)(struct fx *f, const void *arg),
                      const void *arg, int64_t max_ms)
{
    int64_t end = fake_clock_mono(&f->clk) + max_ms;
    for (;;) {
        unsigned long waits = 0;
        bool ok = fake_clock_settle(&f->clk, f->nwait, 10000);
        while (ok && f->eng && !engine_quiet(f, &waits))
            ok = fake_clock_settle_since(&f->clk, f->nwait, waits, 10000);
        if (!ok) {
            print_error("the engine never settled (%u waiters wanted, %u waiting, %lu waits "
                        "since %lu)\n", f->nwait, fake_clock_waiting(&f->clk),
                        fake_clock_waits(&f->clk), waits);
            fail();
        }
        if (pred && pred(f, arg))
            return true;
        if (fake_clock_mono(&f->clk) >= end)
            return false;
        fake_clock_advance_next(&f->clk, 50);
    }
}

/* Lets ms of fake time pass. */
static void run_for(struct fx *f, int64_t ms)
{
    run_until(f, NULL, NULL, ms);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static const char *stack_yaml =
    "name: shop\n"
    "services:\n"
    "  database:\n"
    "    image: postgres:16\n"
    "    healthcheck: {test: [CMD, pg_isready], interval: 100ms, retries: 2}\n"
    "    stop_grace_period: 3s\n"
    "  cache:\n"
    "    image: redis:7\n"
    "    healthcheck: {test: [CMD-SHELL, redis-cli ping], interval: 100ms, retries: 2}\n"
    "  backend:\n"
    "    image: shop/backend:1\n"
    "    restart: always\n"
    "    ports: [\"8000:8000\"]\n"
    "    depends_on:\n"
    "      database: {condition: service_healthy}\n"
    "      cache: {condition: service_healthy}\n"
    "    x-commandcenter:\n"
    "      probe: {exec: 'curl -f localhost:8000/health', interval: 100ms, retries: 2}\n"
    "      restart_on_unhealthy: {limit: 2, grace: 0s}\n"
    "  frontend:\n"
    "    image: shop/frontend:1\n"
    "    restart: on-failure\n"
    "    depends_on: {backend: {condition: service_healthy}}\n"
    "    x-commandcenter: {probe: {exec: [\"true\"], interval: 100ms}}\n";

static const struct orch_driver_ops *const fake_drivers[] = {&fake_driver_ops,
                                                            &fake_process_ops, NULL};

static void engine_open(struct fx *f)
{
    struct orch_engine_cfg ec = {.ctx = &f->ctx, .state_dir = f->dir, .self_exe = "/bin/true",
                                 .on_event = on_event, .event_arg = f,
                                 .drivers = fake_drivers};
    struct orch_err e = {0};
    assert_int_equal(orch_engine_create(&ec, &f->eng, &e), CC_OK);
}

static int setup(void **state)
{
    struct fx *f = cc_xcalloc(1, sizeof(*f));
    cc_strlcpy(f->dir, "/tmp/cc_engine_XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/cc.db", f->dir);
    snprintf(f->compose, sizeof(f->compose), "%s/compose.yaml", f->dir);
    write_file(f->compose, stack_yaml);
    struct store_cfg sc = {.driver = "sqlite", .sqlite_path = f->db, .busy_timeout_ms = 5000,
                           .pool_size = 2};
    assert_int_equal(store_open(&sc, &f->store), CC_OK);
    cc_config_init(&f->cfg);
    free(f->cfg.orchestrator.driver);
    f->cfg.orchestrator.driver = cc_xstrdup("docker");
    /* fast for a test: backoff capped at 50 ms, short timeouts */
    f->cfg.orchestrator.restart_backoff_max_ms = 50;
    f->cfg.orchestrator.breaker_restarts = 3;
    f->cfg.orchestrator.breaker_window_ms = 60000;
    f->cfg.orchestrator.start_timeout_ms = 5000;
    f->metrics = obs_registry_new();
    fake_clock_init(&f->clk, cc_wall_ms(cc_clock_system()));
    f->nwait = 1;   /* the usage sampler */
    f->ctx = (struct cc_ctx){.clock = &f->clk.base, .cfg = &f->cfg, .store = f->store,
                             .metrics = f->metrics};
    pthread_mutex_init(&f->ev_mu, NULL);
    fake_driver_init(&f->fd);
    fake_driver_install(&f->fd);
    engine_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    orch_engine_destroy(f->eng);
    fake_driver_install(NULL);
    fake_driver_release(&f->fd);
    store_close(f->store);
    obs_registry_free(f->metrics);
    cc_config_release(&f->cfg);
    pthread_mutex_destroy(&f->ev_mu);
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static json_t *health(struct fx *f, const char *project)
{
    json_t *h = NULL;
    assert_int_equal(orch_engine_health(f->eng, project, &h), CC_OK);
    return h;
}

static const char *svc_status(json_t *h, const char *svc)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(h, "services"), svc), "status"));
}

struct want_status {
    const char *svc, *want;
    char last[64];
};

static bool status_is(struct fx *f, const void *arg)
{
    struct want_status *w = (struct want_status *)arg;
    json_t *h = health(f, "shop");
    bool ok;
    if (w->svc) {
        const char *st = svc_status(h, w->svc);
        snprintf(w->last, sizeof(w->last), "%s", st ? st : "?");
        ok = st && strcmp(st, w->want) == 0;
    } else {
        ok = json_is_true(json_object_get(h, "ready"));
        char *dump = ok ? NULL : json_dumps(h, JSON_COMPACT);
        snprintf(w->last, sizeof(w->last), "%.63s", dump ? dump : "");
        free(dump);
    }
    json_decref(h);
    return ok;
}

/* Runs until the service's status is want (or the project ready when svc
 * is NULL); fails after 5 s of fake time. */
static void wait_status(struct fx *f, const char *svc, const char *want)
{
    struct want_status w = {.svc = svc, .want = want};
    if (run_until(f, status_is, &w, 5000))
        return;
    print_error("%s never became %s (last: %s)\n", svc ? svc : "project", want, w.last);
    fail();
}

struct want_event {
    const char *text;
    unsigned n;
};

static bool event_seen(struct fx *f, const void *arg)
{
    const struct want_event *w = arg;
    return count_events(f, w->text) >= w->n;
}

static void wait_event(struct fx *f, const char *text, unsigned n)
{
    struct want_event w = {.text = text, .n = n};
    if (run_until(f, event_seen, &w, 5000))
        return;
    print_error("event '%s' seen %u times, wanted %u\n", text, count_events(f, text), n);
    for (unsigned i = 0; i < f->nev; i++)
        print_error("  %s\n", f->ev[i]);
    fail();
}

static void register_up(struct fx *f)
{
    struct orch_err e = {0};
    struct cc_diag d = {0};
    json_t *w = NULL;
    cc_err err = orch_engine_register(f->eng, NULL, f->compose, NULL, &w, NULL, 0, &d, &e);
    if (err)
        print_error("register: %s (%s)\n", e.msg, d.msg);
    assert_int_equal(err, CC_OK);
    assert_true(json_is_array(w));
    json_decref(w);
    assert_int_equal(orch_engine_up(f->eng, "shop", NULL, &e), CC_OK);
    f->nwait = 2;   /* and the project's supervisor */
}

static void test_start_order_gated_on_health(void **state)
{
    struct fx *f = *state;
    fake_driver_set_exec(&f->fd, "database", 1, "no response");
    register_up(f);
    wait_status(f, "cache", "healthy");
    run_for(f, 300);
    /* the database is not healthy yet: nothing that needs it started */
    assert_int_equal(fake_driver_find_call(&f->fd, "start backend", 0), -1);
    json_t *h = health(f, "shop");
    assert_false(json_is_true(json_object_get(h, "ready")));
    json_t *db = json_object_get(json_object_get(h, "services"), "database");
    assert_string_equal(json_string_value(json_object_get(db, "status")), "unhealthy");
    assert_false(json_is_true(json_object_get(db, "healthy")));
    assert_true(json_array_size(json_object_get(db, "last_outputs")) >= 1);
    json_decref(h);
    fake_driver_set_exec(&f->fd, "database", 0, "accepting connections");
    wait_status(f, NULL, "ready");

    int sdb = fake_driver_find_call(&f->fd, "start database", 0);
    int scache = fake_driver_find_call(&f->fd, "start cache", 0);
    int sback = fake_driver_find_call(&f->fd, "start backend", 0);
    int sfront = fake_driver_find_call(&f->fd, "start frontend", 0);
    assert_true(sdb >= 0 && scache >= 0 && sback > sdb && sback > scache && sfront > sback);
    /* independent services start together, before anything is probed */
    int64_t gap = fake_driver_call_ms(&f->fd, sdb) - fake_driver_call_ms(&f->fd, scache);
    assert_true(gap < 50 && gap > -50);
    int first_exec = fake_driver_find_call(&f->fd, "exec database", 0);
    assert_true(first_exec > sdb && first_exec > scache);
    assert_int_equal(fake_driver_count_calls(&f->fd, "prepare shop"), 1);

    /* events and metrics */
    wait_event(f, "service.healthy shop frontend", 1);
    assert_int_equal(count_events(f, "service.started shop database"), 1);
    assert_int_equal(count_events(f, "service.created shop backend"), 1);
    assert_int_equal(count_events(f, "service.healthy shop backend"), 1);

    /* the views */
    json_t *ps = NULL;
    assert_int_equal(orch_engine_ps(f->eng, "shop", &ps), CC_OK);
    assert_int_equal(json_array_size(ps), 4);
    json_t *row = json_array_get(ps, 2);
    assert_string_equal(json_string_value(json_object_get(row, "service")), "backend");
    assert_string_equal(json_string_value(json_object_get(row, "status")), "healthy");
    assert_true(json_is_string(json_object_get(row, "instance")));
    assert_true(json_is_null(json_object_get(row, "exit_code")));
    assert_int_equal(json_integer_value(json_object_get(row, "restarts")), 0);
    assert_true(json_is_string(json_object_get(row, "started_at")));
    json_t *port = json_array_get(json_object_get(row, "ports"), 0);
    assert_int_equal(json_integer_value(json_object_get(port, "target")), 8000);
    json_decref(ps);

    h = health(f, "shop");
    assert_true(json_is_true(json_object_get(h, "overall_healthy")));
    assert_true(json_is_string(json_object_get(h, "timestamp")));
    json_t *be = json_object_get(json_object_get(h, "services"), "backend");
    assert_true(json_is_true(json_object_get(be, "healthy")));
    assert_int_equal(json_integer_value(json_object_get(be, "failing_streak")), 0);
    assert_true(json_is_string(json_object_get(be, "checked_at")));
    json_t *out0 = json_array_get(json_object_get(be, "last_outputs"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(out0, "output")), "/bin/sh"));
    json_decref(h);

    json_t *list = NULL;
    assert_int_equal(orch_engine_list(f->eng, &list), CC_OK);
    json_t *p0 = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(p0, "name")), "shop");
    assert_string_equal(json_string_value(json_object_get(p0, "state")), "up");
    assert_string_equal(json_string_value(json_object_get(p0, "driver")), "docker");
    assert_int_equal(json_integer_value(json_object_get(p0, "services")), 4);
    assert_int_equal(json_integer_value(json_object_get(p0, "healthy")), 4);
    json_decref(list);

    json_t *res = NULL;
    struct orch_err e = {0};
    assert_int_equal(orch_engine_resources(f->eng, "shop", &res, &e), CC_OK);
    json_t *dbres = json_object_get(json_object_get(res, "services"), "database");
    /* postgres role default: 1 CPU, 2 GiB */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(dbres, "limits"),
                                                        "memory")), 2LL << 30);
    assert_true(json_is_object(json_object_get(dbres, "usage")));
    json_decref(res);
    struct fake_inst in;
    assert_true(fake_driver_inst(&f->fd, "shop", "cache", &in));
    assert_int_equal(in.limits.memory, 512LL << 20);
}

static void test_killed_service_restarts(void **state)
{
    struct fx *f = *state;
    register_up(f);
    wait_status(f, NULL, "ready");
    assert_true(fake_driver_kill(&f->fd, "shop", "backend", 1, false));
    wait_event(f, "service.exited shop backend", 1);
    wait_event(f, "service.restarted shop backend", 1);
    wait_status(f, "backend", "healthy");
    assert_true(fake_driver_kill(&f->fd, "shop", "backend", 0, true));
    wait_event(f, "service.oom shop backend", 1);
    wait_event(f, "service.restarted shop backend", 2);
    json_t *ps = NULL;
    assert_int_equal(orch_engine_ps(f->eng, "shop", &ps), CC_OK);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ps, 2), "restarts")), 2);
    json_decref(ps);
    /* restart: on-failure and a clean exit: left exited */
    assert_true(fake_driver_kill(&f->fd, "shop", "frontend", 0, false));
    wait_status(f, "frontend", "exited");
    run_for(f, 200);
    assert_int_equal(count_events(f, "service.restarted shop frontend"), 0);
}

static void test_unhealthy_restarts(void **state)
{
    struct fx *f = *state;
    register_up(f);
    wait_status(f, NULL, "ready");
    fake_driver_set_exec(&f->fd, "backend", 7, "500 internal error");
    wait_event(f, "service.unhealthy shop backend", 1);
    wait_event(f, "service.restarted shop backend", 1);
    fake_driver_set_exec(&f->fd, "backend", 0, "ok");
    wait_status(f, "backend", "healthy");
    /* the probe state starts over after the restart */
    json_t *h = health(f, "shop");
    json_t *be = json_object_get(json_object_get(h, "services"), "backend");
    assert_int_equal(json_integer_value(json_object_get(be, "failing_streak")), 0);
    json_decref(h);
}

static void test_breaker_then_restart(void **state)
{
    struct fx *f = *state;
    register_up(f);
    wait_status(f, NULL, "ready");
    for (unsigned i = 1; i <= 3; i++) {
        wait_status(f, "backend", "healthy");
        assert_true(fake_driver_kill(&f->fd, "shop", "backend", 2, false));
        wait_event(f, "service.restarted shop backend", i);
    }
    wait_status(f, "backend", "healthy");
    assert_true(fake_driver_kill(&f->fd, "shop", "backend", 2, false));
    wait_status(f, "backend", "failed");
    wait_event(f, "service.failed shop backend", 1);
    run_for(f, 300);
    assert_int_equal(count_events(f, "service.restarted shop backend"), 3);
    struct orch_err e = {0};
    assert_int_equal(orch_engine_restart(f->eng, "shop", "backend", &e), CC_OK);
    wait_status(f, "backend", "healthy");
    assert_int_equal(count_events(f, "service.restarted shop backend"), 4);
}

static void test_down_reverse_order(void **state)
{
    struct fx *f = *state;
    register_up(f);
    wait_status(f, NULL, "ready");
    struct orch_err e = {0};
    assert_int_equal(orch_engine_down(f->eng, "shop", &e), CC_OK);
    f->nwait = 1;
    int sf = fake_driver_find_call(&f->fd, "stop frontend", 0);
    int sb = fake_driver_find_call(&f->fd, "stop backend", 0);
    int sd = fake_driver_find_call(&f->fd, "stop database", 0);
    int sc = fake_driver_find_call(&f->fd, "stop cache", 0);
    int td = fake_driver_find_call(&f->fd, "teardown shop", 0);
    assert_true(sf >= 0 && sb > sf && sd > sb && sc > sb && td > sd && td > sc);
    assert_true(fake_driver_find_call(&f->fd, "remove database", 0) > sd);
    struct fake_inst in;
    assert_false(fake_driver_inst(&f->fd, "shop", "database", &in));
    json_t *h = health(f, "shop");
    assert_string_equal(svc_status(h, "database"), "stopped");
    assert_false(json_is_true(json_object_get(h, "ready")));
    json_decref(h);
    assert_int_equal(count_events(f, "service.stopped shop database"), 1);
    /* down never restarts anything */
    run_for(f, 300);
    assert_int_equal(count_events(f, "service.restarted shop backend"), 0);
    assert_int_equal(orch_engine_restart(f->eng, "shop", "backend", &e), CC_ESTATE);
    assert_int_equal(orch_engine_unregister(f->eng, "shop", &e), CC_OK);
    assert_int_equal(orch_engine_up(f->eng, "shop", NULL, &e), CC_ENOTFOUND);
}

static bool frontend_recreated(struct fx *f, const void *arg)
{
    (void)arg;
    return fake_driver_count_calls(&f->fd, "create frontend") >= 2;
}

static void test_readopt_without_restart(void **state)
{
    struct fx *f = *state;
    register_up(f);
    wait_status(f, NULL, "ready");
    unsigned starts = fake_driver_count_calls(&f->fd, "start backend");
    unsigned creates = fake_driver_count_calls(&f->fd, "create backend");
    orch_engine_destroy(f->eng);   /* the daemon stops; services keep running */
    f->eng = NULL;
    f->nwait = 0;
    struct fake_inst in;
    assert_true(fake_driver_inst(&f->fd, "shop", "backend", &in));
    assert_int_equal(in.state, ORCH_RUN_RUNNING);
    /* while it was away the cache died */
    assert_true(fake_driver_kill(&f->fd, "shop", "cache", 1, false));
    engine_open(f);
    f->nwait = 2;   /* the sampler and the re-adopted project's supervisor */
    wait_status(f, "backend", "healthy");
    wait_status(f, "cache", "healthy");
    assert_int_equal(fake_driver_count_calls(&f->fd, "start backend"), starts);
    assert_int_equal(fake_driver_count_calls(&f->fd, "create backend"), creates);
    assert_int_equal(fake_driver_count_calls(&f->fd, "start database"), 1);
    /* the cache had no restart policy: it stays exited, like compose */
    json_t *list = NULL;
    assert_int_equal(orch_engine_list(f->eng, &list), CC_OK);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "state")),
                        "up");
    json_decref(list);
    /* a changed service is recreated by the next up; the others stay */
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), "%s", stack_yaml);
    char *img = strstr(yaml, "shop/frontend:1");
    img[14] = '2';
    write_file(f->compose, yaml);
    struct orch_err e = {0};
    assert_int_equal(orch_engine_up(f->eng, "shop", NULL, &e), CC_OK);
    run_until(f, frontend_recreated, NULL, 5000);
    assert_int_equal(fake_driver_count_calls(&f->fd, "create frontend"), 2);
    wait_status(f, "frontend", "healthy");
    assert_int_equal(fake_driver_count_calls(&f->fd, "create backend"), creates);
}

static void test_engine_unavailable_fast(void **state)
{
    struct fx *f = *state;
    struct orch_err e = {0};
    struct cc_diag d = {0};
    assert_int_equal(orch_engine_register(f->eng, NULL, f->compose, NULL, NULL, NULL, 0, &d, &e), CC_OK);
    assert_int_equal(orch_engine_reachable(f->eng, "shop", NULL, &e), CC_OK);
    assert_int_equal(orch_engine_reachable(f->eng, "nope", NULL, &e), CC_ENOTFOUND);
    fake_driver_set_down(&f->fd, true, 300);
    assert_int_equal(orch_engine_up(f->eng, "shop", NULL, &e), CC_EUPSTREAM);
    assert_int_equal(orch_engine_up(f->eng, "shop", NULL, &e), CC_EUPSTREAM);
    int64_t t0 = real_ms();
    memset(&e, 0, sizeof(e));
    assert_int_equal(orch_engine_up(f->eng, "shop", NULL, &e), CC_EUPSTREAM);
    assert_true(real_ms() - t0 < 100);
    assert_non_null(strstr(e.msg, "engine unavailable"));
    assert_true(e.hint[0] != 0);
    /* what a log stream asks before it starts: refused at once, no driver call */
    t0 = real_ms();
    memset(&e, 0, sizeof(e));
    assert_int_equal(orch_engine_reachable(f->eng, "shop", "frontend", &e), CC_EUPSTREAM);
    assert_int_equal(orch_engine_reachable(f->eng, "shop", NULL, &e), CC_EUPSTREAM);
    assert_non_null(strstr(e.msg, "engine unavailable"));
    assert_true(e.hint[0] != 0);
    assert_true(real_ms() - t0 < 100);
}

static void test_unknown_names(void **state)
{
    struct fx *f = *state;
    struct orch_err e = {0};
    json_t *j = NULL;
    assert_int_equal(orch_engine_up(f->eng, "nope", NULL, &e), CC_ENOTFOUND);
    assert_int_equal(orch_engine_down(f->eng, "nope", &e), CC_ENOTFOUND);
    assert_int_equal(orch_engine_health(f->eng, "nope", &j), CC_ENOTFOUND);
    assert_int_equal(orch_engine_ps(f->eng, "nope", &j), CC_ENOTFOUND);
    assert_int_equal(orch_engine_project(f->eng, "nope", &j), CC_ENOTFOUND);
    assert_int_equal(orch_engine_resources(f->eng, "nope", &j, &e), CC_ENOTFOUND);
    register_up(f);
    assert_int_equal(orch_engine_restart(f->eng, "shop", "nope", &e), CC_ENOTFOUND);
    struct orch_log_query q = {.tail = 10};
    assert_int_equal(orch_engine_logs(f->eng, "shop", "nope", &q, NULL, NULL, &e),
                     CC_ENOTFOUND);
    struct cc_diag d = {0};
    assert_int_equal(orch_engine_register(f->eng, NULL, f->compose, NULL, NULL, NULL, 0, &d, &e),
                     CC_ECONFLICT);
    assert_int_equal(orch_engine_unregister(f->eng, "shop", &e), CC_ESTATE);
    assert_int_equal(orch_engine_project(f->eng, "shop", &j), CC_OK);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "up");
    assert_int_equal(json_array_size(json_object_get(j, "services")), 4);
    json_decref(j);
}

static void test_bad_x_commandcenter(void **state)
{
    struct fx *f = *state;
    write_file(f->compose, "services:\n  web:\n    image: w\n"
                           "    x-commandcenter: {probe: {http: {port: 99999}}}\n");
    struct orch_err e = {0};
    struct cc_diag d = {0};
    assert_int_equal(orch_engine_register(f->eng, "x", f->compose, NULL, NULL, NULL, 0, &d, &e), CC_EINVAL);
    assert_non_null(strstr(d.msg, "services.web.x-commandcenter.probe.http.port"));
    assert_int_equal(d.line, 2);
}

static void test_one_shot_and_start_timeout(void **state)
{
    struct fx *f = *state;
    write_file(f->compose,
               "name: shop\n"
               "services:\n"
               "  migrate: {image: m, command: migrate}\n"
               "  db:\n"
               "    image: d\n"
               "    x-commandcenter: {probe: {exec: x, interval: 50ms}, start_timeout: 400ms}\n"
               "  api:\n"
               "    image: a\n"
               "    depends_on: {migrate: {condition: service_completed_successfully}}\n"
               "  worker:\n"
               "    image: w\n"
               "    depends_on: {db: {condition: service_healthy}}\n"
               "  optional:\n"
               "    image: o\n"
               "    depends_on: {db: {condition: service_healthy, required: false}}\n");
    struct fake_script *m = fake_driver_script(&f->fd, "migrate");
    fake_driver_lock(&f->fd);
    m->exit_on_start = true;
    m->exit_code = 0;
    fake_driver_unlock(&f->fd);
    fake_driver_set_exec(&f->fd, "db", 2, "connection refused");
    register_up(f);
    wait_status(f, "api", "running");
    wait_status(f, "migrate", "exited");
    wait_status(f, "worker", "failed");
    wait_status(f, "optional", "running");
    json_t *h = health(f, "shop");
    json_t *w = json_object_get(json_object_get(h, "services"), "worker");
    const char *msg = json_string_value(json_object_get(w, "message"));
    assert_non_null(strstr(msg, "db"));
    assert_non_null(strstr(msg, "connection refused"));
    assert_true(json_is_true(json_object_get(json_object_get(json_object_get(h, "services"),
                                                             "migrate"), "healthy")));
    json_decref(h);
    wait_event(f, "service.failed shop worker", 1);
}

struct reader {
    struct fx *f;
    atomic_bool cancel;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a line came, or the stream ended */
    char got[32][16];
    unsigned n;
    bool done;
    cc_err err;
};

static bool reader_line(void *arg, const struct orch_log_line *l)
{
    struct reader *r = arg;
    pthread_mutex_lock(&r->mu);
    if (r->n < 32)
        snprintf(r->got[r->n++], sizeof(r->got[0]), "%.*s", (int)l->len, l->text);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return true;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    struct orch_log_query q = {.tail = -1, .follow = true, .cancel = &r->cancel};
    struct orch_err e = {0};
    cc_err err = orch_engine_logs(r->f->eng, "shop", "backend", &q, reader_line, r, &e);
    pthread_mutex_lock(&r->mu);
    r->err = err;
    r->done = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Waits (real time, at most ms) until the reader has n lines, or has ended
 * when n is 0. */
static bool reader_wait(struct reader *r, unsigned n, int64_t ms)
{
    int64_t end = real_ms() + ms;
    struct timespec ts = {.tv_sec = end / 1000, .tv_nsec = (end % 1000) * 1000000};
    pthread_mutex_lock(&r->mu);
    bool ok;
    while (!(ok = n ? r->n >= n : r->done))
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) != 0)
            break;
    ok = n ? r->n >= n : r->done;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static void test_logs_follow_across_restart(void **state)
{
    struct fx *f = *state;
    register_up(f);
    wait_status(f, NULL, "ready");
    assert_true(fake_driver_log(&f->fd, "shop", "backend", "one"));
    assert_true(fake_driver_log(&f->fd, "shop", "backend", "two"));
    struct reader *r = cc_xcalloc(1, sizeof(*r));
    r->f = f;
    pthread_mutex_init(&r->mu, NULL);
    assert_int_equal(cc_clock_cond_init(&r->cv), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reader_main, r), 0);
    assert_true(reader_wait(r, 2, 3000));
    assert_true(fake_driver_kill(&f->fd, "shop", "backend", 1, false));
    wait_event(f, "service.restarted shop backend", 1);
    assert_true(fake_driver_log(&f->fd, "shop", "backend", "three"));
    /* a line repeated after the restart would come before "three" */
    assert_true(reader_wait(r, 3, 3000));
    int64_t t0 = real_ms();
    atomic_store(&r->cancel, true);
    /* the stream looks at cancel every 200 ms of the engine's time while it
     * waits for an instance, and within 250 ms (real) while reading one */
    while (!reader_wait(r, 0, 20) && real_ms() - t0 < 600)
        fake_clock_advance(&f->clk, 200);
    pthread_join(t, NULL);
    assert_true(real_ms() - t0 < 600);
    assert_int_equal(r->err, CC_OK);
    assert_int_equal(r->n, 3);        /* nothing twice, nothing lost */
    assert_string_equal(r->got[0], "one");
    assert_string_equal(r->got[1], "two");
    assert_string_equal(r->got[2], "three");
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_order_gated_on_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_service_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unhealthy_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breaker_then_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_reverse_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readopt_without_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_unavailable_fast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_x_commandcenter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_shot_and_start_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_follow_across_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
