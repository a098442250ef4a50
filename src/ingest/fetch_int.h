/*
 * fetch_int.h - what the files of the fetcher share (fetch.c, the curl
 * transfer; fetch_guard.c, the pure checks: address classes, Retry-After,
 * auth JSON; fetch_host.c, per-host politeness). Not for other modules.
 */
#ifndef CC_INGEST_FETCH_INT_H
#define CC_INGEST_FETCH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The calls go through the table below: no type-checking macros. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "core/cidr.h"
#include "core/err.h"

struct cc_clock;

/*
 * libcurl, loaded with dlopen on the first request (fetch_lib.c); the
 * headers come from libcurl4-openssl-dev at build time, so every pointer
 * has libcurl's own prototype. ingest__curl() loads it once (and runs
 * curl_global_init) and returns the immutable table, or NULL with the
 * reason in ingest__curl_error().
 */
#define INGEST_CURL_FUNCS(X)                                                   \
    X(curl_global_init) X(curl_easy_init) X(curl_easy_cleanup)                \
    X(curl_easy_reset) X(curl_easy_setopt) X(curl_easy_perform)               \
    X(curl_easy_getinfo) X(curl_easy_strerror) X(curl_easy_header)            \
    X(curl_slist_append) X(curl_slist_free_all) X(curl_url) X(curl_url_set)   \
    X(curl_url_get) X(curl_url_cleanup) X(curl_free) X(curl_getdate)

struct ingest__curl {
#define INGEST_CURL_MEMBER(f) __typeof__(&f) f;
    INGEST_CURL_FUNCS(INGEST_CURL_MEMBER)
#undef INGEST_CURL_MEMBER
};

const struct ingest__curl *ingest__curl(void);
const char *ingest__curl_error(void);

/* Why the SSRF guard refuses address a (16-byte form, see core/cidr.h):
 * "loopback", "private", "link-local (cloud metadata)" ... including the
 * IPv4 address inside IPv6 mapped, compatible, NAT64, 6to4 and Teredo
 * forms; NULL for an address on the public internet. */
const char *ingest__addr_refusal(const unsigned char a[16]);

/* The guard's decision: NULL if a may be connected to (public, or inside
 * one of allow[0..nallow)), else why not. */
const char *ingest__guard_check(const unsigned char a[16], const struct cc_cidr *allow,
                                size_t nallow);

/* A Retry-After value (delta-seconds or an HTTP-date) as milliseconds
 * from now_wall_ms (a date in the past is 0). False on anything else
 * (and on dates when libcurl, whose date parser is used, cannot be
 * loaded). Values beyond a year are clamped to it. */
bool ingest__retry_after_parse(const char *v, int64_t now_wall_ms, int64_t *out_ms);

/* Whether s can go into a header line: no CR, LF or NUL before its end,
 * and at most 8 KiB. */
bool ingest__header_value_ok(const char *s);

/*
 * Per-host politeness: a small table of hosts, each with the requests in
 * flight, the earliest next start (min delay) and a Retry-After block.
 * Entries idle and unblocked are recycled when the table is full.
 */
struct fetch_host;

struct ingest__hosts {
    pthread_mutex_t mu;
    pthread_cond_t cv;            /* signalled whenever a slot frees or a block changes */
    struct cc_clock *clock;
    struct fetch_host *slots;
    size_t nslots;
    unsigned per_host;            /* requests in flight per host, >= 1 */
    int64_t retry_after_max_ms;   /* longest Retry-After wait; beyond: CC_EUPSTREAM */
};

cc_err ingest__hosts_init(struct ingest__hosts *h, struct cc_clock *clock, size_t nslots,
                          unsigned per_host, int64_t retry_after_max_ms);
void ingest__hosts_release(struct ingest__hosts *h);

/* Waits until a request to host may start: fewer than per_host in flight,
 * min_delay_ms since the previous start, past any Retry-After block. Then
 * counts it in flight. CC_EUPSTREAM with why in err if the host is blocked
 * for longer than retry_after_max_ms, or if no slot frees before
 * deadline_mono_ms. */
cc_err ingest__hosts_enter(struct ingest__hosts *h, const char *host, int64_t min_delay_ms,
                           int64_t deadline_mono_ms, char *err, size_t errsz);
/* Ends a request entered before; retry_after_ms >= 0 blocks the host
 * for that long from now (a 429/503 answer). */
void ingest__hosts_leave(struct ingest__hosts *h, const char *host, int64_t retry_after_ms);

#endif
