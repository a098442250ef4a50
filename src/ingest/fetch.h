/*
 * fetch.h - the one way the daemon makes outbound HTTP(S) requests
 * (sources, full-text fetches, embeddings), over libcurl.
 *
 * One struct ingest_fetcher is made by the daemon from the configuration
 * (fetch.* keys) and shared by every job worker: ingest_fetch() is
 * thread-safe. Handlers reach it as
 * ((struct ingest_pipeline_cfg *)jc->data)->fetcher.
 *
 * What every request gets, whatever the caller asks:
 *   - http:// and https:// only; TLS verified (peer and host name) against
 *     the system CA bundle or fetch.ca_file, never switched off.
 *   - The SSRF guard: every connection's resolved address (libcurl's
 *     open-socket callback, so DNS rebinding and redirects are covered) is
 *     refused when it is loopback, private, link-local (cloud metadata),
 *     CGNAT, unspecified, multicast, broadcast or reserved, or an IPv6 form
 *     embedding one (mapped, compatible, NAT64, 6to4, Teredo), unless it
 *     lies in fetch.allow_networks. The refusal happens before connect(): no
 *     packet leaves. A configured or environment proxy's own address is let
 *     through (the proxy resolves the target; a URL whose host is an address
 *     literal is still checked). req->trusted skips the guard, for endpoints
 *     the operator configured (embeddings); sources never set it.
 *   - Redirects followed up to fetch.max_redirects, each hop re-checked
 *     (scheme, guard); auth and custom headers are dropped when a hop
 *     leaves the first URL's origin.
 *   - Connect timeout, total timeout and low-speed limit; the body capped
 *     while it is read (Content-Length refused up front, a longer body
 *     aborted); gzip/deflate/br accepted; a User-Agent naming the product.
 *   - Politeness per host: at most fetch.per_host_concurrency requests in
 *     flight, at least max(fetch.host_delay, req->min_delay_ms) between two
 *     starts, and after a 429/503 with Retry-After no request to that host
 *     until then: a wait up to fetch.retry_after_max, CC_EUPSTREAM naming
 *     the time beyond it (so the job backs off instead of holding a worker).
 *
 * Errors: the function returns cc_err and writes a human sentence to
 * err/errsz: CC_EINVAL bad URL, scheme or auth; CC_EPERM an address the
 * guard refused (the message names the address and fetch.allow_networks);
 * CC_ELIMIT the body is larger than the cap; CC_EUPSTREAM network, DNS,
 * TLS, timeouts (the message says which) and hosts in Retry-After back-off;
 * CC_EIO an unreadable secret file. Any HTTP status is CC_OK: callers read
 * resp->status.
 */
#ifndef CC_INGEST_FETCH_H
#define CC_INGEST_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct cc_clock;
struct cc_config;
struct cc_diag;
struct cc_log;
struct obs_registry;
struct ingest_fetcher;

/* Makes the fetcher from the fetch.* keys of cfg (copied: cfg may go
 * away). clock serves the politeness waits (a fake in tests); log and
 * metrics may be NULL. metrics gets cc_fetch_requests_total{result} and
 * cc_fetch_duration_seconds. CC_EINVAL with d filled on a bad
 * fetch.allow_networks. libcurl itself is loaded on the first request
 * (dlopen, so an idle daemon does not carry it); if it cannot be,
 * requests fail with CC_EUPSTREAM saying so. */
cc_err ingest_fetcher_new(const struct cc_config *cfg, struct cc_clock *clock,
                          struct cc_log *log, struct obs_registry *metrics,
                          struct ingest_fetcher **out, struct cc_diag *d);
/* NULL-safe. No request may be in flight. */
void ingest_fetcher_free(struct ingest_fetcher *f);

struct ingest_fetch_req {
    const char *method;            /* NULL = "GET" */
    const char *url;               /* http:// or https:// */
    const char *const *headers;    /* extra "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;              /* may be NULL */
    size_t body_len;
    const char *accept;            /* Accept header; NULL = none */
    /* Conditional GET: the validators of a previous answer (NULL or "" =
     * none). A 304 comes back as CC_OK with resp->not_modified. */
    const char *etag;              /* sent as If-None-Match */
    const char *last_modified;     /* sent as If-Modified-Since */
    /* A source's auth JSON (store_source.auth_json; see
     * ingest_fetch_auth_parse); secrets are read from their files now.
     * NULL or "" = none. */
    const char *auth_json;
    uint64_t max_bytes;            /* body cap; 0 = fetch.max_bytes */
    int64_t timeout_ms;            /* whole transfer; 0 = fetch.timeout */
    int64_t min_delay_ms;          /* e.g. a robots.txt crawl-delay; 0 = fetch.host_delay */
    bool trusted;                  /* operator-configured endpoint: no SSRF guard */
    /* "host:port:address" entries that bypass DNS (libcurl's
     * CURLOPT_RESOLVE), for tests and `commandcenter fetch --resolve`; the
     * guard still judges the address. NULL-terminated; may be NULL. */
    const char *const *resolve;
};

struct ingest_fetch_resp {
    long status;                   /* of the last hop */
    bool not_modified;             /* status 304 */
    char *body;                    /* malloc'd, NUL-terminated (never NULL on success) */
    size_t len;
    char content_type[128];        /* media type, lower case, no parameters; "" if none */
    char charset[64];              /* the charset parameter, lower case; "" if none */
    char etag[256];                /* "" if none (or too long to keep) */
    char last_modified[64];        /* "" if none */
    char *final_url;               /* malloc'd: the URL after redirects */
    int64_t retry_after_ms;        /* from Retry-After (seconds or HTTP-date); -1 if none */
};

/* Performs one request (following redirects). On CC_OK *resp is filled
 * and owned by the caller (ingest_fetch_resp_release); on error it is
 * left untouched and err holds why. err may be NULL. */
cc_err ingest_fetch(struct ingest_fetcher *f, const struct ingest_fetch_req *req,
                    struct ingest_fetch_resp *resp, char *err, size_t errsz);
/* Frees body and final_url; NULL-safe, idempotent. */
void ingest_fetch_resp_release(struct ingest_fetch_resp *resp);

/*
 * Per-request auth, the JSON kept in store_source.auth_json:
 *   {"type":"basic","username":"u","password_file":"/path"}
 *   {"type":"bearer","token_file":"/path"}
 *   {"type":"header","name":"X-Api-Key","value_file":"/path"}  ("header" is
 *      accepted for "name")
 * Inline "password"/"token"/"value" are accepted for tests and development;
 * giving both a secret and its *_file is an error. Secret files are read at
 * request time, one trailing newline stripped.
 */
enum ingest_fetch_auth_type {
    INGEST_AUTH_NONE,
    INGEST_AUTH_BASIC,
    INGEST_AUTH_BEARER,
    INGEST_AUTH_HEADER,
};

struct ingest_fetch_auth {
    enum ingest_fetch_auth_type type;
    char name[256];                /* basic: the username; header: the header name */
    char secret[1024];             /* inline secret, "" if it comes from a file */
    char secret_file[1024];        /* "" if inline */
};

/* Validates auth JSON (NULL or "" or "null" = INGEST_AUTH_NONE) into *out
 * without reading any file. CC_EINVAL with d->msg saying what is wrong. */
cc_err ingest_fetch_auth_parse(const char *json, struct ingest_fetch_auth *out,
                               struct cc_diag *d);

#endif
