/*
 * html_int.h - the pieces of parse/html.c that ingest/web/extract.c builds
 * on: parsing a page, recognizing chrome, and walking a content root into
 * the document model. One walker for both, so a page ingested as a file
 * and the same page crawled from a docs site give the same blocks.
 * Internal to the ingest module (double underscore).
 */
#ifndef CC_INGEST_PARSE_HTML_INT_H
#define CC_INGEST_PARSE_HTML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "core/diag.h"
#include "core/err.h"
#include "ingest/text.h"

/* Parses html[0..len) as ingest_html_extract does (same limits, encoding
 * sniffing and errors). *out is the document, to free with the libs
 * table's xmlFreeDoc, or NULL for empty input or input libxml2 makes
 * nothing of. */
cc_err ingest__html_parse(const char *html, size_t len, const char *base_url, xmlDoc **out,
                          struct cc_diag *d);

/* Walks `content` into t as html.c does (see there for what becomes a
 * heading, code, list item or paragraph and what is dropped); skip (may
 * be NULL) drops further subtrees. Content that would itself be dropped
 * is walked anyway (its children), since the caller chose it. CC_ELIMIT
 * from t's limit. */
cc_err ingest__html_walk(const xmlNode *content, struct ingest_text *t,
                         bool (*skip)(const xmlNode *n, void *arg), void *arg);

/* Sets t's title from <title> (site suffix cut), else the first h1 block. */
cc_err ingest__html_title(struct ingest_text *t, xmlNode *root);

bool ingest__html_is(const xmlNode *n, const char *name);     /* element named so */
const char *ingest__html_attr(const xmlNode *n, const char *name);   /* NULL if absent */
bool ingest__html_has_class(const xmlNode *n, const char *cls);      /* class token */
bool ingest__html_dropped(const xmlNode *n);                 /* chrome html.c skips */
/* `word` in s as a word part ("toc" in "theme-doc-toc", not "protocol"). */
bool ingest__html_word_part(const char *s, const char *word);
const char *ingest__html_find_ci(const char *s, const char *needle);  /* ASCII strcasestr */
int ingest__html_heading_level(const xmlNode *n);            /* 1-6, else 0 */
xmlNode *ingest__html_find(xmlNode *n, const char *name);    /* first element, depth-first */
/* Length of s[0..n) without a " | Site" style suffix. */
size_t ingest__html_strip_suffix(const char *s, size_t n);

#endif
