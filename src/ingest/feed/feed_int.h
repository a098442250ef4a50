/*
 * feed_int.h - what the files of the feed parser share (feed__ prefix).
 *
 * Memory: everything hangs off the feed's arena, which has no limit of its
 * own (the input is bounded by feed_limits.max_bytes and the parser never
 * makes more than a small multiple of it); an arena allocation that fails
 * aborts, as small allocations do everywhere in the project.
 *
 * Arrays in the model grow without a capacity field: the capacity is
 * implied by the count (4, then the next power of two), see feed__push.
 */
#ifndef CC_INGEST_FEED_FEED_INT_H
#define CC_INGEST_FEED_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "ingest/feed/feed.h"

#define FEED_MSG_MAX 256

/* Arena helpers that never return NULL. */
void *feed__alloc(struct feed *f, size_t n);
char *feed__strndup(struct feed *f, const char *s, size_t n);
char *feed__strdup(struct feed *f, const char *s);         /* NULL stays NULL */
/* A copy with leading/trailing ASCII whitespace removed; NULL for NULL or
 * an empty result. */
char *feed__trimdup(struct feed *f, const char *s);
/* Appends one zeroed element of size elem to the array *arr of *n elements
 * and returns it. */
void *feed__push(struct feed *f, void **arr, size_t *n, size_t elem);
#define FEED_PUSH(f, arr, n) ((__typeof__(arr))feed__push((f), (void **)&(arr), &(n), \
                                                            sizeof(*(arr))))
/* Sets bozo with the first message only (feedparser keeps the first). */
void feed__bozo(struct feed *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ref resolved against base (RFC 3986, libxml2's xmlBuildURI); ref itself
 * when base is NULL or the result cannot be built. NULL for NULL. */
const char *feed__resolve(struct feed *f, const char *base, const char *ref);

/* feed_date.c: a date in any form docs/FEEDS.md lists -> seconds UTC. */
bool feed__date_parse(const char *s, int64_t *out_s);

/* feed_enc.c: the document as UTF-8 (BOM, then HTTP charset, then XML
 * prolog, then UTF-8 validity with a windows-1252 fallback). *text is
 * malloc'ed and NUL-terminated; encoding is the lower-case name used. */
struct feed_utf8 {
    char *text;
    size_t len;
    char encoding[32];
    bool bozo;
    char bozo_msg[FEED_MSG_MAX];
};
cc_err feed__to_utf8(const uint8_t *data, size_t len, const char *http_content_type,
                     struct feed_utf8 *out, struct cc_diag *d);

/* feed_html.c: sanitized HTML (docs/FEEDS.md's allow-list; URLs made
 * absolute against base), and plain text of an HTML fragment. */
const char *feed__sanitize(struct feed *f, const char *html, const char *base);
const char *feed__html_text(struct feed *f, const char *html);
/* The same over nodes already parsed (Atom's xhtml constructs): first and
 * its siblings. */
const char *feed__sanitize_tree(struct feed *f, const xmlNode *first, const char *base);
const char *feed__tree_text(struct feed *f, const xmlNode *first);
/* True when s looks like HTML (a tag or an entity): feedparser's guess
 * for RSS and JSON titles and descriptions. */
bool feed__looks_like_html(const char *s);

/* feed_xml.c / feed_json.c: fill f from a UTF-8 document. CC_EPARSE (with
 * d set) when the document is not a feed. */
cc_err feed__parse_xml(struct feed *f, const char *text, size_t len, const char *base_url,
                       struct cc_diag *d);
cc_err feed__parse_json(struct feed *f, const char *text, size_t len, const char *base_url,
                        struct cc_diag *d);

#endif
