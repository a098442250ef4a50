/*
 * test_docker_driver.c - the docker driver against a real, private Docker
 * engine (scripts/dockerd.sh) and the local images of tests/images/build.sh.
 * CC_TEST_DOCKER_HOST names the engine; without it every test fails and
 * says how to start one. Each test uses its own project and removes what
 * it created.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/httpc.h"
#include "orchestrator/driver.h"

#define BUSYBOX "cc-test/busybox:1"

struct fixture {
    struct orch_driver *d;
    char project[64];
    char dir[128];                /* temp dir: secret files, build contexts */
    struct orch_stack *stack;
};

static const char *engine(void)
{
    const char *h = getenv("CC_TEST_DOCKER_HOST");
    if (!h || !*h) {
        print_error("CC_TEST_DOCKER_HOST is not set: start a private engine with "
                    "`scripts/dockerd.sh start build/dockerd`, build the images with "
                    "`DOCKER_HOST=<printed host> tests/images/build.sh`, then export "
                    "CC_TEST_DOCKER_HOST=<printed host> (scripts/test.sh does all this)\n");
        return NULL;
    }
    return h;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int setup(void **state)
{
    const char *host = engine();
    if (!host)
        return -1;
    static unsigned seq;
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->project, sizeof(f->project), "cct%d-%u", (int)getpid(), ++seq);
    snprintf(f->dir, sizeof(f->dir), "/tmp/cc-dockertest-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    struct orch_driver_cfg cfg = {.docker_host = host};
    struct orch_err e = {0};
    if (orch_docker_ops.open(&cfg, &f->d, &e) != CC_OK) {
        print_error("open: %s (%s)\n", e.msg, e.hint);
        return -1;
    }
    *state = f;
    return 0;
}

static void collect_id(void *arg, const struct orch_inst *i)
{
    char (*ids)[128] = arg;
    for (int k = 0; k < 16; k++)
        if (!ids[k][0]) {
            snprintf(ids[k], 128, "%s", i->id);
            return;
        }
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    char ids[16][128] = {{0}};
    f->d->ops->list(f->d, f->project, collect_id, ids, NULL);
    for (int k = 0; k < 16 && ids[k][0]; k++)
        f->d->ops->remove(f->d, ids[k], NULL);
    if (f->stack)
        f->d->ops->teardown(f->d, f->project, f->stack, NULL);
    orch_stack_free(f->stack);
    f->d->ops->close(f->d);
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        print_error("could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    chmod(path, mode);
}

static void load_stack(struct fixture *f, const char *yaml)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/compose.yaml", f->dir);
    write_file(path, yaml, 0644);
    struct orch_compose_opts o = {.default_name = f->project};
    struct cc_diag diag = {0};
    cc_err rc = orch_compose_load(path, &o, &f->stack, &diag);
    if (rc)
        print_error("compose: %u:%u: %s\n", diag.line, diag.col, diag.msg);
    assert_int_equal(rc, CC_OK);
}

static void prepare(struct fixture *f)
{
    struct orch_err e = {0};
    cc_err rc = f->d->ops->prepare(f->d, f->project, f->stack, NULL, NULL, &e);
    if (rc)
        print_error("prepare: %s (%s)\n", e.msg, e.hint);
    assert_int_equal(rc, CC_OK);
}

struct inst_copy {
    char id[128], project[64], service[64], hash[80];
    enum orch_run_state state;
    int exit_code, pid, count;
    bool oom;
    int64_t started_ms;
};

static void copy_inst(void *arg, const struct orch_inst *i)
{
    struct inst_copy *c = arg;
    snprintf(c->id, sizeof(c->id), "%s", i->id ? i->id : "");
    snprintf(c->project, sizeof(c->project), "%s", i->project ? i->project : "");
    snprintf(c->service, sizeof(c->service), "%s", i->service ? i->service : "");
    snprintf(c->hash, sizeof(c->hash), "%s", i->config_hash ? i->config_hash : "");
    c->state = i->state;
    c->exit_code = i->exit_code;
    c->pid = i->pid;
    c->oom = i->oom_killed;
    c->started_ms = i->started_ms;
    c->count++;
}

static cc_err create_svc(struct fixture *f, const char *svc, struct orch_resources limits,
                         struct inst_copy *out, struct orch_err *e)
{
    struct orch_spec spec = {.project = f->project, .stack = f->stack,
                             .svc = orch_stack_service(f->stack, svc),
                             .config_hash = "abc123", .limits = limits};
    assert_non_null(spec.svc);
    memset(out, 0, sizeof(*out));
    return f->d->ops->create(f->d, &spec, copy_inst, out, e);
}

static const struct orch_resources no_limits = {.cpus = -1, .memory = -1, .pids = -1};

/* create + start; fails the test on error */
static void up(struct fixture *f, const char *svc, struct orch_resources limits,
               struct inst_copy *out)
{
    struct orch_err e = {0};
    cc_err rc = create_svc(f, svc, limits, out, &e);
    if (rc)
        print_error("create %s: %s (%s)\n", svc, e.msg, e.hint);
    assert_int_equal(rc, CC_OK);
    rc = f->d->ops->start(f->d, out->id, &e);
    if (rc)
        print_error("start %s: %s (%s)\n", svc, e.msg, e.hint);
    assert_int_equal(rc, CC_OK);
}

static struct inst_copy inspect(struct fixture *f, const char *id)
{
    struct inst_copy c = {0};
    struct orch_err e = {0};
    assert_int_equal(f->d->ops->inspect(f->d, id, copy_inst, &c, &e), CC_OK);
    return c;
}

static struct inst_copy wait_exited(struct fixture *f, const char *id, int ms)
{
    struct inst_copy c;
    for (int t = 0;; t += 100) {
        c = inspect(f, id);
        if (c.state == ORCH_RUN_EXITED || t >= ms)
            return c;
        sleep_ms(100);
    }
}

/* The engine's own view of a container, for what orch_inst does not carry. */
static json_t *engine_inspect(const char *id)
{
    const char *host = engine();
    assert_non_null(host);
    char url[512];
    snprintf(url, sizeof(url), "http://docker/containers/%s/json", id);
    struct cc_http_req r = {.method = "GET", .url = url, .timeout_ms = 5000,
                            .unix_path = host + 7};
    struct cc_buf raw;
    cc_buf_init(&raw, 1 << 22);
    struct cc_http_answer a;
    char err[200];
    assert_int_equal(cc_http_request(&r, &raw, &a, err, sizeof(err)), CC_OK);
    assert_int_equal(a.status, 200);
    json_t *j = json_loadb(a.body, a.len, 0, NULL);
    cc_buf_release(&raw);
    assert_non_null(j);
    return j;
}

static cc_err run_exec(struct fixture *f, const char *id, const char *script,
                       int64_t timeout_ms, struct orch_exec_result *res)
{
    char *const argv[] = {"sh", "-c", (char *)script, NULL};
    struct orch_err e = {0};
    cc_err rc = f->d->ops->exec(f->d, id, argv, timeout_ms * 1000000, res, &e);
    if (rc)
        print_error("exec %s: %s (%s)\n", script, e.msg, e.hint);
    return rc;
}

/* ---- tests ------------------------------------------------------------- */

static void test_ping_and_version(void **state)
{
    struct fixture *f = *state;
    struct orch_err e = {0};
    assert_int_equal(f->d->ops->ping(f->d, &e), CC_OK);
    assert_string_equal(f->d->ops->name, "docker");
}

static void test_lifecycle_labels_and_list(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  web:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sleep, '300']\n"
                  "    init: true\n"
                  "    stop_grace_period: 1s\n");
    prepare(f);
    struct inst_copy c;
    struct orch_err e = {0};
    assert_int_equal(create_svc(f, "web", no_limits, &c, &e), CC_OK);
    assert_int_equal(c.state, ORCH_RUN_CREATED);
    assert_string_equal(c.project, f->project);
    assert_string_equal(c.service, "web");
    assert_string_equal(c.hash, "abc123");
    assert_int_equal(f->d->ops->start(f->d, c.id, &e), CC_OK);
    struct inst_copy r = inspect(f, c.id);
    assert_int_equal(r.state, ORCH_RUN_RUNNING);
    assert_true(r.pid > 0);
    assert_true(r.started_ms > 0);

    json_t *j = engine_inspect(c.id);
    char want[128];
    snprintf(want, sizeof(want), "/%s-web-1", f->project);
    assert_string_equal(json_string_value(json_object_get(j, "Name")), want);
    const json_t *labels = json_object_get(json_object_get(j, "Config"), "Labels");
    assert_string_equal(json_string_value(json_object_get(labels, ORCH_LABEL_MANAGED)), "true");
    assert_string_equal(json_string_value(json_object_get(json_object_get(
                            json_object_get(j, "HostConfig"), "RestartPolicy"), "Name")),
                        "no");
    json_decref(j);

    /* re-adoption: a fresh driver finds the instance by project */
    struct orch_driver *d2 = NULL;
    struct orch_driver_cfg cfg = {.docker_host = engine()};
    assert_int_equal(orch_docker_ops.open(&cfg, &d2, &e), CC_OK);
    struct inst_copy l = {0};
    assert_int_equal(d2->ops->list(d2, f->project, copy_inst, &l, &e), CC_OK);
    d2->ops->close(d2);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.id, c.id);
    assert_int_equal(l.state, ORCH_RUN_RUNNING);

    /* creating again replaces the instance */
    int64_t t0 = cc_mono_ms(cc_clock_system());
    assert_int_equal(f->d->ops->stop(f->d, c.id, 1000000000, &e), CC_OK);
    assert_true(cc_mono_ms(cc_clock_system()) - t0 < 5000);
    r = inspect(f, c.id);
    assert_int_equal(r.state, ORCH_RUN_EXITED);
    assert_int_equal(f->d->ops->remove(f->d, c.id, &e), CC_OK);
    struct inst_copy none = {0};
    assert_int_equal(f->d->ops->inspect(f->d, c.id, copy_inst, &none, &e), CC_ENOTFOUND);
    assert_int_equal(none.count, 0);
}

static void test_limits_and_stats(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  worker:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sh, -c, 'while true; do :; done']\n"
                  "    init: true\n");
    prepare(f);
    struct orch_resources lim = {.cpus = 0.5, .memory = 64 << 20, .pids = 50};
    struct inst_copy c;
    up(f, "worker", lim, &c);
    json_t *j = engine_inspect(c.id);
    const json_t *hc = json_object_get(j, "HostConfig");
    assert_int_equal(json_integer_value(json_object_get(hc, "Memory")), 64 << 20);
    assert_int_equal(json_integer_value(json_object_get(hc, "NanoCpus")), 500000000);
    assert_int_equal(json_integer_value(json_object_get(hc, "PidsLimit")), 50);
    json_decref(j);

    struct orch_usage u = {0};
    struct orch_err e = {0};
    assert_int_equal(f->d->ops->stats(f->d, c.id, &u, &e), CC_OK);
    /* a busy loop capped at half a CPU */
    assert_true(u.cpu_percent > 10.0);
    assert_true(u.cpu_percent < 80.0);
    assert_true(u.mem_bytes > 0);
    assert_true(u.mem_bytes < 64 << 20);
    assert_int_equal(u.mem_limit, 64 << 20);
    assert_true(u.pids >= 1);
    assert_int_equal(u.pids_limit, 50);
    assert_true(u.enforced);
}

static void test_oom_killed(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  hog:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sh, -c, 'x=aaaaaaaaaaaaaaaa; while true; do x=$$x$$x; done']\n");
    prepare(f);
    struct orch_resources lim = {.cpus = -1, .memory = 16 << 20, .pids = -1};
    struct inst_copy c;
    up(f, "hog", lim, &c);
    struct inst_copy r = wait_exited(f, c.id, 20000);
    assert_int_equal(r.state, ORCH_RUN_EXITED);
    assert_true(r.oom);
    assert_int_equal(r.exit_code, 137);
}

static void test_security(void **state)
{
    struct fixture *f = *state;
    char secret[256];
    snprintf(secret, sizeof(secret), "%s/token.txt", f->dir);
    write_file(secret, "s3cr3t-value", 0600);   /* the host file is root-only */
    load_stack(f, "services:\n"
                  "  app:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sleep, '300']\n"
                  "    init: true\n"
                  "    user: '1000:1000'\n"
                  "    read_only: true\n"
                  "    tmpfs: [/tmp]\n"
                  "    cap_drop: [ALL]\n"
                  "    security_opt: ['no-new-privileges:true']\n"
                  "    secrets: [token]\n"
                  "secrets:\n"
                  "  token:\n"
                  "    file: ./token.txt\n");
    prepare(f);
    struct inst_copy c;
    up(f, "app", no_limits, &c);
    struct orch_exec_result res;
    assert_int_equal(run_exec(f, c.id, "id -u", 5000, &res), CC_OK);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.output, "1000\n");
    assert_int_equal(run_exec(f, c.id, "echo x > /x", 5000, &res), CC_OK);
    assert_int_not_equal(res.exit_code, 0);
    assert_int_equal(run_exec(f, c.id, "echo x > /tmp/x && cat /tmp/x", 5000, &res), CC_OK);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(run_exec(f, c.id, "cat /run/secrets/token", 5000, &res), CC_OK);
    assert_int_equal(res.exit_code, 0);
    assert_string_equal(res.output, "s3cr3t-value");
    assert_int_equal(run_exec(f, c.id, "stat -c %u:%a /run/secrets/token", 5000, &res), CC_OK);
    assert_string_equal(res.output, "1000:400\n");
    assert_int_equal(run_exec(f, c.id, "env; cat /proc/1/environ", 5000, &res), CC_OK);
    assert_null(strstr(res.output, "s3cr3t"));
    json_t *j = engine_inspect(c.id);
    char *dump = json_dumps(j, 0);
    assert_null(strstr(dump, "s3cr3t"));
    free(dump);
    const json_t *hc = json_object_get(j, "HostConfig");
    assert_true(json_is_true(json_object_get(hc, "ReadonlyRootfs")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "CapDrop"), 0)),
                        "ALL");
    json_decref(j);
}

static void test_internal_network(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  db:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [httpd, -f, -p, '8080', -h, /tmp]\n"
                  "    init: true\n"
                  "    networks: [back]\n"
                  "  inside:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sleep, '300']\n"
                  "    init: true\n"
                  "    networks: [back]\n"
                  "  outside:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sleep, '300']\n"
                  "    init: true\n"
                  "    networks: [front]\n"
                  "networks:\n"
                  "  back:\n"
                  "    internal: true\n"
                  "  front: {}\n");
    prepare(f);
    struct inst_copy db, in, out;
    up(f, "db", no_limits, &db);
    up(f, "inside", no_limits, &in);
    up(f, "outside", no_limits, &out);
    char ip[64];
    unsigned port = 0;
    struct orch_err e = {0};
    assert_int_equal(f->d->ops->endpoint(f->d, db.id, 8080, ip, sizeof(ip), &port, &e), CC_OK);
    assert_int_equal(port, 8080);
    char script[200];
    snprintf(script, sizeof(script), "echo | nc -w 2 %s 8080", ip);
    struct orch_exec_result res;
    /* the control: a neighbour on the internal network reaches it, by
     * address and by the service name */
    assert_int_equal(run_exec(f, in.id, script, 10000, &res), CC_OK);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(run_exec(f, in.id, "echo | nc -w 2 db 8080", 10000, &res), CC_OK);
    assert_int_equal(res.exit_code, 0);
    /* from another network it cannot */
    assert_int_equal(run_exec(f, out.id, script, 10000, &res), CC_OK);
    assert_int_not_equal(res.exit_code, 0);
    json_t *j = engine_inspect(db.id);
    char net[128];
    snprintf(net, sizeof(net), "%s_back", f->project);
    assert_non_null(json_object_get(
        json_object_get(json_object_get(j, "NetworkSettings"), "Networks"), net));
    json_decref(j);
}

struct lines {
    int n, out, err;
    char text[32][64];
    int64_t ts[32];
};

static bool keep_line(void *arg, const struct orch_log_line *l)
{
    struct lines *s = arg;
    if (s->n < 32) {
        snprintf(s->text[s->n], 64, "%.*s", (int)(l->len < 60 ? l->len : 60), l->text);
        s->ts[s->n] = l->ts_ns;
    }
    s->n++;
    if (l->stream == ORCH_STDOUT)
        s->out++;
    else
        s->err++;
    return true;
}

static cc_err logs(struct fixture *f, const char *id, struct orch_log_query q, struct lines *s)
{
    memset(s, 0, sizeof(*s));
    struct orch_err e = {0};
    cc_err rc = f->d->ops->logs(f->d, id, &q, keep_line, s, &e);
    if (rc)
        print_error("logs: %s (%s)\n", e.msg, e.hint);
    return rc;
}

static void test_logs(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  talk:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sh, -c, 'for i in 1 2 3 4 5; do echo out$$i; echo err$$i >&2; "
                  "done']\n");
    prepare(f);
    int64_t t0 = now_ns();
    struct inst_copy c;
    up(f, "talk", no_limits, &c);
    assert_int_equal(wait_exited(f, c.id, 10000).state, ORCH_RUN_EXITED);
    struct lines s;
    struct orch_log_query q = {.tail = -1};
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    assert_int_equal(s.n, 10);
    assert_int_equal(s.out, 5);
    assert_int_equal(s.err, 5);
    bool seen_out1 = false, seen_err5 = false;
    for (int i = 0; i < s.n; i++) {
        seen_out1 |= !strcmp(s.text[i], "out1");
        seen_err5 |= !strcmp(s.text[i], "err5");
        assert_true(s.ts[i] >= t0 - 5000000000LL);
        assert_true(s.ts[i] <= now_ns() + 5000000000LL);
    }
    assert_true(seen_out1 && seen_err5);

    q.tail = 2;
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    assert_int_equal(s.n, 2);

    q.tail = -1;
    q.since_ns = now_ns() + 60000000000LL;   /* after every line */
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    assert_int_equal(s.n, 0);
    q.since_ns = 0;
    q.until_ns = t0 - 60000000000LL;         /* before every line */
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    assert_int_equal(s.n, 0);
}

static void test_logs_follow(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  slow:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sh, -c, 'echo first; sleep 2; echo second']\n");
    prepare(f);
    struct inst_copy c;
    up(f, "slow", no_limits, &c);
    int64_t t0 = cc_mono_ms(cc_clock_system());
    struct lines s;
    struct orch_log_query q = {.tail = -1, .follow = true};
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    int64_t took = cc_mono_ms(cc_clock_system()) - t0;
    assert_int_equal(s.n, 2);
    assert_string_equal(s.text[0], "first");
    assert_string_equal(s.text[1], "second");
    assert_true(took >= 1000);   /* it waited for the second line */
    assert_true(took < 15000);   /* and ended when the container stopped */
}

struct canceller {
    atomic_bool flag;
};

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    sleep_ms(500);
    atomic_store(&c->flag, true);
    return NULL;
}

static void test_logs_follow_cancel(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  quiet:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sleep, '300']\n"
                  "    init: true\n");
    prepare(f);
    struct inst_copy c;
    up(f, "quiet", no_limits, &c);
    struct canceller cn;
    atomic_init(&cn.flag, false);
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, &cn);
    int64_t t0 = cc_mono_ms(cc_clock_system());
    struct lines s;
    struct orch_log_query q = {.tail = 10, .follow = true, .cancel = &cn.flag};
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    int64_t took = cc_mono_ms(cc_clock_system()) - t0;
    pthread_join(t, NULL);
    assert_true(took >= 400);
    assert_true(took < 2000);
}

static void test_exec_codes_and_timeout(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  box:\n"
                  "    image: " BUSYBOX "\n"
                  "    command: [sleep, '300']\n"
                  "    init: true\n");
    prepare(f);
    struct inst_copy c;
    up(f, "box", no_limits, &c);
    struct orch_exec_result res;
    assert_int_equal(run_exec(f, c.id, "echo hello; echo oops >&2; exit 3", 5000, &res), CC_OK);
    assert_int_equal(res.exit_code, 3);
    assert_false(res.timed_out);
    assert_non_null(strstr(res.output, "hello\n"));
    assert_non_null(strstr(res.output, "oops\n"));
    /* long output keeps its last bytes */
    assert_int_equal(run_exec(f, c.id, "seq 1 5000", 5000, &res), CC_OK);
    assert_int_equal(res.exit_code, 0);
    assert_int_equal(res.len, ORCH_EXEC_OUTPUT_MAX - 1);
    assert_non_null(strstr(res.output, "4999\n5000\n"));
    int64_t t0 = cc_mono_ms(cc_clock_system());
    assert_int_equal(run_exec(f, c.id, "sleep 30", 1000, &res), CC_OK);
    int64_t took = cc_mono_ms(cc_clock_system()) - t0;
    assert_true(res.timed_out);
    assert_int_equal(res.exit_code, -1);
    assert_true(took < 5000);
    /* exec in a stopped container */
    struct orch_err e = {0};
    assert_int_equal(f->d->ops->stop(f->d, c.id, 1000000000, &e), CC_OK);
    char *const argv[] = {"true", NULL};
    assert_int_not_equal(f->d->ops->exec(f->d, c.id, argv, 1000000000, &res, &e), CC_OK);
}

static void test_build(void **state)
{
    struct fixture *f = *state;
    char ctx[256], path[300];
    snprintf(ctx, sizeof(ctx), "%s/ctx", f->dir);
    mkdir(ctx, 0755);
    snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
    write_file(path, "FROM " BUSYBOX "\nCOPY hello.txt /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n",
               0644);
    snprintf(path, sizeof(path), "%s/hello.txt", ctx);
    write_file(path, "built here\n", 0644);
    snprintf(path, sizeof(path), "%s/.dockerignore", ctx);
    write_file(path, "secret.key\n", 0644);
    snprintf(path, sizeof(path), "%s/secret.key", ctx);
    write_file(path, "nope\n", 0644);
    load_stack(f, "services:\n"
                  "  built:\n"
                  "    build: ./ctx\n");
    prepare(f);
    struct inst_copy c;
    up(f, "built", no_limits, &c);
    assert_int_equal(wait_exited(f, c.id, 10000).exit_code, 0);
    struct lines s;
    struct orch_log_query q = {.tail = -1};
    assert_int_equal(logs(f, c.id, q, &s), CC_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.text[0], "built here");

    /* .dockerignore kept secret.key out of the context */
    snprintf(path, sizeof(path), "%s/Dockerfile", ctx);
    write_file(path, "FROM " BUSYBOX "\nCOPY secret.key /k\n", 0644);
    struct orch_err e = {0};
    cc_err rc = f->d->ops->prepare(f->d, f->project, f->stack, NULL, NULL, &e);
    assert_int_equal(rc, CC_EINVAL);
    assert_non_null(strstr(e.msg, "build failed"));
    char tag[128];
    snprintf(tag, sizeof(tag), "%s-built", f->project);
    /* the image is removed with the test's other leftovers */
    char url[300];
    snprintf(url, sizeof(url), "http://docker/images/%s?force=1", tag);
    f->d->ops->remove(f->d, c.id, NULL);
    struct cc_http_req r = {.method = "DELETE", .url = url, .timeout_ms = 10000,
                            .unix_path = engine() + 7};
    struct cc_buf raw;
    cc_buf_init(&raw, 1 << 20);
    struct cc_http_answer a;
    char err[200];
    assert_int_equal(cc_http_request(&r, &raw, &a, err, sizeof(err)), CC_OK);
    assert_int_equal(a.status, 200);
    cc_buf_release(&raw);
}

static void test_missing_image(void **state)
{
    struct fixture *f = *state;
    load_stack(f, "services:\n"
                  "  ghost:\n"
                  "    image: cc-test/does-not-exist:1\n");
    prepare(f);
    struct inst_copy c;
    struct orch_err e = {0};
    assert_int_equal(create_svc(f, "ghost", no_limits, &c, &e), CC_ENOTFOUND);
    assert_non_null(strstr(e.msg, "cc-test/does-not-exist:1"));
    assert_non_null(strstr(e.hint, "docker import"));
}

static void test_port_in_use(void **state)
{
    struct fixture *f = *state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s, 1), 0);
    socklen_t len = sizeof(sa);
    getsockname(s, (struct sockaddr *)&sa, &len);
    unsigned port = ntohs(sa.sin_port);
    char yaml[400];
    snprintf(yaml, sizeof(yaml),
             "services:\n"
             "  web:\n"
             "    image: " BUSYBOX "\n"
             "    command: [sleep, '300']\n"
             "    ports: ['127.0.0.1:%u:80']\n", port);
    load_stack(f, yaml);
    prepare(f);
    struct inst_copy c;
    struct orch_err e = {0};
    cc_err rc = create_svc(f, "web", no_limits, &c, &e);
    if (rc == CC_OK)
        rc = f->d->ops->start(f->d, c.id, &e);
    close(s);
    if (rc != CC_ECONFLICT || !strstr(e.hint, "127.0.0.1:"))
        print_error("got %s: %s (%s)\n", cc_err_name(rc), e.msg, e.hint);
    assert_int_equal(rc, CC_ECONFLICT);
    char p[16];
    snprintf(p, sizeof(p), "%u", port);
    assert_non_null(strstr(e.hint, p));
}

static void test_engine_down(void **state)
{
    (void)state;
    struct orch_driver *d = NULL;
    struct orch_driver_cfg cfg = {.docker_host = "unix:///tmp/cc-no-engine-here/docker.sock"};
    struct orch_err e = {0};
    assert_int_equal(orch_docker_ops.open(&cfg, &d, &e), CC_OK);
    int64_t t0 = cc_mono_ms(cc_clock_system());
    assert_int_equal(d->ops->ping(d, &e), CC_EUPSTREAM);
    assert_non_null(strstr(e.msg, "engine unavailable at unix:///tmp/cc-no-engine-here"));
    assert_true(e.hint[0] != '\0');
    struct inst_copy c = {0};
    assert_int_equal(d->ops->list(d, NULL, copy_inst, &c, &e), CC_EUPSTREAM);
    assert_true(cc_mono_ms(cc_clock_system()) - t0 < 3000);
    d->ops->close(d);

    /* a bad address is a configuration error, not an outage */
    cfg.docker_host = "ssh://somewhere";
    assert_int_equal(orch_docker_ops.open(&cfg, &d, &e), CC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_labels_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oom_killed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_security, setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_network, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logs_follow_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_codes_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
        cmocka_unit_test(test_engine_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
