/*
 * httpc.h - a small blocking HTTP/1.1 client over plain TCP.
 *
 * Used by the CLI to talk to the daemon and by the docker driver to reach
 * the Docker Engine (over its unix socket: req->unix_path). Only http://
 * URLs: there is no TLS client here. The daemon's outbound requests to the
 * outside (sources, the embedding endpoint) go through ingest/fetch.h
 * (libcurl, TLS, the SSRF guard) instead. Each request opens one
 * connection with "Connection: close", so an answer ends when the server
 * closes; chunked bodies are decoded. The whole exchange, from the DNS
 * lookup to the last byte, is bounded by req->timeout_ms, and the answer by
 * the limit of the caller's buffer.
 *
 * Why not libcurl here: the CLI and the docker driver only ever speak plain
 * HTTP to a known peer, and the fetcher loads libcurl only on its first
 * request (about 5.5 MB of RSS with its dependency tree).
 */
#ifndef CC_CORE_HTTPC_H
#define CC_CORE_HTTPC_H

#include <stdatomic.h>
#include <stdbool.h>
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
    const char *unix_path;            /* connect to this unix socket instead of
                                         the URL's host (still the Host header) */
};

/* A raw HTTP/1.x response split into status and body (chunked bodies
 * decoded in place). The body points into the raw buffer. */
struct cc_http_answer {
    long status;
    const char *body;
    size_t len;
    const char *headers;              /* the header lines after the status line */
    size_t headers_len;
};

/* The value of header `name` (case-insensitive) in a header block, copied
 * to out without surrounding blanks; false if absent (out is then ""). */
bool cc_http_header(const char *headers, size_t len, const char *name, char *out,
                    size_t outsz);

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

/*
 * Streaming: the body is handed to sink->body as it arrives (chunked
 * encoding removed), for answers that never end on their own (logs follow,
 * exec output, build progress). req->timeout_ms bounds the connection and
 * the answer's head; the body is bounded by body_timeout_ms (<= 0: none) and
 * by the sink: return false from body() to stop. The cancel flag is checked
 * at least every 250 ms; a cancelled stream returns CC_OK with
 * *cancelled set. The body ends at the server's close, at Content-Length,
 * or at the last chunk.
 */
struct cc_http_sink {
    /* Called once before any body byte; false aborts (CC_OK is returned). */
    bool (*head)(void *arg, long status, const char *headers, size_t len);
    bool (*body)(void *arg, const char *p, size_t n);
    void *arg;
    const atomic_bool *cancel;        /* may be NULL */
    int64_t body_timeout_ms;
};

/* Returns CC_OK for any HTTP status (sink->head sees it) and the same
 * errors as cc_http_request; *cancelled (optional) tells a cancel from an
 * end. A body that breaks off mid-chunk is CC_EUPSTREAM. */
cc_err cc_http_stream(const struct cc_http_req *req, const struct cc_http_sink *sink,
                      bool *cancelled, char *err, size_t errsz);

/* A chunked-body decoder fed any split of the bytes (for the stream above,
 * and exposed for its fuzz target). */
struct cc_http_dechunk {
    int state;
    uint64_t left;                    /* bytes left in the current chunk */
    unsigned digits;
};
/* Feeds n bytes; data goes to out (false from out stops: returns 2).
 * Returns 0 when more input is wanted, 1 at the end of the body (*used
 * says how much of p was consumed), -1 on a malformed body. */
int cc_http_dechunk_feed(struct cc_http_dechunk *d, const char *p, size_t n, size_t *used,
                         bool (*out)(void *arg, const char *p, size_t n), void *arg);

#endif
