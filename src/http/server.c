/*
 * server.c - libmicrohttpd glue: one request's life from its first byte to
 * the access-log line.
 *
 * libmicrohttpd calls us in three places per request:
 *   uri_log()     first, with the raw request-target: we allocate the
 *                 request state (struct conn_req) and count it in flight;
 *   on_request()  one or more times: the first call checks everything that
 *                 does not need the body (size, path, route, auth, rate),
 *                 later calls collect the body, the last one runs the
 *                 handler and queues the response;
 *   completed()   at the end, whatever happened: metrics, access log, free.
 * A request whose checks fail gets its error queued on the first call, so a
 * client that is not allowed in never makes us read its body.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/rand.h"
#include "http/auth.h"
#include "http/authguard.h"
#include "http/conns.h"
#include "http/ratelimit.h"
#include "http/spool.h"
#include "http/stream_int.h"
#include "observe/metrics.h"

#define ARENA_BLOCK 4096
#define ARENA_LIMIT (4u << 20)        /* per request, besides the body */
#define RESP_LIMIT (64u << 20)        /* largest response body we build */
#define REQUEST_ID_MAX 64
#define DRAIN_LIMIT (8u << 20)        /* oversize chunked body read before giving up */

struct http_server {
    struct cc_ctx *ctx;
    struct http_server_cfg cfg;
    struct http_router *router;
    struct http_ratelimit *ratelimit;
    struct http_authguard *authguard; /* failed authentications per address */
    struct MHD_Daemon *mhd;
    unsigned port;
    atomic_int inflight;
    struct obs_family *m_requests;    /* counter {route, method, code} */
    struct obs_family *m_duration;    /* histogram {route, method} */
    struct obs_series *m_inflight;    /* gauge */
    struct obs_series *m_rate_limited;
    struct obs_series *m_rejected;    /* refused before routing (size, syntax) */
    struct http_streams streams;      /* SSE and log follow (stream.c) */
    struct http_conns *conns;         /* receive clocks, slow-client reaper (conns.c) */
    struct obs_series *m_cut;         /* connections cut at http.request_timeout */
};

/* PHASE_REFUSED: a check of the first call built an error answer that is
 * not queued yet (see on_request for when it is). */
enum req_phase { PHASE_NEW, PHASE_BODY, PHASE_REFUSED, PHASE_DONE };

struct conn_req {
    struct http_server *srv;
    struct cc_arena arena;
    struct http_req req;
    struct http_resp resp;
    struct http_principal who;
    struct cc_buf body;
    enum req_phase phase;
    struct http_spool spool;   /* upload routes with http_server_cfg.spool_dir */
    bool spool_failed;         /* the spool file could not be written: 503 */
    bool too_large;            /* body over the limit: drained, then 413 */
    size_t drained;
    const struct http_route *route;
    int64_t start_ms;
    int64_t start_ns;          /* cc_mono_ns of the server's clock */
    char request_id[REQUEST_ID_MAX + 1];
    char client_addr[INET6_ADDRSTRLEN];
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static double elapsed_seconds(struct cc_clock *clock, int64_t start_ns)
{
    return (double)(cc_mono_ns(clock) - start_ns) / 1e9;
}

static bool request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok || n >= REQUEST_ID_MAX)
            return false;
    }
    return n > 0;
}

static void new_request_id(char out[REQUEST_ID_MAX + 1])
{
    /* Request ids need to be unique, not secret: the cheap generator does. */
    snprintf(out, REQUEST_ID_MAX + 1, "%016llx%016llx",
             (unsigned long long)cc_jitter_u64(UINT64_MAX),
             (unsigned long long)cc_jitter_u64(UINT64_MAX));
}

static void client_address(struct MHD_Connection *c, char *out, size_t outsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, outsz, "unknown");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  (socklen_t)outsz);
}

static enum MHD_Result sum_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    size_t *total = cls;
    *total += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */

static void add_security_headers(struct MHD_Response *r, bool api)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    MHD_add_response_header(r, "Cache-Control", api ? "no-store" : "no-cache");
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct conn_req *cr)
{
    struct http_resp *resp = &cr->resp;
    http__conn_received(c);
    struct MHD_Response *r;
    if (resp->stream_fn) {
        struct http_stream_req sr = {resp->stream_fn, resp->stream_arg, resp->stream_arg_free};
        resp->stream_fn = NULL;
        r = http_stream_start(&cr->srv->streams, c, &sr);
        if (!r) {
            if (sr.arg_free)
                sr.arg_free(sr.arg);
            resp->nheaders = 0;
            http_resp_err(resp, CC_EAGAIN, "too many streams are open",
                          "close a log follow or event stream and try again");
            return send_response(c, cr);
        }
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    } else {
        size_t len = resp->body.len;
        char *data = cc_buf_take(&resp->body);
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(data);
            return MHD_NO;
        }
    }
    bool api = !resp->content_type || strncmp(resp->content_type, "application/json", 16) == 0 ||
               strncmp(resp->content_type, "text/event-stream", 17) == 0;
    MHD_add_response_header(r, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    add_security_headers(r, api);
    MHD_add_response_header(r, "X-Request-Id", cr->request_id);
    for (size_t i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    cr->phase = PHASE_DONE;
    return ret;
}

static enum MHD_Result fail(struct MHD_Connection *c, struct conn_req *cr, cc_err err,
                            const char *msg, const char *hint)
{
    http_resp_err(&cr->resp, err, msg, hint);
    return send_response(c, cr);
}

/* ------------------------------------------------------------------ */
/* The checks of the first call                                        */

/* The checks below refuse with this: the answer is built now and queued
 * by on_request. */
static enum MHD_Result refuse(struct conn_req *cr, cc_err err, const char *msg,
                              const char *hint)
{
    http_resp_err(&cr->resp, err, msg, hint);
    cr->phase = PHASE_REFUSED;
    return MHD_YES;
}

/* Whether the client announced a body (which an early answer leaves
 * unread, so the connection must close after it). */
static bool body_announced(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    return te || (cl && strcmp(cl, "0") != 0);
}

struct framing {
    const char *cl;
    bool cl_differs;
    bool te;
};

static enum MHD_Result see_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct framing *f = cls;
    if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->te = true;
    } else if (strcasecmp(key, "Content-Length") == 0) {
        if (f->cl && (!value || strcmp(f->cl, value) != 0))
            f->cl_differs = true;
        if (!f->cl)
            f->cl = value ? value : "";
    }
    return MHD_YES;
}

/* Request smuggling: a front proxy and we must agree on where a request
 * ends. Content-Length with Transfer-Encoding, or two different
 * Content-Lengths, are refused and the connection closed (RFC 9112 6.3). */
static enum MHD_Result check_framing(struct MHD_Connection *c, struct conn_req *cr)
{
    struct framing f = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, see_framing, &f);
    if (!(f.cl && (f.te || f.cl_differs)))
        return MHD_YES;
    obs_counter_inc(cr->srv->m_rejected);
    http_resp_header(&cr->resp, "Connection", "close");
    return refuse(cr, CC_EINVAL,
                  f.te ? "the request has both Content-Length and Transfer-Encoding"
                       : "the request has two different Content-Length headers",
                  "send exactly one of Content-Length or Transfer-Encoding: chunked");
}

static enum MHD_Result check_auth(struct MHD_Connection *c, struct conn_req *cr)
{
    struct http_server *s = cr->srv;
    enum http_access access = cr->route->access;
    if (access == HTTP_METRICS)
        access = s->cfg.public_metrics ? HTTP_PUBLIC : HTTP_READ;
    if (access == HTTP_PUBLIC || access == HTTP_SIGNED)
        return MHD_YES;
    const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    /* A blocked address is refused before its token is even looked at. */
    int64_t retry_s = 0;
    bool blocked = authz && http__authguard_blocked(s->authguard, cr->client_addr, &retry_s);
    bool valid = !blocked && authz && http_auth_check(s->cfg.auth, authz, &cr->who) == CC_OK;
    if (authz && !blocked && !valid)
        blocked = http__authguard_failed(s->authguard, cr->client_addr, &retry_s);
    if (blocked) {
        http_resp_too_many(&cr->resp, retry_s, "too many failed authentications from this "
                           "address", "wait for the number of seconds in Retry-After; "
                           "until then every token is refused, even a valid one");
        cr->phase = PHASE_REFUSED;
        return MHD_YES;
    }
    if (!valid) {
        http_resp_header(&cr->resp, "WWW-Authenticate", "Bearer realm=\"commandcenter\"");
        return refuse(cr, CC_EAUTH,
                    authz ? "the bearer token is not valid" : "this route needs a bearer token",
                    "send 'Authorization: Bearer <token>'; create tokens with "
                    "'commandcenter tokens create'");
    }
    cr->req.who = &cr->who;
    if (access == HTTP_ADMIN && !cr->who.admin)
        return refuse(cr, CC_EPERM, "this route needs a token with the admin scope",
                    "use an admin token; read tokens may only call GET routes");
    return MHD_YES;
}

static enum MHD_Result check_rate(struct MHD_Connection *c, struct conn_req *cr)
{
    struct http_server *s = cr->srv;
    if (cr->route->access == HTTP_PUBLIC || cr->route->access == HTTP_METRICS)
        return MHD_YES;
    char key[96];
    if (cr->req.who)
        snprintf(key, sizeof(key), "t:%lld", (long long)cr->who.token_id);
    else
        snprintf(key, sizeof(key), "a:%s", cr->client_addr);
    int64_t retry_ms = 0;
    if (http_ratelimit_take(s->ratelimit, key, cc_mono_ms(s->ctx->clock), &retry_ms))
        return MHD_YES;
    obs_counter_inc(s->m_rate_limited);
    http_resp_too_many(&cr->resp, (retry_ms + 999) / 1000, "too many requests",
                       "slow down and retry after the number of seconds in Retry-After");
    cr->phase = PHASE_REFUSED;
    return MHD_YES;
}

static enum MHD_Result check_body_size(struct MHD_Connection *c, struct conn_req *cr)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    /* A route may lower the limit, never raise it above the operator's. */
    size_t limit = cr->srv->cfg.max_body_bytes;
    if (cr->route->upload)
        limit = cr->srv->cfg.max_upload_bytes;
    else if (cr->route->access == HTTP_SIGNED && cr->srv->cfg.max_signed_bytes)
        limit = cr->srv->cfg.max_signed_bytes;   /* webhooks: the sender decides the size */
    else if (cr->route->max_body && cr->route->max_body < limit)
        limit = cr->route->max_body;
    cc_buf_init(&cr->body, limit);
    if (cr->route->upload && cr->srv->cfg.spool_dir &&
        http__spool_open(&cr->spool, cr->srv->cfg.spool_dir, limit) != CC_OK)
        return refuse(cr, CC_EAGAIN, "cannot store the upload for processing",
                      "check that data_dir is writable and has free space");
    if (!cl)
        return MHD_YES;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno || *end || end == cl)
        return refuse(cr, CC_EINVAL, "the Content-Length header is not a number", NULL);
    if (n > limit) {
        char *msg = cc_arena_printf(&cr->arena, "the request body is %llu bytes; "
                                    "the limit is %zu", n, limit);
        const char *hint = cr->route->upload
                               ? "send a smaller document or raise knowledge.max_document_bytes"
                           : cr->route->access == HTTP_SIGNED
                               ? "send a smaller delivery or raise webhooks.max_body_bytes"
                               : "send a smaller body or raise http.max_body_bytes";
        return refuse(cr, CC_ELIMIT, msg ? msg : "request body too large", hint);
    }
    return MHD_YES;
}

static enum MHD_Result first_call(struct MHD_Connection *c, struct conn_req *cr,
                                  const char *method)
{
    struct http_server *s = cr->srv;
    size_t header_bytes = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, sum_header, &header_bytes);
    if (header_bytes > s->cfg.max_header_bytes) {
        obs_counter_inc(s->m_rejected);
        return refuse(cr, CC_ELIMIT, "the request headers are too large",
                    "send fewer or smaller headers, or raise http.max_header_bytes");
    }
    if (check_framing(c, cr) != MHD_YES || cr->phase == PHASE_REFUSED)
        return MHD_YES;
    const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && request_id_ok(rid))
        cc_strlcpy(cr->request_id, rid, sizeof(cr->request_id));
    cr->req.method = http_method_parse(method);
    const char *path = NULL, *query = NULL;
    cc_err err = http_target_split(cr->req.target, &cr->arena, &path, &query);
    if (err) {
        obs_counter_inc(s->m_rejected);
        return refuse(cr, CC_EINVAL, "the request path is malformed",
                    "check the percent-encoding of the URL: decoded, it must be "
                    "UTF-8, and '.' and '..' segments are not allowed");
    }
    cr->req.path = path;
    if (query && http_query_parse(query, &cr->arena, &cr->req.query, &cr->req.nquery))
        return refuse(cr, CC_EINVAL, "the query string is malformed",
                    "check the percent-encoding of the query parameters: decoded, "
                    "each must be UTF-8");
    struct http_match m;
    switch (http_router_match(s->router, cr->req.method, path, &cr->arena, &m)) {
    case HTTP_MATCH_NOT_FOUND:
        return refuse(cr, CC_ENOTFOUND, "no such route",
                    "see docs/API.md for the routes this server has");
    case HTTP_MATCH_BAD_METHOD: {
        char allow[96];
        http_methods_allow(m.allow, allow, sizeof(allow));
        char *a = cc_arena_strdup(&cr->arena, allow);
        http_resp_header(&cr->resp, "Allow", a ? a : "");
        return refuse(cr, CC_EMETHOD, "this method is not allowed on this route",
                    "use one of the methods in the Allow header");
    }
    case HTTP_MATCH_LIMIT:
        return refuse(cr, CC_ELIMIT, "the request path is too large to process",
                    "use shorter path segments");
    case HTTP_MATCH_OK:
        break;
    }
    cr->route = m.route;
    cr->req.route = m.route->template;
    memcpy(cr->req.params, m.params, sizeof(m.params));
    cr->req.nparams = m.nparams;
    if (check_auth(c, cr) != MHD_YES || cr->phase == PHASE_REFUSED)
        return MHD_YES;
    if (check_rate(c, cr) != MHD_YES || cr->phase == PHASE_REFUSED)
        return MHD_YES;
    if (check_body_size(c, cr) != MHD_YES || cr->phase == PHASE_REFUSED)
        return MHD_YES;
    cr->phase = PHASE_BODY;
    return MHD_YES;
}

/* ------------------------------------------------------------------ */
/* libmicrohttpd callbacks                                             */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http_server *s = cls;
    struct conn_req *cr = cc_xcalloc(1, sizeof(*cr));
    cr->srv = s;
    cr->start_ms = cc_wall_ms(s->ctx->clock);
    cr->start_ns = cc_mono_ns(s->ctx->clock);
    cc_arena_init(&cr->arena, ARENA_BLOCK, ARENA_LIMIT);
    cc_buf_init(&cr->resp.body, RESP_LIMIT);
    cc_buf_init(&cr->body, 0);
    http__spool_init(&cr->spool);
    new_request_id(cr->request_id);
    client_address(c, cr->client_addr, sizeof(cr->client_addr));
    cr->req.ctx = s->ctx;
    cr->req.arena = &cr->arena;
    cr->req.target = cc_arena_strdup(&cr->arena, uri ? uri : "/");
    if (!cr->req.target)
        cr->req.target = "/";
    cr->req.route = "unmatched";
    cr->req.request_id = cr->request_id;
    cr->req.client_addr = cr->client_addr;
    cr->req.conn = c;
    cr->req.server_data = s->cfg.handler_data;
    cr->resp.status = 200;
    atomic_fetch_add(&s->inflight, 1);
    obs_gauge_add(s->m_inflight, 1);
    return cr;
}

static void run_handler(struct conn_req *cr)
{
    if (cr->body.len || cr->body.ptr) {
        cr->req.body = cc_buf_str(&cr->body);
        cr->req.body_len = cr->body.len;
    }
    cc_log_scope_set(cr->request_id, NULL, NULL);
    cr->route->handler(&cr->req, &cr->resp);
    cc_log_scope_set(NULL, NULL, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct conn_req *cr = *con_cls;
    if (!cr)
        return MHD_NO;
    if (cr->phase == PHASE_NEW) {
        enum MHD_Result r = first_call(c, cr, method);
        if (r != MHD_YES)
            return r;
        /* A refusal of a request with a body is queued now, so the body is
         * never read (libmicrohttpd then closes the connection). Without a
         * body it waits for the next call, when libmicrohttpd has the whole
         * request: an answer queued then keeps the connection alive, which
         * matters under a flood of 401/404/429. */
        if (cr->phase == PHASE_REFUSED && body_announced(c))
            return send_response(c, cr);
        /* Body-less requests may arrive with the whole request at once. */
        if (*upload_data_size == 0)
            return MHD_YES;
    }
    if (cr->phase == PHASE_REFUSED && *upload_data_size == 0)
        return send_response(c, cr);
    if (cr->phase == PHASE_DONE || cr->phase == PHASE_REFUSED) {
        *upload_data_size = 0;   /* discard what the client sends anyway */
        return MHD_YES;
    }
    if (*upload_data_size && cr->spool.fd >= 0) {
        if (!cr->too_large && !cr->spool_failed) {
            cc_err e = http__spool_add(&cr->spool, upload_data, *upload_data_size);
            cr->too_large = e == CC_ELIMIT;
            cr->spool_failed = e == CC_EIO;
        }
        if (cr->too_large || cr->spool_failed) {
            cr->drained += *upload_data_size;
            if (cr->drained > DRAIN_LIMIT)
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!cr->too_large && cc_buf_add(&cr->body, upload_data, *upload_data_size) != CC_OK) {
            /* Only a body without Content-Length (chunked) gets here.
             * libmicrohttpd cannot answer in the middle of a chunked upload,
             * so drain it and answer 413 at its end - but only so far: a
             * client that keeps sending is cut off. */
            cr->too_large = true;
            cc_buf_release(&cr->body);
        }
        if (cr->too_large) {
            cr->drained += *upload_data_size;
            if (cr->drained > DRAIN_LIMIT)
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (cr->too_large)
        return fail(c, cr, CC_ELIMIT, "the request body is too large",
                    "send a smaller body or raise http.max_body_bytes");
    if (cr->spool_failed ||
        (cr->spool.len && http__spool_map(&cr->spool, &cr->req.body, &cr->req.body_len)))
        return fail(c, cr, CC_EAGAIN, "cannot store the upload for processing",
                    "check that data_dir is writable and has free space");
    http__conn_received(c);
    run_handler(cr);
    return send_response(c, cr);
}

static void log_access(struct conn_req *cr, const char *method, int status, double secs)
{
    struct http_server *s = cr->srv;
    cc_log_scope_set(cr->request_id, NULL, NULL);
    enum cc_log_level level = status >= 500 || status == 0 ? CC_LOG_WARN
                              : s->cfg.log_requests_info ? CC_LOG_INFO
                                                         : CC_LOG_DEBUG;
    cc_log_emit(s->ctx->log, level, "http", "request",
                CC_LOG_FIELDS(CC_LS("method", method), CC_LS("path", cr->req.target),
                              CC_LS("route", cr->req.route), CC_LI("status", status),
                              CC_LD("duration_ms", secs * 1000.0),
                              CC_LS("client", cr->client_addr),
                              CC_LS("principal", cr->req.who ? cr->who.name : NULL)));
    cc_log_scope_set(NULL, NULL, NULL);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct conn_req *cr = *con_cls;
    if (!cr)
        return;
    *con_cls = NULL;
    double secs = elapsed_seconds(s->ctx->clock, cr->start_ns);
    /* A request cut off before we answered is logged with status 0 and
     * counted with code "aborted", not as a success. */
    int status = cr->phase == PHASE_DONE ? cr->resp.status : 0;
    const char *method = http_method_str(cr->req.method);
    char code[8];
    if (status)
        snprintf(code, sizeof(code), "%d", status);
    else
        snprintf(code, sizeof(code), "aborted");
    const char *lv[] = {cr->req.route, method, code};
    obs_counter_inc(obs_series_get(s->m_requests, lv));
    obs_histogram_observe(obs_series_get(s->m_duration, lv), secs);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && status == 0)
        cr->req.route = cr->req.route ? cr->req.route : "unmatched";
    log_access(cr, method, status, secs);
    cc_buf_release(&cr->body);
    http__spool_release(&cr->spool);
    cc_buf_release(&cr->resp.body);
    cc_arena_release(&cr->arena);
    free(cr);
    http__conn_idle(s->conns, c);
    obs_gauge_add(s->m_inflight, -1);
    atomic_fetch_sub(&s->inflight, 1);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* Mostly clients that hang up mid-request: useful when debugging only.
     * Failures that matter (bind) are reported by our own code. */
    cc_log_debug(s->ctx->log, "http", msg);
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */

static cc_err parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                           char *err, size_t errsz)
{
    char host[256] = "";
    const char *port_s;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':' || (size_t)(close - listen - 1) >= sizeof(host))
            goto bad;
        memcpy(host, listen + 1, (size_t)(close - listen - 1));
        host[close - listen - 1] = '\0';
        port_s = close + 2;
    } else {
        const char *colon = strrchr(listen, ':');
        if (!colon || (size_t)(colon - listen) >= sizeof(host))
            goto bad;
        memcpy(host, listen, (size_t)(colon - listen));
        host[colon - listen] = '\0';
        port_s = colon + 1;
    }
    char *end;
    errno = 0;
    long port = strtol(port_s, &end, 10);
    if (errno || *end || end == port_s || port < 0 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0 ||
        inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        if (host[0] == '\0')
            v4->sin_addr.s_addr = htonl(INADDR_ANY);
        *len = sizeof(*v4);
        return CC_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return CC_OK;
    }
    if (strcmp(host, "localhost") == 0) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *len = sizeof(*v4);
        return CC_OK;
    }
bad:
    snprintf(err, errsz, "http.listen '%s' is not an address: use HOST:PORT with a numeric "
             "IPv4 address, [IPv6]:PORT, or :PORT for every address", listen);
    return CC_EINVAL;
}

cc_err http_server_new(struct cc_ctx *ctx, const struct http_server_cfg *cfg,
                       const struct http_route *routes, size_t nroutes,
                       struct http_server **out, char *err, size_t errsz)
{
    struct http_server *s = cc_xcalloc(1, sizeof(*s));
    s->ctx = ctx;
    s->cfg = *cfg;
    http_streams_init(&s->streams, cfg->max_streams, ctx->log, ctx->clock);
    cc_err e = http_router_new(routes, nroutes, &s->router, err, errsz);
    if (e)
        goto fail;
    e = http__authguard_new(ctx, cfg->auth_failure_rate, cfg->auth_failure_burst,
                            cfg->rate_limit_clients, &s->authguard);
    if (e) {
        snprintf(err, errsz, "cannot set up the authentication guard: %s", cc_err_str(e));
        goto fail;
    }
    e = http_ratelimit_new(cfg->rate_limit_rps, cfg->rate_limit_burst,
                           cfg->rate_limit_clients, &s->ratelimit);
    if (e) {
        snprintf(err, errsz, "cannot set up the rate limiter: %s", cc_err_str(e));
        goto fail;
    }
    static const char *const red_labels[] = {"route", "method", "code", NULL};
    s->m_requests = obs_counter(ctx->metrics, "cc_http_requests_total",
                                "HTTP requests by route template, method and status code.",
                                red_labels);
    s->m_duration = obs_histogram(ctx->metrics, "cc_http_request_duration_seconds",
                                  "Time from the first byte of a request to its end.",
                                  red_labels, obs_latency_buckets, obs_latency_buckets_len);
    s->m_inflight = obs_series_nolabels(obs_gauge(ctx->metrics, "cc_http_requests_in_flight",
                                                  "Requests being served right now.", NULL));
    s->m_rate_limited = obs_series_nolabels(
        obs_counter(ctx->metrics, "cc_http_rate_limited_total",
                    "Requests refused with 429 by the rate limiter.", NULL));
    s->m_cut = obs_series_nolabels(
        obs_counter(ctx->metrics, "cc_http_request_timeouts_total",
                    "Connections cut because a request took longer than "
                    "http.request_timeout to arrive.", NULL));
    e = http__conns_new(ctx->clock, cfg->request_timeout_ms, s->m_cut, &s->conns);
    if (e) {
        snprintf(err, errsz, "cannot start the slow-client reaper: %s", cc_err_str(e));
        goto fail;
    }
    s->m_rejected = obs_series_nolabels(
        obs_counter(ctx->metrics, "cc_http_rejected_total",
                    "Requests refused before routing (malformed path, oversize headers).",
                    NULL));
    *out = s;
    return CC_OK;
fail:
    http_server_free(s);
    return e;
}

/* Every connection is a descriptor: with the soft limit at its usual 1024,
 * a thousand idle clients would starve everything else of descriptors
 * (store, pipes, log files). The hard limit is ours to take. */
static void raise_fd_limit(struct http_server *s)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)s->cfg.max_connections + 256)
        cc_log_emit(s->ctx->log, CC_LOG_WARN, "http", "descriptor limit below connections",
                    CC_LOG_FIELDS(CC_LI("nofile", (int64_t)rl.rlim_cur),
                                  CC_LI("max_connections", (int64_t)s->cfg.max_connections),
                                  CC_LS("hint", "raise the open-files limit (ulimit -n, "
                                                "LimitNOFILE=) or lower "
                                                "http.max_connections")));
}

cc_err http_server_start(struct http_server *s, char *err, size_t errsz)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    cc_err e = parse_listen(s->cfg.listen, &ss, &sslen, err, errsz);
    if (e)
        return e;
    /* poll(), not epoll: libmicrohttpd 0.9.75's MHD_quiesce_daemon races its
     * own epoll workers over the listen socket and aborts the process
     * ("Failed to remove listen FD from epoll set", seen in our SIGTERM
     * tests). poll costs ~15% of peak requests/s; a clean stop is worth it. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned threads = s->cfg.threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned timeout_s = (unsigned)((s->cfg.read_timeout_ms + 999) / 1000);
    raise_fd_limit(s);
    /* MHD keeps headers in a per-connection pool; leave room above our own
     * limit so our check answers 413 before MHD's own refusal kicks in. */
    size_t pool = s->cfg.max_header_bytes * 2 + 64 * 1024;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,   /* first, or MHD logs on its own */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_LIMIT, s->cfg.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
        MHD_OPTION_URI_LOG_CALLBACK, uri_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, http__conns_notify, s->conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_connections_per_client,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
        MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(err, errsz, "cannot listen on %s: the address is in use, not local, or "
                 "needs privileges (choose another http.listen)", s->cfg.listen);
        return CC_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    return CC_OK;
}

unsigned http_server_port(const struct http_server *s)
{
    return s->port;
}

cc_err http_server_stop(struct http_server *s, int64_t deadline_ms)
{
    if (!s->mhd)
        return CC_OK;
    MHD_socket ls = MHD_quiesce_daemon(s->mhd);
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    /* Streams never end on their own: end them first (their producers
     * return, suspended connections are resumed and closed). */
    http_streams_stop(&s->streams, deadline_ms);
    struct cc_clock *clk = s->ctx->clock;
    int64_t until = cc_mono_ms(clk) + deadline_ms;
    while (atomic_load(&s->inflight) > 0 && cc_mono_ms(clk) < until)
        clk->sleep_ms(clk, 10);
    int left = atomic_load(&s->inflight);
    http__conns_stop(s->conns);
    MHD_stop_daemon(s->mhd);
    s->mhd = NULL;
    return left > 0 ? CC_ETIMEOUT : CC_OK;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    http__conns_stop(s->conns);
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    http__conns_free(s->conns);
    http_router_free(s->router);
    http_ratelimit_free(s->ratelimit);
    http__authguard_free(s->authguard);
    http_streams_destroy(&s->streams);
    free(s);
}
