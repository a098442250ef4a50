/*
 * httpc.h - a small blocking HTTP/1.1 client over plain TCP.
 *
 * Used by the CLI to talk to the daemon and by the daemon to reach an
 * embedding endpoint. Only http:// URLs: there is no TLS client here (put a
 * local proxy in front of an https endpoint). Each request opens one
 * connection with "Connection: close", so an answer ends when the server
 * closes; chunked bodies are decoded. The whole exchange, from the DNS
 * lookup to the last byte, is bounded by req->timeout_ms, and the answer by
 * the limit of the caller's buffer.
 *
 * Why not libcurl: linking it costs the daemon about 6 MB of idle RSS through
 * its dependency tree, and both callers only ever speak plain HTTP.
 */
#ifndef CC_CORE_HTTPC_H
#define CC_CORE_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

struct cc_http_req {
    const char *method;               /* "GET", "POST" ... */
    const char *url;                  /* http://host[:port][/path][?query] */
    const char *const *headers;       /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;                 /* may be NULL */
    size_t body_len;
    int64_t timeout_ms;               /* whole exchange; <= 0 means 30 s */
};

/* A raw HTTP/1.x response split into status and body (chunked bodies
 * decoded in place). The body points into the raw buffer. */
struct cc_http_answer {
    long status;
    const char *body;
    size_t len;
};

/* Performs one request; the raw answer accumulates in raw (caller-owned,
 * its limit bounds the answer) and *ans points into it. Returns CC_OK for
 * any HTTP status; CC_EINVAL if url is not an http:// URL; CC_EUPSTREAM if
 * the server cannot be reached, times out or its answer is too large, with
 * why in err (e.g. "connection refused"); CC_EPARSE if the answer is not
 * HTTP. */
cc_err cc_http_request(const struct cc_http_req *req, struct cc_buf *raw,
                       struct cc_http_answer *ans, char *err, size_t errsz);

/* Splits a raw answer into status and body; -1 if it is not HTTP. Exposed
 * for the fuzz target. */
int cc_http_parse_answer(struct cc_buf *raw, struct cc_http_answer *a);

#endif
