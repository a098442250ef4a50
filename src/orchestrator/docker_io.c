/*
 * docker_io.c - the docker driver's streams: exec (create, start with the
 * hijacked multiplexed stream, inspect for the exit code), logs (with the
 * streaming frame decoder, bounded whatever the log size) and stats
 * (computed as `docker stats` does).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "orchestrator/docker_int.h"

static struct orch__docker *dk(struct orch_driver *d)
{
    return (struct orch__docker *)d;
}

static cc_err call(struct orch__docker *d, const char *method, const char *path, json_t *body,
                   bool idempotent, struct orch__ans *a, struct orch_err *e)
{
    struct orch__req r = {.method = method, .idempotent = idempotent};
    snprintf(r.path, sizeof(r.path), "%s", path);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (text) {
        r.body = text;
        r.body_len = strlen(text);
    }
    cc_err rc = orch__docker_call(d, &r, a, e);
    free(text);
    return rc;
}

/* ---- exec -------------------------------------------------------------- */

struct exec_ctx {
    struct orch__mux mux;
    struct orch_exec_result *out;
};

static bool exec_bytes(void *arg, int stream, const char *p, size_t n)
{
    struct exec_ctx *x = arg;
    (void)stream;
    orch_exec_keep_tail(x->out, p, n);
    return true;
}

static bool exec_body(void *arg, const char *p, size_t n)
{
    struct exec_ctx *x = arg;
    return orch__mux_feed(&x->mux, p, n, exec_bytes, x);
}

static void sleep_ms(int ms)
{
    cc_clock_system()->sleep_ms(cc_clock_system(), ms);
}

cc_err orch__docker_exec(struct orch_driver *drv, const char *id, char *const argv[],
                         int64_t timeout_ns, struct orch_exec_result *out, struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    memset(out, 0, sizeof(*out));
    out->exit_code = -1;
    if (!argv || !argv[0])
        return orch_errf(e, CC_EINVAL, NULL, "exec needs a command");
    json_t *cmd = json_array();
    for (size_t i = 0; argv[i]; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    json_t *body = json_pack("{s:b, s:b, s:b, s:o}", "AttachStdin", 0, "AttachStdout", 1,
                             "AttachStderr", 1, "Cmd", cmd);
    char path[600], enc[400];
    orch__urlenc(id, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/containers/%s/exec", enc);
    struct orch__ans a;
    cc_err rc = call(d, "POST", path, body, false, &a, e);
    json_decref(body);
    if (rc)
        return rc;
    if (a.status == 409) {
        rc = orch_errf(e, CC_ESTATE, "start it first", "container %s is not running: %s", id,
                       a.msg);
        orch__ans_release(&a);
        return rc;
    }
    if (a.status >= 300) {
        char what[500];
        snprintf(what, sizeof(what), "container %s", id);
        rc = orch__docker_fail(d, &a, what, e);
        orch__ans_release(&a);
        return rc;
    }
    char eid[128];
    snprintf(eid, sizeof(eid), "%s", json_string_value(json_object_get(a.json, "Id")) ?: "");
    orch__ans_release(&a);
    if (!eid[0])
        return orch_errf(e, CC_EUPSTREAM, NULL, "the engine created an exec without an id");

    int64_t timeout_ms = timeout_ns > 0 ? (timeout_ns + 999999) / 1000000 : 0;
    struct orch__req r = {.method = "POST", .body = "{\"Detach\":false,\"Tty\":false}",
                          .timeout_ms = timeout_ms > 0 && timeout_ms < 30000 ? timeout_ms : 30000};
    r.body_len = strlen(r.body);
    snprintf(r.path, sizeof(r.path), "/exec/%s/start", eid);
    struct exec_ctx x = {.out = out};
    struct orch_err serr;
    rc = orch__docker_stream(d, &r, exec_body, &x, NULL, timeout_ms, &a, &serr);
    if (!rc && a.status >= 300) {
        rc = orch__docker_fail(d, &a, "exec", e);
        orch__ans_release(&a);
        return rc;
    }
    orch__ans_release(&a);
    if (rc == CC_ETIMEOUT) {
        out->timed_out = true;
    } else if (rc) {
        if (e)
            *e = serr;
        return rc;
    }

    snprintf(path, sizeof(path), "/exec/%s/json", eid);
    for (int tries = 0;; tries++) {
        rc = call(d, "GET", path, NULL, true, &a, e);
        if (rc)
            return rc;
        if (a.status != 200) {
            rc = orch__docker_fail(d, &a, "exec", e);
            orch__ans_release(&a);
            return rc;
        }
        bool running = json_is_true(json_object_get(a.json, "Running"));
        int pid = (int)json_integer_value(json_object_get(a.json, "Pid"));
        int code = (int)json_integer_value(json_object_get(a.json, "ExitCode"));
        orch__ans_release(&a);
        if (!running) {
            if (!out->timed_out)
                out->exit_code = code;
            break;
        }
        if (out->timed_out) {
            /* The Engine API cannot kill an exec; on a local engine its
             * host pid can be. */
            if (d->unix_path[0] && pid > 1)
                kill(pid, SIGKILL);
            break;
        }
        if (tries >= 100)   /* the stream ended but the process did not say so */
            break;
        sleep_ms(20);
    }
    return CC_OK;
}

/* ---- logs -------------------------------------------------------------- */

struct logs_ctx {
    struct orch__mux mux;
    struct orch__lines out, err;
    bool tty;
};

static bool logs_bytes(void *arg, int stream, const char *p, size_t n)
{
    struct logs_ctx *c = arg;
    if (stream == 2)
        return orch__lines_feed(&c->err, p, n);
    if (stream == 1 || stream == 3)
        return orch__lines_feed(&c->out, p, n);
    return true;
}

static bool logs_body(void *arg, const char *p, size_t n)
{
    struct logs_ctx *c = arg;
    if (c->tty)
        return orch__lines_feed(&c->out, p, n);
    return orch__mux_feed(&c->mux, p, n, logs_bytes, c);
}

cc_err orch__docker_logs(struct orch_driver *drv, const char *id, const struct orch_log_query *q,
                         orch_log_cb cb, void *arg, struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    json_t *j = NULL;
    cc_err rc = orch__docker_inspect_json(d, id, &j, e);
    if (rc)
        return rc;
    struct logs_ctx c = {
        .tty = json_is_true(json_object_get(json_object_get(j, "Config"), "Tty")),
        .out = {.stream = ORCH_STDOUT, .timestamps = true, .cb = cb, .arg = arg},
        .err = {.stream = ORCH_STDERR, .timestamps = true, .cb = cb, .arg = arg},
    };
    json_decref(j);
    char enc[400];
    orch__urlenc(id, enc, sizeof(enc));
    struct orch__req r = {.method = "GET", .timeout_ms = 30000};
    int n = snprintf(r.path, sizeof(r.path),
                     "/containers/%s/logs?stdout=1&stderr=1&timestamps=1&follow=%d", enc,
                     q->follow ? 1 : 0);
    if (q->tail >= 0)
        n += snprintf(r.path + n, sizeof(r.path) - (size_t)n, "&tail=%ld", q->tail);
    else
        n += snprintf(r.path + n, sizeof(r.path) - (size_t)n, "&tail=all");
    if (q->since_ns > 0)
        n += snprintf(r.path + n, sizeof(r.path) - (size_t)n, "&since=%" PRId64 ".%09" PRId64,
                      q->since_ns / 1000000000, q->since_ns % 1000000000);
    if (q->until_ns > 0)
        snprintf(r.path + n, sizeof(r.path) - (size_t)n, "&until=%" PRId64 ".%09" PRId64,
                 q->until_ns / 1000000000, q->until_ns % 1000000000);
    struct orch__ans a;
    rc = orch__docker_stream(d, &r, logs_body, &c, q->cancel, q->follow ? 0 : 120000, &a, e);
    if (!rc && a.status >= 300) {
        char what[500];
        snprintf(what, sizeof(what), "container %s", id);
        rc = orch__docker_fail(d, &a, what, e);
    }
    orch__ans_release(&a);
    if (!rc && !c.out.stopped && !c.err.stopped) {
        orch__lines_flush(&c.out);
        if (!c.out.stopped)
            orch__lines_flush(&c.err);
    }
    orch__lines_release(&c.out);
    orch__lines_release(&c.err);
    return rc;
}

/* ---- stats ------------------------------------------------------------- */

static int64_t num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v)
         : json_is_real(v)    ? (int64_t)json_real_value(v)
                              : 0;
}

cc_err orch__docker_stats(struct orch_driver *drv, const char *id, struct orch_usage *out,
                          struct orch_err *e)
{
    struct orch__docker *d = dk(drv);
    json_t *j = NULL;
    cc_err rc = orch__docker_inspect_json(d, id, &j, e);
    if (rc)
        return rc;
    const json_t *hc = json_object_get(j, "HostConfig");
    int64_t want_mem = num(hc, "Memory"), want_pids = num(hc, "PidsLimit");
    json_decref(j);

    char path[600], enc[400];
    orch__urlenc(id, enc, sizeof(enc));
    /* stream=false without one-shot: the engine waits for a second sample,
     * so precpu_stats is filled and the CPU share can be computed. */
    snprintf(path, sizeof(path), "/containers/%s/stats?stream=false", enc);
    struct orch__req r = {.method = "GET", .timeout_ms = 20000, .idempotent = true};
    snprintf(r.path, sizeof(r.path), "%s", path);
    struct orch__ans a;
    rc = orch__docker_call(d, &r, &a, e);
    if (rc)
        return rc;
    if (a.status != 200 || !json_is_object(a.json)) {
        char what[500];
        snprintf(what, sizeof(what), "container %s", id);
        rc = orch__docker_fail(d, &a, what, e);
        orch__ans_release(&a);
        return rc;
    }
    const json_t *cpu = json_object_get(a.json, "cpu_stats");
    const json_t *pre = json_object_get(a.json, "precpu_stats");
    int64_t cpu_delta = num(json_object_get(cpu, "cpu_usage"), "total_usage") -
                        num(json_object_get(pre, "cpu_usage"), "total_usage");
    int64_t sys_delta = num(cpu, "system_cpu_usage") - num(pre, "system_cpu_usage");
    int64_t online = num(cpu, "online_cpus");
    if (online == 0)
        online = (int64_t)json_array_size(
            json_object_get(json_object_get(cpu, "cpu_usage"), "percpu_usage"));
    struct orch_usage u = {0};
    u.cpu_seconds = (double)num(json_object_get(cpu, "cpu_usage"), "total_usage") / 1e9;
    if (cpu_delta > 0 && sys_delta > 0)
        u.cpu_percent = (double)cpu_delta / (double)sys_delta * (double)online * 100.0;
    const json_t *mem = json_object_get(a.json, "memory_stats");
    const json_t *ms = json_object_get(mem, "stats");
    int64_t usage = num(mem, "usage");
    /* docker stats' rule: cgroup v1 total_inactive_file, v2 inactive_file */
    int64_t cache = json_object_get(ms, "total_inactive_file") ? num(ms, "total_inactive_file")
                                                                : num(ms, "inactive_file");
    u.mem_bytes = usage > cache ? usage - cache : usage;
    u.mem_limit = want_mem > 0 ? want_mem : 0;
    u.pids = num(json_object_get(a.json, "pids_stats"), "current");
    u.pids_limit = want_pids > 0 ? want_pids : 0;
    /* A memory limit the kernel could not apply shows as the host's size. */
    int64_t seen_limit = num(mem, "limit");
    u.enforced = !(want_mem > 0 && seen_limit > 0 && seen_limit != want_mem);
    orch__ans_release(&a);
    *out = u;
    return CC_OK;
}
