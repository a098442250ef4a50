/*
 * feed_xml_pre.c - what is done to an XML feed's text before libxml2 sees
 * it: a DOCTYPE that declares entities is blanked (so nothing can expand,
 * and "billion laughs" costs one scan), and HTML's named entities that
 * feeds use undeclared become numeric references.
 */
#include "ingest/feed/feed_int.h"

#include <string.h>

#include "core/buf.h"
#include "ingest/parse/libs.h"

/* Blanks a DOCTYPE's internal subset when it declares entities; the copy
 * is malloc'ed (NULL when nothing needed blanking). */
char *feed__blank_entity_decls(const char *text, size_t len)
{
    const char *end = text + len;
    const char *dt = NULL;
    for (const char *p = text; p + 9 < end; p++) {
        if (*p != '<')
            continue;
        if (memcmp(p, "<!--", 4) == 0) {
            const char *e = p + 4;
            while (e + 3 <= end && memcmp(e, "-->", 3) != 0)
                e++;
            if (e + 3 > end)
                return NULL;
            p = e + 2;
            continue;
        }
        if (memcmp(p, "<!DOCTYPE", 9) == 0) {
            dt = p;
            break;
        }
        if (p[1] != '?' && p[1] != '!')
            return NULL; /* the root element: no DOCTYPE */
    }
    if (!dt)
        return NULL;
    const char *open = memchr(dt, '[', (size_t)(end - dt));
    const char *gt = memchr(dt, '>', (size_t)(end - dt));
    if (!open || (gt && gt < open))
        return NULL;
    /* The subset ends at the first ']' outside quoted literals. */
    const char *close = open + 1;
    char quote = 0;
    for (; close < end; close++) {
        if (quote) {
            if (*close == quote)
                quote = 0;
        } else if (*close == '"' || *close == '\'') {
            quote = *close;
        } else if (*close == ']') {
            break;
        }
    }
    const char *ent = NULL;
    for (const char *p = open; p + 8 <= close; p++)
        if (memcmp(p, "<!ENTITY", 8) == 0) {
            ent = p;
            break;
        }
    if (!ent)
        return NULL;
    char *copy = cc_xmalloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    memset(copy + (open - text), ' ', (size_t)(close - open) + (close < end));
    return copy;
}

static bool xml_entity(const char *name, size_t n)
{
    static const char *const predefined[] = {"amp", "lt", "gt", "quot", "apos"};
    for (size_t i = 0; i < 5; i++)
        if (strlen(predefined[i]) == n && memcmp(name, predefined[i], n) == 0)
            return true;
    return false;
}

/* HTML's named entities (&nbsp; &eacute; ...), which RSS 0.91's DTD and
 * careless feeds use without declaring, as numeric references XML knows.
 * NULL when there are none (the usual case); else a malloc'ed copy and
 * *len updated. Inside CDATA the rewrite is harmless: that text is HTML,
 * where both forms mean the same. Unknown names are left to the parser. */
char *feed__html_entities(struct feed *f, const char *text, size_t *len)
{
    const struct ingest_libs *L = ingest__libs();
    struct cc_buf b;
    const char *end = text + *len, *run = text;
    bool any = false;
    cc_buf_init(&b, SIZE_MAX / 2);
    for (const char *p = memchr(text, '&', *len); p; p = memchr(p + 1, '&', (size_t)(end - p - 1))) {
        const char *name = p + 1;
        size_t n = 0;
        while (name + n < end && n < 32 &&
               ((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= 'A' && name[n] <= 'Z') ||
                (n > 0 && name[n] >= '0' && name[n] <= '9')))
            n++;
        if (n == 0 || name + n >= end || name[n] != ';' || xml_entity(name, n))
            continue;
        char key[33];
        memcpy(key, name, n);
        key[n] = '\0';
        const htmlEntityDesc *e = L->htmlEntityLookup((const xmlChar *)key);
        if (!e)
            continue;
        if (!any)
            feed__bozo(f, "undefined entity &%s; read as HTML's", key);
        any = true;
        cc_buf_add(&b, run, (size_t)(p - run));
        cc_buf_addf(&b, "&#%u;", e->value);
        run = name + n + 1;
        if (run >= end)
            break;
    }
    if (!any) {
        cc_buf_release(&b);
        return NULL;
    }
    cc_buf_add(&b, run, (size_t)(end - run));
    *len = b.len;
    return cc_buf_take(&b);
}
