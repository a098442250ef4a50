/*
 * robots.h - robots.txt as RFC 9309 reads it, with the behaviour of
 * Google's open-source parser where the RFC leaves room.
 *
 * Parsing (ingest_robots_parse) never fails on content: lines that are not
 * "key: value" records we know are ignored, as are comments ("#" to the end
 * of the line), a UTF-8 BOM, and everything after the first
 * INGEST_ROBOTS_MAX_BYTES bytes (RFC 9309 2.5: at least 500 KiB must be
 * parsed; more may be ignored). Keys are case-insensitive and a few common
 * misspellings are accepted ("useragent", "user agent", "dissallow",
 * "disalow", "site-map"); a line without ':' whose key and value are
 * separated by white space is read as if it had one.
 *
 * Groups: consecutive user-agent lines start a group, the rules after them
 * belong to it until the next user-agent line that follows a rule. Lines
 * that are not rules (sitemap, unknown keys) do not end a run of user-agent
 * lines. Rules before any user-agent line are ignored.
 *
 * Matching (ingest_robots_allowed):
 *   - the crawler's product token is the leading run of [A-Za-z_-] of the
 *     agent string ("FooBot/1.2 (+https://...)" -> "FooBot"); a user-agent
 *     line's value is reduced the same way; comparison is case-insensitive;
 *   - every group naming the token applies, merged; only when none does, the
 *     "*" groups apply, merged; with neither, everything is allowed;
 *   - the rule with the longest pattern (in bytes, after normalization)
 *     that matches wins; on a tie allow wins; no matching rule = allowed;
 *   - "*" matches any run of characters, "$" at the end of a pattern
 *     anchors it to the end of the path (elsewhere it is a literal "$");
 *     an empty pattern matches nothing ("Disallow:" allows everything);
 *   - patterns and paths are percent-normalized the same way before the
 *     comparison: octets outside printable ASCII are percent-encoded,
 *     escapes are written in upper case, and an escaped unreserved
 *     character (ALPHA DIGIT - . _ ~) is decoded ("/%7Ea" is "/~a"); other
 *     escapes stay escaped, so "%2F" never matches "/";
 *   - "/robots.txt" is always allowed (RFC 9309 2.2.2 says crawlers may
 *     always read it);
 *   - Google's "index.html is the directory" rule: an allow pattern ending
 *     in "/index.html" or "/index.htm" also allows its directory
 *     ("/dir/" and only it).
 *
 * crawl-delay (not in the RFC; parsed because many sites set it) is kept
 * per group in milliseconds; merged groups take the largest. Sitemap lines
 * are collected wherever they appear, in order, duplicates dropped.
 *
 * Fetch outcome policy (RFC 9309 2.3.1), for the crawler: a 2xx body is
 * parsed; a 4xx other than 429 ("unavailable") allows everything; a 429, a
 * 5xx or no answer at all ("unreachable") disallows everything. 3xx are the
 * fetcher's to follow (RFC: at least five hops); a chain that ends without
 * a body counts as unavailable.
 *
 * Ownership: ingest_robots_parse hands a heap object to the caller, freed
 * with ingest_robots_free. It is immutable afterwards, so any number of
 * threads may query it at once. Nothing here keeps global state.
 */
#ifndef CC_INGEST_WEB_ROBOTS_H
#define CC_INGEST_WEB_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Bytes of a robots.txt that are read; the rest is ignored. */
#define INGEST_ROBOTS_MAX_BYTES ((size_t)500 * 1024)
/* Longest path (after normalization) compared; a longer one is cut. */
#define INGEST_ROBOTS_MAX_PATH 8192

struct ingest_robots;

/* What to do with a robots.txt fetch that ended with HTTP `status`
 * (0 = no answer: DNS, connect, TLS or timeout failure). */
enum ingest_robots_outcome {
    INGEST_ROBOTS_PARSE,         /* 2xx: parse the body */
    INGEST_ROBOTS_ALLOW_ALL,     /* 3xx left over, 4xx except 429 */
    INGEST_ROBOTS_DISALLOW_ALL,  /* 0, 429, 5xx, anything else */
};
enum ingest_robots_outcome ingest_robots_outcome_for(long status);

/* Parses data[0..len) (any bytes; NULL with len 0 is an empty file, which
 * allows everything). Content never makes it fail and allocation failure
 * aborts, so it returns CC_OK (the cc_err keeps the parsers' convention);
 * *out is written only then. */
cc_err ingest_robots_parse(const char *data, size_t len, struct ingest_robots **out);

/* A robots object that allows (allow = true) or disallows everything, for
 * the outcomes above. Never NULL (allocation failure aborts). */
struct ingest_robots *ingest_robots_new_all(bool allow);

void ingest_robots_free(struct ingest_robots *r);   /* NULL-safe */

/* Whether `agent` may fetch `path` ("/a/b?q=1": path and query of the URL,
 * as ingest_robots_path_of_url makes it; "" is "/"). */
bool ingest_robots_allowed(const struct ingest_robots *r, const char *agent, const char *path);

/* Crawl-delay of the groups that apply to `agent`, in milliseconds, or -1
 * when none of them sets one. */
int64_t ingest_robots_crawl_delay_ms(const struct ingest_robots *r, const char *agent);

/* The sitemap URLs, in file order; *out points into r (valid until it is
 * freed). */
size_t ingest_robots_sitemaps(const struct ingest_robots *r, const char *const **out);

/* The path-and-query of an absolute or relative URL, as robots rules see
 * it: scheme and authority dropped, fragment dropped, "" -> "/". Written to
 * out (NUL-terminated); CC_ELIMIT if it does not fit, CC_EINVAL if the URL
 * has a scheme but no "//authority" after it. */
cc_err ingest_robots_path_of_url(const char *url, char *out, size_t outsz);

#endif
