/*
 * feed.h - an offline feed parser: RSS 0.9x/1.0 (RDF)/2.0, Atom 0.3/1.0 and
 * JSON Feed 1.0/1.1 into one model (feedparser's field semantics, SPEC 2.1's
 * JSON shape). It never touches the network.
 *
 * Invariants:
 * - Every string in a struct feed is UTF-8, NUL-terminated, owned by the
 *   feed (one arena) and lives until feed_free(); NULL means "absent".
 * - Dates are seconds since the epoch, UTC; FEED_NO_DATE when the feed has
 *   none or it could not be read (never "now").
 * - Links are absolute when a base was known (xml:base, nested; then the
 *   feed's link; then the base_url argument).
 * - summary and content values are sanitized HTML (docs/FEEDS.md lists the
 *   allow-list); titles are plain text (HTML in them is stripped).
 * - Entries are in document order, after the limits were applied.
 *
 * Recoverable breakage (broken XML, a wrong declared encoding, undeclared
 * entities, a DOCTYPE with entity declarations) sets bozo with a message and
 * still returns the feed; see docs/FEEDS.md for the bozo cases.
 */
#ifndef CC_INGEST_FEED_FEED_H
#define CC_INGEST_FEED_FEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/diag.h"
#include "core/err.h"

#define FEED_NO_DATE INT64_MIN

struct feed_person {
    const char *name, *email, *uri;
};

struct feed_tag {
    const char *term, *scheme, *label;
};

struct feed_link {
    const char *href, *rel, *type, *title;
    int64_t length; /* -1 when not given */
};

struct feed_content {
    const char *value;   /* sanitized HTML, or text for text/plain */
    const char *type;    /* "text/html", "text/plain", "application/xhtml+xml" */
    const char *language, *base;
};

struct feed_enclosure {
    const char *href, *type;
    int64_t length; /* -1 when not given */
};

struct feed_image {
    const char *href, *title, *link;
};

struct feed_entry {
    const char *id, *title, *link, *summary, *comments;
    int64_t published, updated;          /* FEED_NO_DATE when unknown */
    struct feed_link *links;             size_t n_links;
    struct feed_person *authors;         size_t n_authors;
    struct feed_tag *tags;               size_t n_tags;
    struct feed_content *content;        size_t n_content;
    struct feed_enclosure *enclosures;   size_t n_enclosures;
    bool id_repeated;  /* another entry of this feed has the same id */
};

struct feed_meta {
    const char *title, *subtitle, *link, *id, *language, *generator;
    int64_t updated;                     /* FEED_NO_DATE when unknown */
    struct feed_link *links;             size_t n_links;
    struct feed_person *authors;         size_t n_authors;
    struct feed_tag *tags;               size_t n_tags;
    struct feed_image *image;            /* NULL when absent */
};

struct feed {
    bool bozo;
    const char *bozo_message;  /* NULL unless bozo */
    const char *version;       /* "rss20", "atom10", "json11", ... or "" if unknown */
    const char *encoding;      /* what the bytes were read as, e.g. "utf-8" */
    struct feed_meta feed;
    struct feed_entry *entries;
    size_t n_entries;
    size_t dropped_items;      /* past limits.max_items */
    size_t dropped_old;        /* older than limits.max_age_days */
    struct cc_arena arena;     /* private: owns everything above */
    void *html_ctxt;           /* private: libxml2's HTML parser, reused */
};

/* Zero fields mean "no limit". max_items keeps the first N entries in
 * document order (feeds list the newest first). max_age_days drops entries
 * whose newest date (updated, else published) is older than now_s minus
 * that many days; undated entries are kept. now_s 0 means the wall clock. */
struct feed_limits {
    size_t max_bytes;
    size_t max_items;
    int64_t max_age_days;
    int64_t now_s;
};

/* Parses one feed document. data need not be NUL-terminated.
 * http_content_type (e.g. "application/rss+xml; charset=iso-8859-1") and
 * base_url may be NULL; lim may be NULL (no limits).
 * On success *out is a new feed (feed_free() it), possibly with bozo set.
 * Errors: CC_ELIMIT (len > max_bytes), CC_EPARSE (not a feed at all: empty,
 * not XML or JSON, or XML whose root is not a feed), CC_EUNSUPPORTED
 * (libxml2 missing), CC_ENOMEM; d says why. *out is untouched on error. */
cc_err feed_parse(const uint8_t *data, size_t len, const char *http_content_type,
                  const char *base_url, const struct feed_limits *lim, struct feed **out,
                  struct cc_diag *d);

/* NULL-safe. */
void feed_free(struct feed *f);

/* SPEC 2.1's JSON: {bozo, bozo_message, version, encoding, feed:{...},
 * entries:[...]}; dates RFC 3339 UTC or null; "dropped": {items, old}
 * only when limits dropped entries. *out is a new reference. */
cc_err feed_to_json(const struct feed *f, json_t **out);

struct cc_buf;
/* The same JSON as text (2-space indent, a final newline) appended to b.
 * CC_ELIMIT when b's limit is reached (b is then as it was). */
cc_err feed_write_json(const struct feed *f, struct cc_buf *b);

/* Longest key feed_entry_key() writes, without the NUL. */
#define FEED_KEY_MAX 512

/* The dedup key of entry i: "id:<id>" (with "#<16 hex of link+title>" when
 * the id is repeated within the feed, so both entries survive), else
 * "url:<normalized link>", else "hash:<32 hex of title, summary, content,
 * dates>". A key that would be longer than FEED_KEY_MAX becomes its kind
 * plus the SHA-256 of the whole key ("id~<64 hex>", "url~<64 hex>").
 * Stable across re-fetches of an unchanged entry. CC_EINVAL when i is out
 * of range, CC_ELIMIT when outsz < FEED_KEY_MAX + 1 (out untouched). */
cc_err feed_entry_key(const struct feed *f, size_t i, char *out, size_t outsz);

#endif
