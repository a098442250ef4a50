/*
 * router.h - route templates, path decoding and query parsing.
 *
 * A route template is a path whose segments are literals or {name}
 * parameters: "/api/v1/projects/{id}/logs/{service}". A parameter matches
 * exactly one non-empty segment. Literal segments win over parameters when
 * both could match ("/api/v1/jobs/stats" before "/api/v1/jobs/{id}"), so
 * the order routes are listed in does not matter. The template string is
 * also the route's metrics label; paths that match nothing share the label
 * "unmatched".
 *
 * Path rules (anything else is CC_EINVAL -> 400): starts with '/', at most
 * HTTP_MAX_PATH bytes and HTTP_MAX_SEGMENTS segments, valid %XX escapes,
 * no raw control bytes, no decoded NUL or '/', no "." or ".." segments
 * (also when spelled "%2e%2E"). Empty segments ("//")
 * are kept, so "/a//b" does not match "/a/b". A trailing '/' is not
 * ignored ("/api/v1/projects/" matches no route).
 *
 * Query rules: "a=1&b=&c" -> a="1", b="", c=""; '+' is a space; %XX
 * decoded; duplicate keys kept in order; pairs with an empty key ("&&",
 * "=x") skipped; at most HTTP_MAX_QUERY pairs; more, a decoded NUL or a bad
 * escape is CC_EINVAL. Strings produced are allocated from the caller's
 * arena; CC_ELIMIT when it is full.
 */
#ifndef CC_HTTP_ROUTER_H
#define CC_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

#define HTTP_MAX_PATH 2048
#define HTTP_MAX_SEGMENTS 32
#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_QUERY 64

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
};

/* 0 for an unknown method string. */
unsigned http_method_parse(const char *s);
const char *http_method_str(unsigned m);
/* "GET, HEAD, POST" for a mask; writes into out. */
void http_methods_allow(unsigned mask, char *out, size_t outsz);

struct http_param {
    const char *name;
    const char *value;
};

/* Who may call a route. */
enum http_access {
    HTTP_PUBLIC,       /* no token */
    HTTP_METRICS,      /* public unless http.public_metrics is false, then read */
    HTTP_READ,         /* a token with scope read or admin */
    HTTP_ADMIN,        /* a token with scope admin */
    HTTP_SIGNED,       /* no token; the handler checks a signature */
};

struct http_req;
struct http_resp;
typedef void (*http_handler_fn)(struct http_req *req, struct http_resp *resp);

struct http_route {
    unsigned methods;          /* mask of enum http_method; GET implies HEAD */
    const char *template;
    enum http_access access;
    http_handler_fn handler;
    size_t max_body;           /* 0 = http.max_body_bytes; may only lower it */
    bool upload;               /* body limit is http_server_cfg.max_upload_bytes instead */
};

struct http_router;

/* Routes are borrowed and must outlive the router. CC_EINVAL (with a
 * message in `err`, if given) for a malformed template or two routes with
 * the same template and an overlapping method. */
cc_err http_router_new(const struct http_route *routes, size_t nroutes,
                       struct http_router **out, char *err, size_t errsz);
void http_router_free(struct http_router *r);

/* LIMIT: a route matched but the arena could not hold the parameter
 * values (answer as for CC_ELIMIT). */
enum http_match_result {
    HTTP_MATCH_OK,
    HTTP_MATCH_NOT_FOUND,
    HTTP_MATCH_BAD_METHOD,
    HTTP_MATCH_LIMIT,
};

struct http_match {
    const struct http_route *route;      /* OK only */
    unsigned allow;                      /* BAD_METHOD: methods the path accepts */
    struct http_param params[HTTP_MAX_PARAMS];
    size_t nparams;
};

/* `path` is already decoded (http_target_split). Parameter values point
 * into arena copies; names live as long as the router. *out is reset on
 * every call, then filled as the result says. Among routes that match the
 * path, literal segments win over parameters segment by segment; `allow`
 * is the union of the methods of every route matching the path. */
enum http_match_result http_router_match(const struct http_router *r, unsigned method,
                                         const char *path, struct cc_arena *a,
                                         struct http_match *out);

/* Splits a raw request-target "/p%20a?x=1" into a decoded path and the raw
 * query (NULL if none), enforcing the path rules above. */
cc_err http_target_split(const char *target, struct cc_arena *a,
                         const char **path_out, const char **query_out);
cc_err http_query_parse(const char *query, struct cc_arena *a,
                        struct http_param **out, size_t *nout);

#endif
