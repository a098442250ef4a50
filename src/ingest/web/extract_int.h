/*
 * extract_int.h - the site rules extract.c applies, as data
 * (extract_rules.c). Internal to ingest/web.
 *
 * A selector matches an element by tag, class token and attribute, each
 * optional; a list of selectors ends with an all-NULL entry. A rule names
 * a generator: the substrings of <meta name="generator"> that announce it,
 * the markup that gives it away when the meta is missing, where its
 * content lives (in order of preference: the first selector that matches
 * anything wins) and the chrome it adds inside that content.
 */
#ifndef CC_INGEST_WEB_EXTRACT_INT_H
#define CC_INGEST_WEB_EXTRACT_INT_H

#include <stdbool.h>

#include <libxml/tree.h>

#include "ingest/web/extract.h"

struct ingest__sel {
    const char *tag;      /* element name, or NULL for any */
    const char *cls;      /* a class token it must have, or NULL */
    const char *attr;     /* an attribute it must have, or NULL */
    const char *value;    /* that attribute's value (case-insensitive), or NULL */
};

struct ingest__site_rule {
    enum ingest_site site;
    const char *const *generators;       /* NULL-terminated */
    const struct ingest__sel *markers;
    const struct ingest__sel *content;
    const struct ingest__sel *drop;
    /* Where the page's h1 is when the generator puts it outside the
     * content root (GitBook's page header); NULL when it never does. */
    const struct ingest__sel *heading;
};

/* The rules in detection order (MkDocs Material before MkDocs, whose
 * generator string it contains), ending with site INGEST_SITE_GENERIC. */
extern const struct ingest__site_rule ingest__site_rules[];

bool ingest__sel_match(const struct ingest__sel *s, const xmlNode *n);
/* Whether any selector of the list matches n. */
bool ingest__sel_any(const struct ingest__sel *list, const xmlNode *n);

#endif
