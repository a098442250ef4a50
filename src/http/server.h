/*
 * server.h - the HTTP server: libmicrohttpd underneath, our request and
 * response model on top.
 *
 * Threads: libmicrohttpd's poll thread pool (http.threads workers) runs
 * every handler; a handler must not block for long. Each request gets an
 * arena (freed when the response is done) and a request id (the incoming
 * X-Request-Id if it is sane, else 16 random hex bytes), echoed in the
 * X-Request-Id response header and present in every log line of the
 * request. One access-log line is written per request.
 *
 * Order of checks for each request: header size (413), path syntax (400),
 * route match (404 / 405 with Allow), authentication (401) and scope (403),
 * rate limit (429 + Retry-After), body size (413, also from
 * Content-Length before the body is read), then the handler.
 *
 * Every response carries the security headers (X-Content-Type-Options,
 * X-Frame-Options, Referrer-Policy, Content-Security-Policy,
 * Cache-Control: no-store for API answers).
 */
#ifndef CC_HTTP_SERVER_H
#define CC_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/ctx.h"
#include "http/router.h"

struct http_auth;
struct http_stream;

struct http_principal {
    int64_t token_id;          /* 0 for the config admin token */
    const char *name;          /* token name */
    bool admin;
};

struct http_req {
    struct cc_ctx *ctx;
    struct cc_arena *arena;
    unsigned method;
    const char *target;        /* raw request-target, as received */
    const char *path;          /* decoded path */
    const char *route;         /* matched template, or "unmatched" */
    struct http_param params[HTTP_MAX_PARAMS];
    size_t nparams;
    struct http_param *query;
    size_t nquery;
    const char *body;          /* NUL-terminated; NULL if none */
    size_t body_len;
    const char *request_id;
    const char *client_addr;   /* "127.0.0.1" / "::1" */
    const struct http_principal *who; /* NULL on public routes without a token */
    void *conn;                /* the libmicrohttpd connection; server.c only */
    void *server_data;         /* http_server_cfg.handler_data */
};

#define HTTP_MAX_RESP_HEADERS 8

struct http_resp {
    int status;
    const char *content_type;  /* default application/json */
    struct cc_buf body;
    struct http_param headers[HTTP_MAX_RESP_HEADERS];
    size_t nheaders;
    char retry_after[24];      /* storage for http_resp_too_many's Retry-After */
    /* Set by http_resp_stream() (http/stream.h): the body is produced by
     * stream_fn on a thread of its own instead. */
    void (*stream_fn)(struct http_stream *st, void *arg);
    void *stream_arg;
    void (*stream_arg_free)(void *arg);
};

const char *http_req_header(const struct http_req *r, const char *name);
const char *http_req_param(const struct http_req *r, const char *name);
const char *http_req_query(const struct http_req *r, const char *name);

/* Parses the body as a JSON object. On failure writes the error response
 * (415 for another content type, 400 with the JSON error position for bad
 * JSON or a non-object) and returns CC_EINVAL; the handler just returns. */
cc_err http_req_json(struct http_req *r, struct http_resp *resp, json_t **out);

/* A JSON string of s that never fails on its bytes: valid UTF-8 is kept,
 * each byte that is not becomes U+FFFD. For anything a handler echoes
 * back (names, paths, messages quoting input). NULL s gives JSON null. */
json_t *http_json_str(const char *s);
json_t *http_json_strn(const char *s, size_t len);

/* Replaces the body with the JSON (stolen: decref'd here). j NULL (a
 * failed json_pack) answers 500 EIO instead of a truncated body. */
void http_resp_json(struct http_resp *r, int status, json_t *j);
/*
 * Error answers, SPEC 2.2: {"error":{"code","message","hint"}}. A handler
 * names what went wrong as a cc_err; the status comes from the one map,
 * http_status_for(), and `code` is cc_err_name(). message NULL means
 * cc_err_str(err); hint may be NULL. A 503 also gets "Retry-After: 5".
 * There is deliberately no variant that takes a status number: the two
 * statuses that no cc_err stands for have a function each, below.
 */
void http_resp_err(struct http_resp *r, cc_err err, const char *message, const char *hint);
/* 415, code EUNSUPPORTED: the body's media type is not one the route reads. */
void http_resp_unsupported_media(struct http_resp *r, const char *message, const char *hint);
/* 429, code ELIMIT, with "Retry-After: retry_after_s" (at least 1): the
 * client, or the queue it feeds, is over its rate. */
void http_resp_too_many(struct http_resp *r, int64_t retry_after_s, const char *message,
                        const char *hint);
/* Name and value are copied into the request arena by the caller's
 * choice of strings: both must live until the response is sent. */
void http_resp_header(struct http_resp *r, const char *name, const char *value);

/* The one place cc_err becomes an HTTP status. */
int http_status_for(cc_err err);

struct http_server_cfg {
    const char *listen;           /* "127.0.0.1:8470", "[::1]:0", ":8470" */
    unsigned threads;
    unsigned max_connections;
    size_t max_header_bytes;
    size_t max_body_bytes;
    size_t max_upload_bytes;      /* for routes marked .upload (document uploads) */
    size_t max_signed_bytes;      /* for HTTP_SIGNED routes (webhooks); 0 = max_body_bytes */
    unsigned max_streams;         /* SSE/log-follow streams at once; 0 = HTTP_STREAM_MAX */
    int64_t read_timeout_ms;      /* idle time on a connection (libmicrohttpd's timeout) */
    int64_t request_timeout_ms;   /* whole time to receive one request; 0 = no cap */
    unsigned max_connections_per_client; /* per client address; 0 = no limit */
    const char *spool_dir;        /* upload bodies received into files here; NULL = memory */
    double auth_failure_rate;     /* failed auths/s earned back per address; 0 = off */
    unsigned auth_failure_burst;
    bool public_metrics;
    bool log_requests_info;       /* request lines at info, not debug (5xx: warn) */
    double rate_limit_rps;
    unsigned rate_limit_burst;
    unsigned rate_limit_clients;
    struct http_auth *auth;       /* borrowed */
    void *handler_data;           /* handed to handlers as req->server_data */
};

struct http_server;

cc_err http_server_new(struct cc_ctx *ctx, const struct http_server_cfg *cfg,
                       const struct http_route *routes, size_t nroutes,
                       struct http_server **out, char *err, size_t errsz);
/* Binds and starts the worker threads. */
cc_err http_server_start(struct http_server *s, char *err, size_t errsz);
/* The bound port (useful with port 0). */
unsigned http_server_port(const struct http_server *s);
/* Stops accepting, waits up to deadline_ms for in-flight requests, then
 * closes everything. Returns CC_ETIMEOUT if requests were cut off. */
cc_err http_server_stop(struct http_server *s, int64_t deadline_ms);
void http_server_free(struct http_server *s);

#endif
