/*
 * sitemap.h - sitemaps (sitemaps.org 0.9): a <urlset> of pages or a
 * <sitemapindex> of further sitemaps, plain or gzip-compressed, and the
 * plain-text form (one URL per line).
 *
 * Input: any bytes. Gzip is recognized by its magic (1f 8b), whatever the
 * name says, and inflated with zlib up to INGEST_SITEMAP_MAX_BYTES (the
 * protocol's 50 MB uncompressed cap, also what stops zip bombs: inflation
 * stops at the cap and the sitemap is refused with CC_ELIMIT). XML is read
 * by libxml2 with no network, no DTD loading and no entity substitution:
 * only text nodes are read, so an entity a document declares is never
 * expanded. Elements are matched by local name, with or without the
 * sitemaps.org namespace (real sitemaps get it wrong); unknown elements
 * (image:, news:, xhtml:link) are skipped.
 *
 * Entries: <loc> is trimmed and required (entries without one are dropped,
 * counted in `skipped`); <lastmod> is read as a W3C datetime (YYYY,
 * YYYY-MM, YYYY-MM-DD, with "Thh:mm", ":ss", ".s" and a zone "Z" or
 * "+hh:mm"/"+hhmm"; no zone = UTC) into Unix milliseconds, or
 * INGEST_SITEMAP_NO_TIME when absent or unreadable; <changefreq> is kept
 * when it is one of the protocol's words (lower-cased); <priority> is 0.0-1.0
 * or -1 when absent or invalid. At most INGEST_SITEMAP_MAX_URLS entries are
 * kept; further ones set `truncated`.
 *
 * Errors: CC_EPARSE when the input is neither a sitemap, a sitemap index
 * nor a text list of http(s) URLs (with the reason in `d`), CC_ELIMIT for
 * the size cap, CC_EUNSUPPORTED when libxml2 cannot be loaded.
 *
 * Ownership: struct ingest_sitemap is caller-owned storage; the parser
 * fills it only on success; ingest_sitemap_release frees its entries.
 */
#ifndef CC_INGEST_WEB_SITEMAP_H
#define CC_INGEST_WEB_SITEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/err.h"

#define INGEST_SITEMAP_MAX_URLS 50000
#define INGEST_SITEMAP_MAX_BYTES ((size_t)50 * 1000 * 1000)
#define INGEST_SITEMAP_NO_TIME INT64_MIN

enum ingest_sitemap_kind {
    INGEST_SITEMAP_URLSET,   /* entries are pages */
    INGEST_SITEMAP_INDEX,    /* entries are further sitemaps (loc, lastmod only) */
};

struct ingest_sitemap_entry {
    char *loc;                 /* never NULL or empty */
    int64_t lastmod_ms;        /* INGEST_SITEMAP_NO_TIME when unknown */
    char changefreq[8];        /* "always" .. "never", or "" */
    double priority;           /* 0.0-1.0, or -1 */
};

struct ingest_sitemap {
    enum ingest_sitemap_kind kind;
    struct ingest_sitemap_entry *entries;
    size_t n;
    size_t skipped;            /* entries without a usable <loc> */
    bool truncated;            /* more than INGEST_SITEMAP_MAX_URLS entries */
    bool gzipped;              /* the input was gzip-compressed */
};

/* Parses data[0..len); `name` (may be NULL) names the input in `d`. */
cc_err ingest_sitemap_parse(const void *data, size_t len, const char *name,
                            struct ingest_sitemap *out, struct cc_diag *d);

void ingest_sitemap_release(struct ingest_sitemap *s);   /* NULL-safe; zeroes it */

/* W3C datetime (see above) to Unix milliseconds; CC_EINVAL otherwise. */
cc_err ingest_w3c_datetime_parse(const char *s, int64_t *out_ms);

/* Inflates gzip data[0..len) into a heap buffer of at most `max` bytes
 * (NUL-terminated; *out_len excludes the NUL). CC_ELIMIT past max,
 * CC_EPARSE for a damaged stream. The caller frees *out. */
cc_err ingest_gunzip(const void *data, size_t len, size_t max, char **out, size_t *out_len);

#endif
