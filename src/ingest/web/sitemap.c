/*
 * sitemap.c - sitemaps and sitemap indexes, plain, gzip-compressed or as a
 * text list (see sitemap.h).
 */
#include "ingest/web/sitemap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "core/buf.h"
#include "core/clock.h"
#include "ingest/parse/libs.h"
#include "ingest/parse/parse_int.h"

#define MAX_DEPTH 64
#define MAX_LOC 4096              /* longer <loc> values are refused (the protocol: 2,048) */

/* ---- gzip ------------------------------------------------------------------- */

cc_err ingest_gunzip(const void *data, size_t len, size_t max, char **out, size_t *out_len)
{
    z_stream z = { 0 };
    struct cc_buf b;
    cc_buf_init(&b, max);
    cc_err err = CC_EPARSE;
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        err = CC_ENOMEM;
        goto out;
    }
    const unsigned char *in = data;
    size_t left = len;
    unsigned char chunk[65536];
    int zr = Z_OK;
    while (zr != Z_STREAM_END) {
        if (z.avail_in == 0) {
            if (left == 0)
                break;                           /* truncated stream */
            z.next_in = (unsigned char *)in;
            z.avail_in = left > UINT_MAX ? UINT_MAX : (unsigned)left;
            in += z.avail_in;
            left -= z.avail_in;
        }
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            break;
        if (cc_buf_add(&b, chunk, sizeof(chunk) - z.avail_out) != CC_OK) {
            err = CC_ELIMIT;
            goto out;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0 && left == 0)
            break;
    }
    if (zr != Z_STREAM_END)
        goto out;
    err = CC_OK;
out:
    inflateEnd(&z);
    if (!err) {
        *out_len = b.len;
        *out = cc_buf_take(&b);
    }
    cc_buf_release(&b);
    return err;
}

/* ---- W3C datetime -------------------------------------------------------- */

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Rewrites the W3C forms to the RFC 3339 cc_parse_rfc3339 reads:
 * YYYY -> YYYY-01-01, YYYY-MM -> YYYY-MM-01, hh:mm -> hh:mm:00, no zone ->
 * Z, +hhmm -> +hh:mm. */
cc_err ingest_w3c_datetime_parse(const char *s, int64_t *out_ms)
{
    char buf[64];
    size_t n = strlen(s);
    if (n < 4 || n > 40 || !digits(s, 4))
        return CC_EINVAL;
    if (n == 4) {
        snprintf(buf, sizeof(buf), "%.4s-01-01", s);
        return cc_parse_rfc3339(buf, out_ms);
    }
    if (n == 7 && s[4] == '-' && digits(s + 5, 2)) {
        snprintf(buf, sizeof(buf), "%.7s-01", s);
        return cc_parse_rfc3339(buf, out_ms);
    }
    if (n < 10)
        return CC_EINVAL;
    if (n == 10)
        return cc_parse_rfc3339(s, out_ms);
    if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || n < 16 || s[13] != ':')
        return CC_EINVAL;
    size_t i = 16;
    memcpy(buf, s, 16);
    size_t o = 16;
    if (s[i] == ':') {                            /* seconds, maybe a fraction */
        size_t j = i + 1;
        while (j < n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.'))
            j++;
        memcpy(buf + o, s + i, j - i);
        o += j - i;
        i = j;
    } else {
        memcpy(buf + o, ":00", 3);
        o += 3;
    }
    if (i == n) {
        buf[o++] = 'Z';
    } else if ((s[i] == '+' || s[i] == '-') && n - i == 5 && digits(s + i + 1, 4)) {
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%c%.2s:%.2s", s[i], s + i + 1,
                              s + i + 3);
    } else {
        if (n - i > 6)
            return CC_EINVAL;
        memcpy(buf + o, s + i, n - i);
        o += n - i;
    }
    buf[o] = '\0';
    return cc_parse_rfc3339(buf, out_ms);
}

/* ---- XML ------------------------------------------------------------------- */

static const char *local_name(const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->name ? (const char *)n->name : "";
}

/* Text of n's text and CDATA children only: entity references are not
 * followed, so nothing a DTD declares is ever expanded. Trimmed. */
static cc_err text_of(const xmlNode *n, struct cc_buf *b)
{
    cc_buf_reset(b);
    for (const xmlNode *c = n->children; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            cc_err err = cc_buf_addstr(b, (const char *)c->content);
            if (err)
                return err;
        }
    size_t start = 0, end = b->len;
    while (start < end && (unsigned char)b->ptr[start] <= ' ')
        start++;
    while (end > start && (unsigned char)b->ptr[end - 1] <= ' ')
        end--;
    if (b->ptr) {
        memmove(b->ptr, b->ptr + start, end - start);
        b->len = end - start;
        b->ptr[b->len] = '\0';
    }
    return CC_OK;
}

struct reader {
    struct ingest_sitemap *s;
    size_t cap;
    struct cc_buf text;
};

static bool changefreq_word(const char *v)
{
    static const char *const WORDS[] = { "always", "hourly", "daily", "weekly", "monthly",
                                         "yearly", "never", NULL };
    for (const char *const *w = WORDS; *w; w++)
        if (strcasecmp(v, *w) == 0)
            return true;
    return false;
}

static void entry_field(struct reader *r, struct ingest_sitemap_entry *e, const xmlNode *f)
{
    const char *name = local_name(f);
    if (text_of(f, &r->text) != CC_OK)
        return;
    const char *v = cc_buf_str(&r->text);
    if (strcmp(name, "loc") == 0 && !e->loc && r->text.len > 0) {
        e->loc = cc_xstrdup(v);
    } else if (strcmp(name, "lastmod") == 0) {
        int64_t ms;
        if (ingest_w3c_datetime_parse(v, &ms) == CC_OK)
            e->lastmod_ms = ms;
    } else if (strcmp(name, "changefreq") == 0 && changefreq_word(v)) {
        size_t i = 0;
        for (; v[i] && i + 1 < sizeof(e->changefreq); i++)
            e->changefreq[i] = (char)(v[i] | 0x20);
        e->changefreq[i] = '\0';
    } else if (strcmp(name, "priority") == 0 && r->text.len > 0 && r->text.len < 16) {
        char *end;
        double p = strtod(v, &end);
        if (*end == '\0' && p >= 0.0 && p <= 1.0)
            e->priority = p;
    }
}

static void add_entry(struct reader *r, const xmlNode *n)
{
    struct ingest_sitemap *s = r->s;
    struct ingest_sitemap_entry e = { .lastmod_ms = INGEST_SITEMAP_NO_TIME, .priority = -1 };
    for (const xmlNode *f = n->children; f; f = f->next)
        if (f->type == XML_ELEMENT_NODE)
            entry_field(r, &e, f);
    if (!e.loc || strlen(e.loc) > MAX_LOC) {
        free(e.loc);
        s->skipped++;
        return;
    }
    if (s->n == INGEST_SITEMAP_MAX_URLS) {
        free(e.loc);
        s->truncated = true;
        return;
    }
    if (s->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        s->entries = cc_xrealloc(s->entries, r->cap * sizeof(*s->entries));
    }
    s->entries[s->n++] = e;
}

static cc_err read_xml(const char *data, size_t len, const char *name,
                       struct ingest_sitemap *s, struct cc_diag *d)
{
    const struct ingest_libs *L = ingest__libs();
    if (!L) {
        cc_diag_set(d, name, 0, 0, "sitemaps need libxml2: %s", ingest__libs_error());
        return CC_EUNSUPPORTED;
    }
    if (ingest__too_many_attrs(data, len)) {
        cc_diag_set(d, name, 0, 0, "an XML tag has more than %d attributes", INGEST_MAX_ATTRS);
        return CC_EPARSE;
    }
    xmlParserCtxtPtr ctxt = L->xmlNewParserCtxt();
    if (!ctxt)
        return CC_ENOMEM;
    struct ingest__xml_quiet quiet;
    ingest__xml_quiet_begin(&quiet);
    /* No NOENT (entities stay references), no DTDLOAD, no network. */
    xmlDocPtr doc = L->xmlCtxtReadMemory(ctxt, data, (int)len, name ? name : "sitemap.xml", NULL,
                                         XML_PARSE_NONET | XML_PARSE_NOERROR |
                                             XML_PARSE_NOWARNING | XML_PARSE_COMPACT);
    ingest__xml_quiet_end(&quiet);
    cc_err err = CC_EPARSE;
    xmlNode *root = doc ? L->xmlDocGetRootElement(doc) : NULL;
    if (!doc) {
        const xmlError *e = L->xmlCtxtGetLastError(ctxt);
        cc_diag_set(d, name, e ? (unsigned)e->line : 0, e ? (unsigned)e->int2 : 0,
                    "not well-formed XML: %s", e && e->message ? e->message : "unreadable");
        goto out;
    }
    const char *rn = root ? local_name(root) : "";
    const char *item = strcmp(rn, "urlset") == 0 ? "url"
                       : strcmp(rn, "sitemapindex") == 0 ? "sitemap" : NULL;
    if (!item) {
        cc_diag_set(d, name, 0, 0, "not a sitemap: the root element is <%s>, expected <urlset> "
                    "or <sitemapindex>", rn);
        goto out;
    }
    s->kind = item[1] == 'r' ? INGEST_SITEMAP_URLSET : INGEST_SITEMAP_INDEX;
    struct reader r = { .s = s };
    cc_buf_init(&r.text, MAX_LOC * 4);
    for (const xmlNode *n = root->children; n; n = n->next)
        if (strcmp(local_name(n), item) == 0)
            add_entry(&r, n);
    cc_buf_release(&r.text);
    err = CC_OK;
out:
    if (doc)
        L->xmlFreeDoc(doc);
    L->xmlFreeParserCtxt(ctxt);
    return err;
}

/* The text form: one absolute http(s) URL per line, nothing else. */
static cc_err read_text(const char *data, size_t len, const char *name,
                        struct ingest_sitemap *s, struct cc_diag *d)
{
    size_t cap = 0, line = 0;
    s->kind = INGEST_SITEMAP_URLSET;
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && data[e] != '\n')
            e++;
        line++;
        size_t a = i, b = e;
        while (a < b && (unsigned char)data[a] <= ' ')
            a++;
        while (b > a && (unsigned char)data[b - 1] <= ' ')
            b--;
        i = e + 1;
        if (a == b)
            continue;
        bool url = (b - a > 7 && strncasecmp(data + a, "http://", 7) == 0) ||
                   (b - a > 8 && strncasecmp(data + a, "https://", 8) == 0);
        if (!url || memchr(data + a, ' ', b - a) || memchr(data + a, '\0', b - a)) {
            cc_diag_set(d, name, (unsigned)line, 1, "not a sitemap: line %zu is not an http(s) "
                        "URL (a text sitemap has one URL per line)", line);
            return CC_EPARSE;
        }
        if (b - a > MAX_LOC) {
            s->skipped++;
            continue;
        }
        if (s->n == INGEST_SITEMAP_MAX_URLS) {
            s->truncated = true;
            break;
        }
        if (s->n == cap) {
            cap = cap ? cap * 2 : 64;
            s->entries = cc_xrealloc(s->entries, cap * sizeof(*s->entries));
        }
        s->entries[s->n++] = (struct ingest_sitemap_entry){
            .loc = cc_xstrndup(data + a, b - a), .lastmod_ms = INGEST_SITEMAP_NO_TIME,
            .priority = -1 };
    }
    if (s->n == 0 && s->skipped == 0) {
        cc_diag_set(d, name, 0, 0, "not a sitemap: empty");
        return CC_EPARSE;
    }
    return CC_OK;
}

cc_err ingest_sitemap_parse(const void *data, size_t len, const char *name,
                            struct ingest_sitemap *out, struct cc_diag *d)
{
    struct ingest_sitemap s = { .kind = INGEST_SITEMAP_URLSET };
    char *plain = NULL;
    const char *p = data;
    size_t n = len;
    cc_err err = CC_ELIMIT;
    if (len > INGEST_SITEMAP_MAX_BYTES) {
        cc_diag_set(d, name, 0, 0, "sitemap of %zu bytes is over the %zu-byte limit", len,
                    INGEST_SITEMAP_MAX_BYTES);
        goto out;
    }
    if (len >= 2 && p[0] == '\x1f' && p[1] == '\x8b') {
        err = ingest_gunzip(data, len, INGEST_SITEMAP_MAX_BYTES, &plain, &n);
        if (err) {
            cc_diag_set(d, name, 0, 0, err == CC_ELIMIT
                            ? "sitemap inflates past the %zu-byte limit"
                            : "damaged gzip data (limit %zu bytes)", INGEST_SITEMAP_MAX_BYTES);
            goto out;
        }
        p = plain;
        s.gzipped = true;
    }
    size_t skip = n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (skip < n && (unsigned char)p[skip] <= ' ' && p[skip] != '\0')
        skip++;
    if (skip < n && p[skip] == '<')
        err = read_xml(p, n, name, &s, d);
    else
        err = read_text(p + skip, n - skip, name, &s, d);
out:
    free(plain);
    if (!err)
        *out = s;
    else
        ingest_sitemap_release(&s);
    return err;
}

void ingest_sitemap_release(struct ingest_sitemap *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->entries[i].loc);
    free(s->entries);
    *s = (struct ingest_sitemap){ 0 };
}
