/*
 * probe.c - probe settings (healthcheck, x-commandcenter, role defaults),
 * Compose's health state machine, and running one exec/HTTP/TCP probe.
 */
#define _GNU_SOURCE
#include "orchestrator/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"

static const char *const roles[] = {"postgres", "redis", "backend", "frontend"};

const char *orch__role(const struct orch_service *svc)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (svc->name && strstr(svc->name, roles[i]))
            return roles[i];
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (svc->image && strstr(svc->image, roles[i]))
            return roles[i];
    return NULL;
}

const char *orch__health_str(enum orch_hstatus h)
{
    switch (h) {
    case ORCH_HEALTH_HEALTHY: return "healthy";
    case ORCH_HEALTH_UNHEALTHY: return "unhealthy";
    case ORCH_HEALTH_STARTING: break;
    }
    return "starting";
}

cc_err orch__status_range(const char *s, int *lo, int *hi)
{
    char *end = NULL;
    errno = 0;
    long a = strtol(s, &end, 10), b = a;
    if (errno || end == s)
        return CC_EINVAL;
    if (*end == '-') {
        const char *t = end + 1;
        b = strtol(t, &end, 10);
        if (errno || end == t)
            return CC_EINVAL;
    }
    if (*end || a < 100 || b > 599 || a > b)
        return CC_EINVAL;
    *lo = (int)a;
    *hi = (int)b;
    return CC_OK;
}

/* ---------------------------------------------------------------------------
 * settings
 */

static char **argv_new(const char *const *v, size_t n)
{
    char **a = cc_xcalloc(n + 1, sizeof(*a));
    for (size_t i = 0; i < n; i++)
        a[i] = cc_xstrdup(v[i]);
    return a;
}

static void argv_free(char **a)
{
    if (!a)
        return;
    for (size_t i = 0; a[i]; i++)
        free(a[i]);
    free(a);
}

void orch__probe_cfg_release(struct orch_probe_cfg *c)
{
    argv_free(c->argv);
    free(c->path);
    c->argv = NULL;
    c->path = NULL;
}

void orch__probe_cfg_copy(struct orch_probe_cfg *dst, const struct orch_probe_cfg *src)
{
    *dst = *src;
    dst->argv = NULL;
    dst->path = src->path ? cc_xstrdup(src->path) : NULL;
    if (src->argv) {
        size_t n = 0;
        while (src->argv[n])
            n++;
        dst->argv = argv_new((const char *const *)src->argv, n);
    }
}

void orch__svc_opts_release(struct orch_svc_opts *o)
{
    orch__probe_cfg_release(&o->probe);
}

struct xerr {
    char *buf;
    size_t sz;
    const char *svc;
};

__attribute__((format(printf, 3, 4)))
static cc_err bad(struct xerr *x, const char *key, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(x->buf, x->sz, "services.%s.x-commandcenter.%s: %s", x->svc, key, what);
    return CC_EINVAL;
}

/* A duration: "10s", "250ms", "1m", or a number of seconds. */
static cc_err json_duration(struct xerr *x, const char *key, json_t *v, int64_t *out)
{
    if (json_is_string(v)) {
        int64_t ms = 0;
        if (cc_parse_duration_ms(json_string_value(v), &ms) || ms < 0)
            return bad(x, key, "'%s' is not a duration; write e.g. 10s, 500ms or 1m",
                       json_string_value(v));
        *out = ms;
        return CC_OK;
    }
    if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) < 86400.0 * 365) {
        *out = (int64_t)(json_number_value(v) * 1000.0);
        return CC_OK;
    }
    return bad(x, key, "expected a duration such as 10s%s", "");
}

/* x-commandcenter comes from YAML as strings; JSON numbers are taken too. */
static bool json_int(json_t *v, long lo, long hi, long *out)
{
    long n;
    if (json_is_integer(v)) {
        n = (long)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        errno = 0;
        n = strtol(s, &end, 10);
        if (errno || end == s || *end)
            return false;
    } else {
        return false;
    }
    if (n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

/* 1 true, 0 false, -1 neither. */
static int json_bool(json_t *v)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "on") == 0))
        return 1;
    if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 || strcmp(s, "off") == 0))
        return 0;
    return -1;
}

static cc_err json_port(struct xerr *x, const char *key, json_t *v, unsigned *out)
{
    long n = 0;
    if (!json_int(v, 1, 65535, &n))
        return bad(x, key, "expected a port number 1-65535%s", "");
    *out = (unsigned)n;
    return CC_OK;
}

static cc_err check_keys(struct xerr *x, const char *where, json_t *o,
                         const char *const *known)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok = ok || strcmp(k, known[i]) == 0;
        if (!ok) {
            char list[200] = "";
            size_t used = 0;
            for (size_t i = 0; known[i] && used < sizeof(list); i++)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                         i ? ", " : "", known[i]);
            char key[160];
            snprintf(key, sizeof(key), "%s%s%s", where, *where ? "." : "", k);
            return bad(x, key, "unknown key; known keys are %s", list);
        }
    }
    return CC_OK;
}

static cc_err probe_http(struct xerr *x, json_t *h, struct orch_probe_cfg *c)
{
    static const char *const known[] = {"port", "path", "status", NULL};
    if (!json_is_object(h))
        return bad(x, "probe.http", "expected a mapping {port, path, status}%s", "");
    cc_err err = check_keys(x, "probe.http", h, known);
    if (err)
        return err;
    json_t *port = json_object_get(h, "port"), *path = json_object_get(h, "path"),
           *status = json_object_get(h, "status");
    if (!port)
        return bad(x, "probe.http.port", "missing; name the container port to GET%s", "");
    if ((err = json_port(x, "probe.http.port", port, &c->port)))
        return err;
    if (path && (!json_is_string(path) || json_string_value(path)[0] != '/' ||
                 strpbrk(json_string_value(path), " \r\n")))
        return bad(x, "probe.http.path", "expected a path starting with '/'%s", "");
    c->path = cc_xstrdup(path ? json_string_value(path) : "/");
    if (status) {
        char s[32];
        if (json_is_integer(status))
            snprintf(s, sizeof(s), "%lld", (long long)json_integer_value(status));
        else if (json_is_string(status))
            snprintf(s, sizeof(s), "%s", json_string_value(status));
        else
            s[0] = 0;
        if (orch__status_range(s, &c->status_lo, &c->status_hi))
            return bad(x, "probe.http.status", "expected a status or range such as "
                       "\"200-399\"%s", "");
    }
    c->kind = ORCH_PROBE_HTTP;
    return CC_OK;
}

static cc_err probe_exec(struct xerr *x, json_t *v, struct orch_probe_cfg *c)
{
    if (json_is_string(v) && json_string_length(v) > 0) {
        const char *sh[] = {"/bin/sh", "-c", json_string_value(v)};
        c->argv = argv_new(sh, 3);
    } else if (json_is_array(v) && json_array_size(v) > 0 &&
               json_array_size(v) <= ORCH_PROBE_ARGV_MAX) {
        const char *a[ORCH_PROBE_ARGV_MAX];
        for (size_t i = 0; i < json_array_size(v); i++) {
            a[i] = json_string_value(json_array_get(v, i));
            if (!a[i])
                return bad(x, "probe.exec", "every argument must be a string%s", "");
        }
        c->argv = argv_new(a, json_array_size(v));
    } else {
        return bad(x, "probe.exec", "expected a command line string (run with /bin/sh -c) or "
                   "an argv list of 1-64 strings%s", "");
    }
    c->kind = ORCH_PROBE_EXEC;
    return CC_OK;
}

static cc_err xcc_probe(struct xerr *x, json_t *p, struct orch_probe_cfg *c)
{
    static const char *const known[] = {"exec", "http", "tcp", "interval", "timeout",
                                        "retries", "start_period", "start_interval", NULL};
    if (!json_is_object(p))
        return bad(x, "probe", "expected a mapping with one of exec, http, tcp%s", "");
    cc_err err = check_keys(x, "probe", p, known);
    if (err)
        return err;
    int kinds = !!json_object_get(p, "exec") + !!json_object_get(p, "http") +
                !!json_object_get(p, "tcp");
    if (kinds != 1)
        return bad(x, "probe", "give exactly one of exec, http, tcp%s", "");
    orch__probe_cfg_release(c);
    c->kind = ORCH_PROBE_NONE;
    json_t *v;
    if ((v = json_object_get(p, "exec")))
        err = probe_exec(x, v, c);
    else if ((v = json_object_get(p, "http")))
        err = probe_http(x, v, c);
    else {
        static const char *const tknown[] = {"port", NULL};
        v = json_object_get(p, "tcp");
        if (!json_is_object(v))
            return bad(x, "probe.tcp", "expected a mapping {port}%s", "");
        if ((err = check_keys(x, "probe.tcp", v, tknown)))
            return err;
        if (!json_object_get(v, "port"))
            return bad(x, "probe.tcp.port", "missing; name the container port to connect "
                       "to%s", "");
        err = json_port(x, "probe.tcp.port", json_object_get(v, "port"), &c->port);
        if (!err)
            c->kind = ORCH_PROBE_TCP;
    }
    if (err)
        return err;
    snprintf(c->source, sizeof(c->source), "x-commandcenter");
    struct { const char *key; int64_t *dst; } durs[] = {
        {"interval", &c->interval_ms}, {"timeout", &c->timeout_ms},
        {"start_period", &c->start_period_ms}, {"start_interval", &c->start_interval_ms}};
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        char key[40];
        snprintf(key, sizeof(key), "probe.%s", durs[i].key);
        if ((v = json_object_get(p, durs[i].key)) && (err = json_duration(x, key, v, durs[i].dst)))
            return err;
    }
    if ((v = json_object_get(p, "retries"))) {
        long n = 0;
        if (!json_int(v, 1, 1000, &n))
            return bad(x, "probe.retries", "expected a whole number 1-1000%s", "");
        c->retries = (unsigned)n;
    }
    return CC_OK;
}

static cc_err xcc_unhealthy(struct xerr *x, json_t *v, struct orch_unhealthy_cfg *u)
{
    static const char *const known[] = {"limit", "grace", NULL};
    if (json_bool(v) >= 0) {
        u->enabled = json_bool(v) == 1;
        return CC_OK;
    }
    if (!json_is_object(v))
        return bad(x, "restart_on_unhealthy", "expected false, true or {limit, grace}%s", "");
    cc_err err = check_keys(x, "restart_on_unhealthy", v, known);
    if (err)
        return err;
    json_t *l = json_object_get(v, "limit"), *g = json_object_get(v, "grace");
    if (l) {
        long n = 0;
        if (!json_int(l, 1, 1000, &n))
            return bad(x, "restart_on_unhealthy.limit", "expected a whole number 1-1000%s", "");
        u->limit = (unsigned)n;
    }
    if (g && (err = json_duration(x, "restart_on_unhealthy.grace", g, &u->grace_ms)))
        return err;
    u->enabled = true;
    return CC_OK;
}

/* The compose healthcheck as a probe; false when it gives none. */
static void from_healthcheck(const struct orch_health *h, struct orch_probe_cfg *c)
{
    if (!h->present || h->disable || h->test.n < 2)
        return;
    const char *first = h->test.v[0];
    if (strcmp(first, "CMD") == 0) {
        size_t n = h->test.n - 1;
        if (n > ORCH_PROBE_ARGV_MAX)
            n = ORCH_PROBE_ARGV_MAX;
        c->argv = argv_new((const char *const *)h->test.v + 1, n);
    } else if (strcmp(first, "CMD-SHELL") == 0) {
        const char *sh[] = {"/bin/sh", "-c", h->test.v[1]};
        c->argv = argv_new(sh, 3);
    } else {
        return;
    }
    c->kind = ORCH_PROBE_EXEC;
    snprintf(c->source, sizeof(c->source), "healthcheck");
}

static void role_default(const struct orch_service *svc, const char *role,
                         struct orch_probe_cfg *c)
{
    if (!role)
        return;
    if (strcmp(role, "postgres") == 0) {
        const char *a[] = {"pg_isready", "-U", "commandcenter"};
        c->argv = argv_new(a, 3);
        c->kind = ORCH_PROBE_EXEC;
    } else if (strcmp(role, "redis") == 0) {
        const char *a[] = {"redis-cli", "ping"};
        c->argv = argv_new(a, 2);
        c->kind = ORCH_PROBE_EXEC;
    } else if (svc->nports > 0 && svc->ports[0].target > 0) {
        c->kind = ORCH_PROBE_HTTP;
        c->port = svc->ports[0].target;
        c->path = cc_xstrdup(strcmp(role, "backend") == 0 ? "/health" : "/");
    } else {
        return;
    }
    /* Faster than Compose's bare defaults so a default stack is gated in
     * seconds: probe every second for up to a minute while starting. */
    c->timeout_ms = 5000;
    c->start_period_ms = 60000;
    c->start_interval_ms = 1000;
    snprintf(c->source, sizeof(c->source), "default (%s)", role);
}

cc_err orch__svc_opts(const struct orch_service *svc, const struct cc_config *cfg,
                      struct orch_svc_opts *out, char *err, size_t errsz)
{
    struct xerr x = {.buf = err, .sz = errsz, .svc = svc->name};
    struct orch_svc_opts o = {
        .probe = {.kind = ORCH_PROBE_NONE, .status_lo = 200, .status_hi = 399,
                  .interval_ms = -1, .timeout_ms = -1, .start_period_ms = -1,
                  .start_interval_ms = -1},
        .unhealthy = {.enabled = true, .limit = cfg->orchestrator.unhealthy_limit,
                      .grace_ms = cfg->orchestrator.unhealthy_grace_ms},
        .start_timeout_ms = cfg->orchestrator.start_timeout_ms,
        .role = orch__role(svc),
    };
    cc_err e = CC_OK;
    json_t *xcc = svc->x_commandcenter, *v;
    if (xcc && !json_is_object(xcc) && !json_is_null(xcc)) {
        snprintf(err, errsz, "services.%s.x-commandcenter: expected a mapping with probe, "
                 "restart_on_unhealthy, start_timeout or driver", svc->name);
        return CC_EINVAL;
    }
    if (json_is_object(xcc)) {
        static const char *const known[] = {"probe", "restart_on_unhealthy", "start_timeout",
                                            "driver", NULL};
        if ((e = check_keys(&x, "", xcc, known)))
            goto fail;
        if ((v = json_object_get(xcc, "probe")) && (e = xcc_probe(&x, v, &o.probe)))
            goto fail;
        if ((v = json_object_get(xcc, "restart_on_unhealthy")) &&
            (e = xcc_unhealthy(&x, v, &o.unhealthy)))
            goto fail;
        if ((v = json_object_get(xcc, "start_timeout")) &&
            (e = json_duration(&x, "start_timeout", v, &o.start_timeout_ms)))
            goto fail;
        if ((v = json_object_get(xcc, "driver"))) {
            const char *d = json_string_value(v);
            if (!orch_driver_find(orch_drivers, d)) {
                e = bad(&x, "driver", "expected docker or process%s", "");
                goto fail;
            }
            snprintf(o.driver, sizeof(o.driver), "%s", d);
        }
    }
    const struct orch_health *h = &svc->healthcheck;
    if (o.probe.kind == ORCH_PROBE_NONE && !(h->present && h->disable)) {
        from_healthcheck(h, &o.probe);
        if (o.probe.kind == ORCH_PROBE_NONE && !(h->present && h->test.n >= 1))
            role_default(svc, o.role, &o.probe);
    }
    /* Timings: the probe's own, else the healthcheck's, else Compose's. */
    struct orch_probe_cfg *c = &o.probe;
    int64_t ms = 1000000;
    if (c->interval_ms < 0)
        c->interval_ms = h->interval_ns >= 0 ? h->interval_ns / ms : ORCH_PROBE_INTERVAL_MS;
    if (c->timeout_ms < 0)
        c->timeout_ms = h->timeout_ns >= 0 ? h->timeout_ns / ms : ORCH_PROBE_TIMEOUT_MS;
    if (c->start_period_ms < 0)
        c->start_period_ms = h->start_period_ns >= 0 ? h->start_period_ns / ms : 0;
    if (c->start_interval_ms < 0)
        c->start_interval_ms = h->start_interval_ns >= 0 ? h->start_interval_ns / ms
                                                         : ORCH_PROBE_START_INTERVAL_MS;
    if (c->retries == 0)
        c->retries = h->retries > 0 ? (unsigned)h->retries : ORCH_PROBE_RETRIES;
    if (c->interval_ms < 10)
        c->interval_ms = 10;
    if (c->start_interval_ms < 10)
        c->start_interval_ms = 10;
    if (c->timeout_ms < 10)
        c->timeout_ms = 10;
    o.unhealthy.start_period_ms = c->start_period_ms;
    *out = o;
    return CC_OK;
fail:
    orch__svc_opts_release(&o);
    return e;
}

/* ---------------------------------------------------------------------------
 * state machine
 */

void orch__probe_reset(struct orch_probe_state *st, const struct orch_probe_cfg *c,
                       int64_t now_ms)
{
    memset(st, 0, sizeof(*st));
    st->status = ORCH_HEALTH_STARTING;
    st->started_ms = now_ms;
    st->first_ms = now_ms + (c->start_period_ms > 0 ? c->start_interval_ms : c->interval_ms);
    /* Early checks: Compose's first probe comes one interval after the start,
     * which makes every health gate cost a whole interval. Before it we also
     * probe 100 ms after the start, then 200, 400 ... ms: a success makes the
     * service healthy at once, a failure is shown but not counted. */
    st->early_gap_ms = ORCH_PROBE_EARLY_MS;
    st->next_ms = now_ms + ORCH_PROBE_EARLY_MS < st->first_ms ? now_ms + ORCH_PROBE_EARLY_MS
                                                              : st->first_ms;
}

static bool in_start_period(const struct orch_probe_state *st, const struct orch_probe_cfg *c,
                            int64_t now_ms)
{
    return !st->start_done && now_ms - st->started_ms < c->start_period_ms;
}

enum orch_probe_change orch__probe_record(struct orch_probe_state *st,
                                          const struct orch_probe_cfg *c, bool ok, int code,
                                          const char *text, int64_t now_ms, int64_t wall_ms)
{
    struct orch_probe_output *o = &st->out[st->head];
    o->at_ms = wall_ms;
    o->code = code;
    o->ok = ok;
    snprintf(o->text, sizeof(o->text), "%s", text ? text : "");
    st->head = (st->head + 1) % ORCH_PROBE_OUTPUTS;
    if (st->nout < ORCH_PROBE_OUTPUTS)
        st->nout++;
    st->checked_at_ms = wall_ms;

    enum orch_probe_change ch = ORCH_PROBE_SAME;
    if (!ok && !st->start_done && now_ms < st->first_ms) {   /* an early check */
        st->early_gap_ms *= 2;
        int64_t at = now_ms + st->early_gap_ms;
        st->next_ms = at < st->first_ms ? at : st->first_ms;
        return ch;
    }
    if (ok) {
        st->failing_streak = 0;
        st->start_done = true;
        if (st->status != ORCH_HEALTH_HEALTHY)
            ch = ORCH_PROBE_TO_HEALTHY;
        st->status = ORCH_HEALTH_HEALTHY;
    } else if (!in_start_period(st, c, now_ms)) {
        st->failing_streak++;
        if (st->failing_streak >= c->retries && st->status != ORCH_HEALTH_UNHEALTHY) {
            st->status = ORCH_HEALTH_UNHEALTHY;
            ch = ORCH_PROBE_TO_UNHEALTHY;
        }
    }
    st->next_ms = now_ms + (in_start_period(st, c, now_ms) ? c->start_interval_ms
                                                          : c->interval_ms);
    return ch;
}

const struct orch_probe_output *orch__probe_output(const struct orch_probe_state *st,
                                                   unsigned i)
{
    if (i >= st->nout)
        return NULL;
    unsigned idx = (st->head + ORCH_PROBE_OUTPUTS - 1 - i) % ORCH_PROBE_OUTPUTS;
    return &st->out[idx];
}

/* ---------------------------------------------------------------------------
 * running
 */

/* Probe deadlines are about real sockets and processes: the real clock. */
static int64_t mono_now(void)
{
    return cc_mono_ms(cc_clock_system());
}

/* Connects within the deadline; -1 with why in r->text. */
static int dial(const char *host, unsigned port, int64_t deadline, struct orch_probe_result *r)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc) {
        snprintf(r->text, sizeof(r->text), "resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, lasterr = 0;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            lasterr = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno != EINPROGRESS) {
            lasterr = errno;
            close(fd);
            fd = -1;
            continue;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left = deadline - mono_now();
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (n == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            break;
        lasterr = n == 1 ? soerr : ETIMEDOUT;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0)
        snprintf(r->text, sizeof(r->text), "connect %s:%u: %s", host, port,
                 lasterr == ETIMEDOUT ? "timed out" : strerror(lasterr));
    return fd;
}

void orch__probe_tcp(const char *host, unsigned port, int64_t timeout_ms,
                     struct orch_probe_result *r)
{
    memset(r, 0, sizeof(*r));
    r->code = -1;
    int fd = dial(host, port, mono_now() + timeout_ms, r);
    if (fd < 0)
        return;
    close(fd);
    r->ok = true;
    r->code = 0;
    snprintf(r->text, sizeof(r->text), "connected to %.200s:%u", host, port);
}

static void one_line(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == '\t')
            *p = ' ';
}

void orch__probe_http(const char *host, unsigned port, const char *path, int lo, int hi,
                      int64_t timeout_ms, struct orch_probe_result *r)
{
    memset(r, 0, sizeof(*r));
    r->code = -1;
    int64_t deadline = mono_now() + timeout_ms;
    int fd = dial(host, port, deadline, r);
    if (fd < 0)
        return;
    char req[600];
    bool v6 = strchr(host, ':') != NULL;
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s%s%s:%u\r\nUser-Agent: "
                     "commandcenter-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                     path && *path ? path : "/", v6 ? "[" : "", host, v6 ? "]" : "", port);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        snprintf(r->text, sizeof(r->text), "path too long");
        close(fd);
        return;
    }
    size_t sent = 0;
    char ans[1024];
    size_t got = 0;
    const char *fail = NULL;
    while (sent < (size_t)n && !fail) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left = deadline - mono_now();
        if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
            fail = "timed out sending the request";
            break;
        }
        ssize_t w = send(fd, req + sent, (size_t)n - sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            fail = strerror(errno);
        else if (w > 0)
            sent += (size_t)w;
    }
    /* The status line and the start of the body are all a probe needs. */
    while (!fail && got < sizeof(ans) - 1) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - mono_now();
        if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
            if (!memchr(ans, '\n', got))
                fail = "timed out waiting for the answer";
            break;
        }
        ssize_t k = recv(fd, ans + got, sizeof(ans) - 1 - got, 0);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (k < 0) {
            fail = strerror(errno);
            break;
        }
        if (k == 0)
            break;
        got += (size_t)k;
        if (got > 300 && memchr(ans, '\n', got))
            break;
    }
    close(fd);
    ans[got] = 0;
    if (fail) {
        snprintf(r->text, sizeof(r->text), "GET http://%s:%u%s: %s", host, port, path, fail);
        return;
    }
    int status = 0;
    if (sscanf(ans, "HTTP/%*d.%*d %3d", &status) != 1 || status < 100 || status > 599) {
        snprintf(r->text, sizeof(r->text), "GET http://%s:%u%s: not an HTTP answer", host,
                 port, path);
        return;
    }
    r->code = status;
    r->ok = status >= lo && status <= hi;
    char *body = strstr(ans, "\r\n\r\n");
    body = body ? body + 4 : (char *)"";
    char *eol = strpbrk(ans, "\r\n");
    if (eol)
        *eol = 0;
    snprintf(r->text, sizeof(r->text), "%.120s%s%.120s", ans, *body ? ": " : "", body);
    one_line(r->text);
}

cc_err orch__probe_run(const struct orch_probe_cfg *c, const struct orch_driver_ops *ops,
                       struct orch_driver *d, const char *id, struct orch_probe_result *r,
                       struct orch_err *e)
{
    memset(r, 0, sizeof(*r));
    r->code = -1;
    if (c->kind == ORCH_PROBE_EXEC) {
        struct orch_exec_result *x = cc_xcalloc(1, sizeof(*x));
        cc_err err = ops->exec(d, id, c->argv, c->timeout_ms * 1000000, x, e);
        if (!err) {
            r->code = x->exit_code;
            r->ok = !x->timed_out && x->exit_code == 0;
            size_t len = x->len < sizeof(x->output) ? x->len : sizeof(x->output) - 1;
            x->output[len] = 0;
            while (len && (x->output[len - 1] == '\n' || x->output[len - 1] == ' ' ||
                           x->output[len - 1] == '\r'))
                x->output[--len] = 0;
            if (x->timed_out)
                snprintf(r->text, sizeof(r->text), "timed out after %lld ms%s%.200s",
                         (long long)c->timeout_ms, len ? ": " : "", x->output);
            else
                snprintf(r->text, sizeof(r->text), "%.255s", x->output);
            one_line(r->text);
        } else if (err == CC_EINVAL || err == CC_ENOTFOUND || err == CC_ECONFLICT) {
            /* The command cannot run there: a failed probe, not an outage. */
            snprintf(r->text, sizeof(r->text), "%.255s", e ? e->msg : cc_err_str(err));
            err = CC_OK;
        }
        free(x);
        return err;
    }
    if (c->kind != ORCH_PROBE_HTTP && c->kind != ORCH_PROBE_TCP) {
        r->ok = true;
        r->code = 0;
        return CC_OK;
    }
    char host[256];
    unsigned port = 0;
    cc_err err = ops->endpoint(d, id, c->port, host, sizeof(host), &port, e);
    if (err == CC_ENOTFOUND || err == CC_EINVAL) {
        snprintf(r->text, sizeof(r->text), "no endpoint for port %u: %.200s", c->port,
                 e ? e->msg : cc_err_str(err));
        return CC_OK;
    }
    if (err)
        return err;
    if (c->kind == ORCH_PROBE_HTTP)
        orch__probe_http(host, port, c->path ? c->path : "/", c->status_lo, c->status_hi,
                         c->timeout_ms, r);
    else
        orch__probe_tcp(host, port, c->timeout_ms, r);
    return CC_OK;
}
