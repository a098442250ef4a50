/*
 * docker_api.c - the Docker Engine API transport: version negotiation,
 * requests with retries for idempotent calls, and the mapping of the
 * Engine's answers to the driver's errors (driver.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/httpc.h"
#include "core/retry.h"
#include "orchestrator/docker_int.h"

#define API_MAX_MAJOR 1
#define API_MAX_MINOR 41
#define ANSWER_MAX    ((size_t)64 << 20)

void orch__ans_release(struct orch__ans *a)
{
    json_decref(a->json);
    a->json = NULL;
}

void orch__urlenc(const char *s, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (outsz)
        out[o] = '\0';
}

static void fill_answer(struct orch__ans *a, long status, const char *body, size_t len)
{
    a->status = status;
    a->json = NULL;
    a->msg[0] = '\0';
    if (len) {
        json_error_t je;
        a->json = json_loadb(body, len, JSON_DECODE_ANY, &je);
    }
    const char *m = a->json ? json_string_value(json_object_get(a->json, "message")) : NULL;
    if (m) {
        snprintf(a->msg, sizeof(a->msg), "%s", m);
    } else if (len && status >= 300) {
        size_t n = len < sizeof(a->msg) - 1 ? len : sizeof(a->msg) - 1;
        memcpy(a->msg, body, n);
        a->msg[n] = '\0';
        a->msg[strcspn(a->msg, "\r\n")] = '\0';
    }
}

static cc_err unavailable(struct orch__docker *d, const char *why, struct orch_err *e)
{
    return orch_errf(e, CC_EUPSTREAM,
                     "start the Docker engine (or Podman's socket) or fix DOCKER_HOST / "
                     "orchestrator.docker_host",
                     "engine unavailable at %s: %s", d->host, why);
}

/* One raw exchange; CC_EUPSTREAM with why on transport failure. */
static cc_err exchange(struct orch__docker *d, const char *method, const char *path,
                       const struct orch__req *r, struct orch__ans *a, struct cc_buf *raw,
                       struct cc_http_answer *ha, char *why, size_t whysz)
{
    char url[2300];
    snprintf(url, sizeof(url), "%s%s", d->base_url, path);
    const char *hdrs[2] = {NULL, NULL};
    char ct[128];
    if (r && r->body) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", r->ctype ? r->ctype : "application/json");
        hdrs[0] = ct;
    }
    struct cc_http_req hr = {
        .method = method,
        .url = url,
        .headers = hdrs,
        .body = r ? r->body : NULL,
        .body_len = r ? r->body_len : 0,
        .timeout_ms = r && r->timeout_ms > 0 ? r->timeout_ms : 30000,
        .unix_path = d->unix_path[0] ? d->unix_path : NULL,
    };
    cc_buf_reset(raw);
    cc_err rc = cc_http_request(&hr, raw, ha, why, whysz);
    if (rc)
        return rc == CC_EINVAL ? CC_EINVAL : CC_EUPSTREAM;
    fill_answer(a, ha->status, ha->body, ha->len);
    return CC_OK;
}

static void set_api(struct orch__docker *d, const char *server)
{
    int maj = 0, min = 0;
    if (sscanf(server, "%d.%d", &maj, &min) != 2 || maj < 1)
        maj = API_MAX_MAJOR, min = API_MAX_MINOR;
    if (maj > API_MAX_MAJOR || (maj == API_MAX_MAJOR && min > API_MAX_MINOR))
        maj = API_MAX_MAJOR, min = API_MAX_MINOR;
    pthread_mutex_lock(&d->mu);
    snprintf(d->api, sizeof(d->api), "v%d.%d", maj, min);
    pthread_mutex_unlock(&d->mu);
}

cc_err orch__docker_ping(struct orch__docker *d, struct orch_err *e)
{
    struct cc_buf raw;
    cc_buf_init(&raw, 1 << 16);
    struct cc_http_answer ha = {0};
    struct orch__ans a = {0};
    struct orch__req r = {.timeout_ms = 5000};
    char why[256];
    cc_err rc = exchange(d, "GET", "/_ping", &r, &a, &raw, &ha, why, sizeof(why));
    if (rc) {
        rc = unavailable(d, why, e);
        goto out;
    }
    if (a.status != 200) {
        rc = orch_errf(e, CC_EUPSTREAM, "check that DOCKER_HOST points at a Docker engine",
                       "engine at %s answered /_ping with HTTP %ld%s%s", d->host, a.status,
                       a.msg[0] ? ": " : "", a.msg);
        goto out;
    }
    char ver[32];
    if (!cc_http_header(ha.headers, ha.headers_len, "Api-Version", ver, sizeof(ver)))
        snprintf(ver, sizeof(ver), "1.41");
    set_api(d, ver);
out:
    orch__ans_release(&a);
    cc_buf_release(&raw);
    return rc;
}

static cc_err api_prefix(struct orch__docker *d, char *out, size_t outsz, struct orch_err *e)
{
    pthread_mutex_lock(&d->mu);
    bool have = d->api[0] != '\0';
    pthread_mutex_unlock(&d->mu);
    if (!have) {
        cc_err rc = orch__docker_ping(d, e);
        if (rc)
            return rc;
    }
    pthread_mutex_lock(&d->mu);
    snprintf(out, outsz, "/%s", d->api);
    pthread_mutex_unlock(&d->mu);
    return CC_OK;
}

struct call_ctx {
    struct orch__docker *d;
    const struct orch__req *r;
    struct orch__ans *a;
    struct cc_buf *raw;
    char path[2100];
    char why[256];
};

static cc_err call_once(void *arg)
{
    struct call_ctx *c = arg;
    struct cc_http_answer ha = {0};
    orch__ans_release(c->a);
    cc_err rc = exchange(c->d, c->r->method, c->path, c->r, c->a, c->raw, &ha, c->why,
                         sizeof(c->why));
    if (rc)
        return rc;
    /* A 5xx of an idempotent call is worth another try; the answer stays
     * in c->a for the caller if every try fails. */
    if (c->a->status >= 500 && c->r->idempotent)
        return CC_EAGAIN;
    return CC_OK;
}

cc_err orch__docker_call(struct orch__docker *d, const struct orch__req *r, struct orch__ans *a,
                         struct orch_err *e)
{
    memset(a, 0, sizeof(*a));
    char prefix[24];
    cc_err rc = api_prefix(d, prefix, sizeof(prefix), e);
    if (rc)
        return rc;
    struct cc_buf raw;
    cc_buf_init(&raw, ANSWER_MAX);
    struct call_ctx c = {.d = d, .r = r, .a = a, .raw = &raw};
    snprintf(c.path, sizeof(c.path), "%s%s", prefix, r->path);
    struct cc_retry policy = {
        .backoff = {.initial_ms = 100, .max_ms = 1000, .multiplier = 2.0, .jitter = 0.2},
        .max_attempts = r->idempotent ? 3 : 1,
        .deadline_ms = 5000,
    };
    rc = cc_retry_run(&policy, cc_clock_system(), call_once, &c, NULL);
    cc_buf_release(&raw);
    if (rc == CC_EAGAIN)        /* a 5xx every time: the caller maps it */
        return CC_OK;
    if (rc == CC_EINVAL)
        return orch_errf(e, CC_EINVAL, "use unix:///path or tcp://host:port",
                         "bad engine address %s: %s", d->host, c.why);
    if (rc)
        return unavailable(d, c.why, e);
    return CC_OK;
}

struct stream_ctx {
    struct orch__ans *a;
    struct cc_buf err_body;
    bool ok;
    bool (*body)(void *arg, const char *p, size_t n);
    void *arg;
};

static bool stream_head(void *arg, long status, const char *headers, size_t len)
{
    (void)headers;
    (void)len;
    struct stream_ctx *s = arg;
    s->a->status = status;
    s->ok = status < 300;
    return true;
}

static bool stream_body(void *arg, const char *p, size_t n)
{
    struct stream_ctx *s = arg;
    if (s->ok)
        return s->body(s->arg, p, n);
    cc_buf_add(&s->err_body, p, n);   /* an error body: keep its start */
    return true;
}

cc_err orch__docker_stream(struct orch__docker *d, const struct orch__req *r,
                           bool (*body)(void *arg, const char *p, size_t n), void *arg,
                           const atomic_bool *cancel, int64_t body_timeout_ms,
                           struct orch__ans *a, struct orch_err *e)
{
    memset(a, 0, sizeof(*a));
    char prefix[24];
    cc_err rc = api_prefix(d, prefix, sizeof(prefix), e);
    if (rc)
        return rc;
    char url[2400];
    snprintf(url, sizeof(url), "%s%s%s", d->base_url, prefix, r->path);
    const char *hdrs[2] = {NULL, NULL};
    char ct[128];
    if (r->body) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", r->ctype ? r->ctype : "application/json");
        hdrs[0] = ct;
    }
    struct cc_http_req hr = {
        .method = r->method,
        .url = url,
        .headers = hdrs,
        .body = r->body,
        .body_len = r->body_len,
        .timeout_ms = r->timeout_ms > 0 ? r->timeout_ms : 30000,
        .unix_path = d->unix_path[0] ? d->unix_path : NULL,
    };
    struct stream_ctx s = {.a = a, .body = body, .arg = arg};
    cc_buf_init(&s.err_body, 1 << 16);
    struct cc_http_sink sink = {.head = stream_head, .body = stream_body, .arg = &s,
                                .cancel = cancel, .body_timeout_ms = body_timeout_ms};
    char why[256];
    rc = cc_http_stream(&hr, &sink, NULL, why, sizeof(why));
    if (rc == CC_EUPSTREAM && a->status && !strcmp(why, "timed out")) {
        rc = orch_errf(e, CC_ETIMEOUT, NULL, "the engine's answer did not end in time");
    } else if (rc == CC_EUPSTREAM) {
        rc = unavailable(d, why, e);
    } else if (rc) {
        rc = orch_errf(e, rc, NULL, "engine at %s: %s", d->host, why);
    } else if (!s.ok && a->status) {
        fill_answer(a, a->status, s.err_body.ptr ? s.err_body.ptr : "", s.err_body.len);
    }
    cc_buf_release(&s.err_body);
    return rc;
}

/* "Bind for 127.0.0.1:8080 failed" / "listen tcp4 0.0.0.0:8080: bind: ..."
 * -> "127.0.0.1:8080" */
static void port_of(const char *msg, char *out, size_t outsz)
{
    out[0] = '\0';
    const char *p = strstr(msg, "Bind for ");
    if (p)
        p += 9;
    else if ((p = strstr(msg, "listen tcp")) || (p = strstr(msg, "listen udp"))) {
        p = strchr(p + 7, ' ');   /* past "listen tcp4" */
        p = p ? p + 1 : NULL;
    }
    if (!p)
        return;
    size_t n = strcspn(p, " ");
    while (n && p[n - 1] == ':')
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

cc_err orch__docker_fail(struct orch__docker *d, const struct orch__ans *a, const char *what,
                         struct orch_err *e)
{
    const char *m = a->msg[0] ? a->msg : "no message";
    if (a->status == 404) {
        const char *img = strstr(m, "No such image: ");
        if (img)
            return orch_errf(e, CC_ENOTFOUND,
                             "build it (a `build:` section) or load it into the engine "
                             "(`docker load`, or `docker import` a root filesystem), then "
                             "start again",
                             "image \"%s\" not found", img + 15);
        return orch_errf(e, CC_ENOTFOUND, NULL, "%s not found: %s", what, m);
    }
    if (a->status == 409)
        return orch_errf(e, CC_ECONFLICT, "remove the other one or rename this one",
                         "%s: conflict: %s", what, m);
    if (strstr(m, "port is already allocated") || strstr(m, "address already in use")) {
        char port[96];
        port_of(m, port, sizeof(port));
        char hint[256];
        snprintf(hint, sizeof(hint),
                 "something else listens on %s: stop it or publish another host port "
                 "(`ports:`)", port[0] ? port : "the published port");
        return orch_errf(e, CC_ECONFLICT, hint, "%s: port %s is already in use", what,
                         port[0] ? port : "(unknown)");
    }
    if (a->status >= 500 || a->status == 0)
        return orch_errf(e, CC_EUPSTREAM, "look at the engine's log; the call is retried",
                         "%s: the engine at %s failed (HTTP %ld): %s", what, d->host,
                         a->status, m);
    return orch_errf(e, CC_EINVAL, "fix the service definition", "%s: the engine refused it: %s",
                     what, m);
}
