/*
 * feed_html.c - HTML in feeds: sanitized for summary and content, reduced to
 * text for titles. Both go through libxml2's HTML parser (forgiving, no
 * network, HTML's own entities only) and our own serializer, so what comes
 * out is always well-formed and holds only what the allow-lists say.
 *
 * Elements not allowed are unwrapped (their text stays), except those whose
 * content is code or chrome (script, style, iframe, object, ...), which are
 * dropped whole. Attributes not allowed are dropped; on* handlers are never
 * allowed. URL attributes are resolved against the entry's base and kept
 * only for http, https, mailto, ftp, tel, and for images also data:image/
 * (png, gif, jpeg, webp); javascript:, vbscript:, data: elsewhere and
 * every other scheme are dropped. docs/FEEDS.md repeats the lists.
 */
#include "ingest/feed/feed_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "ingest/parse/libs.h"

#define MAX_DEPTH 128

static const char *const allowed_elements[] = {
    "a", "abbr", "acronym", "address", "article", "aside", "audio", "b", "bdi", "bdo", "big",
    "blockquote", "br", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "font", "footer", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "picture", "pre", "q", "rp", "rt", "ruby", "s", "samp", "section", "small",
    "source", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "video", "wbr", NULL};

/* Dropped with everything inside. */
static const char *const dropped_elements[] = {
    "applet", "base", "button", "embed", "form", "frame", "frameset", "head", "iframe",
    "input", "link", "math", "meta", "noembed", "noframes", "noscript", "object", "param",
    "script", "select", "style", "svg", "template", "textarea", "title", "xml", NULL};

static const char *const void_elements[] = {
    "br", "col", "hr", "img", "source", "wbr", NULL};

static const char *const allowed_attrs[] = {
    "abbr", "align", "alt", "border", "cellpadding", "cellspacing", "cite", "class", "color",
    "cols", "colspan", "controls", "datetime", "dir", "face", "headers", "height", "href",
    "hreflang", "lang", "loop", "poster", "rowspan", "scope", "size", "span", "src", "srcset",
    "start", "summary", "title", "type", "valign", "width", NULL};

static const char *const url_attrs[] = {
    "cite", "href", "poster", "src", NULL};

/* Names from libxml2's HTML parser are lower-case, and XHTML's are by
 * definition; the lists are lower-case, sorted and NULL-terminated. */
static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static bool in_sorted(const char *s, const char *const *list, size_t n)
{
    return bsearch(s, list, n - 1, sizeof(*list), cmp_name) != NULL;
}

#define in(s, list) in_sorted((s), (list), sizeof(list) / sizeof((list)[0]))

bool feed__looks_like_html(const char *s)
{
    for (const char *p = s; (p = strpbrk(p, "<&")); p++) {
        char c = p[1];
        if (*p == '<' && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' ||
                          c == '!'))
            return true;
        if (*p == '&') {
            size_t n = strspn(p + 1, "#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789");
            if (n > 0 && p[1 + n] == ';')
                return true;
        }
    }
    return false;
}

/* s[0..n) HTML-escaped (quotes too in attribute values). */
static void escape(struct cc_buf *b, const char *s, size_t n, bool attr)
{
    const char *run = s; /* copied in one piece up to the next special byte */
    for (const char *p = s; p < s + n; p++) {
        const char *rep;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = attr ? "&quot;" : NULL; break;
        default: rep = NULL;
        }
        if (!rep)
            continue;
        cc_buf_add(b, run, (size_t)(p - run));
        cc_buf_addstr(b, rep);
        run = p + 1;
    }
    cc_buf_add(b, run, (size_t)(s + n - run));
}

static bool safe_url(const char *u, bool image)
{
    while (*u == ' ' || *u == '\t' || *u == '\n' || *u == '\r')
        u++;
    size_t n = strcspn(u, ":/?#");
    if (u[n] != ':')
        return true; /* relative: no scheme */
    static const char *const schemes[] = {"http", "https", "mailto", "ftp", "tel", NULL};
    for (const char *const *s = schemes; *s; s++)
        if (strlen(*s) == n && strncasecmp(u, *s, n) == 0)
            return true;
    if (image && strncasecmp(u, "data:image/", 11) == 0) {
        const char *t = u + 11;
        return strncasecmp(t, "png", 3) == 0 || strncasecmp(t, "gif", 3) == 0 ||
               strncasecmp(t, "jpeg", 4) == 0 || strncasecmp(t, "webp", 4) == 0;
    }
    return false;
}

/* The sanitizer is driven by events (element start and end, text), from
 * libxml2's HTML parser through SAX for strings, or from a tree walk for
 * Atom's inline XHTML; the parser never builds a tree for a string. Events
 * are balanced: the HTML parser closes what the markup left open. */
struct san {
    struct feed *f;
    const char *base;
    struct cc_buf out;
    int skip;        /* > 0 inside a dropped element: its nesting depth */
    bool text_only;  /* titles: text, no markup at all */
};

#define MAX_ATTRS 32

static void emit_attrs(struct san *s, const char *el, const char *const *atts)
{
    bool image = strcmp(el, "img") == 0 || strcmp(el, "source") == 0;
    for (int i = 0; atts && atts[i] && i < 2 * MAX_ATTRS; i += 2) {
        const char *name = atts[i];
        const char *v = atts[i + 1] ? atts[i + 1] : "";
        if (!in(name, allowed_attrs))
            continue;
        if (in(name, url_attrs)) {
            if (!safe_url(v, image))
                continue;
            v = feed__resolve(s->f, s->base, v);
        } else if (strcasecmp(name, "srcset") == 0 && strchr(v, ':')) {
            continue; /* srcset with schemes: not worth parsing to check */
        }
        cc_buf_addch(&s->out, ' ');
        cc_buf_addstr(&s->out, name);
        cc_buf_add(&s->out, "=\"", 2);
        escape(&s->out, v, strlen(v), true);
        cc_buf_addch(&s->out, '"');
    }
}

static void san_start(struct san *s, const char *name, const char *const *atts)
{
    if (s->skip) {
        s->skip++;
        return;
    }
    if (in(name, dropped_elements)) {
        s->skip = 1;
        return;
    }
    if (s->text_only || !in(name, allowed_elements))
        return; /* unwrapped: its text stays */
    cc_buf_addch(&s->out, '<');
    cc_buf_addstr(&s->out, name);
    emit_attrs(s, name, atts);
    if (in(name, void_elements))
        cc_buf_add(&s->out, " />", 3);
    else
        cc_buf_addch(&s->out, '>');
}

static void san_end(struct san *s, const char *name)
{
    if (s->skip) {
        s->skip--;
        return;
    }
    if (s->text_only || !in(name, allowed_elements) || in(name, void_elements))
        return;
    cc_buf_add(&s->out, "</", 2);
    cc_buf_addstr(&s->out, name);
    cc_buf_addch(&s->out, '>');
}

static void san_text(struct san *s, const char *t, size_t n)
{
    if (s->skip)
        return;
    if (s->text_only)
        cc_buf_add(&s->out, t, n);
    else
        escape(&s->out, t, n, false);
}

static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    san_start(ctx, (const char *)name, (const char *const *)atts);
}

static void sax_end(void *ctx, const xmlChar *name)
{
    san_end(ctx, (const char *)name);
}

static void sax_text(void *ctx, const xmlChar *t, int n)
{
    if (n > 0)
        san_text(ctx, (const char *)t, (size_t)n);
}

/* Runs html through libxml2's HTML parser into s. One parser context per
 * feed, reused: a new one per fragment cost more than the parse. */
static bool sax_parse(struct san *s, const char *html)
{
    const struct ingest_libs *L = ingest__libs();
    if (!L)
        return false;
    htmlParserCtxtPtr c = s->f->html_ctxt;
    if (!c) {
        c = s->f->html_ctxt = L->htmlNewParserCtxt();
        if (!c || !c->sax)
            return false;
        memset(c->sax, 0, sizeof(*c->sax));
        c->sax->startElement = sax_start;
        c->sax->endElement = sax_end;
        c->sax->characters = sax_text;
        c->sax->cdataBlock = sax_text;
        c->sax->ignorableWhitespace = sax_text;
    }
    c->userData = s;
    struct cc_buf b;
    cc_buf_init(&b, SIZE_MAX / 2);
    /* The body is opened explicitly so leading text is not put in a <p>. */
    cc_buf_addstr(&b, "<html><body>");
    cc_buf_addstr(&b, html);
    bool ok = b.len < INT_MAX;
    if (ok) {
        xmlDoc *doc = L->htmlCtxtReadMemory(c, cc_buf_str(&b), (int)b.len, NULL, "UTF-8",
                                            HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                                HTML_PARSE_NOWARNING | HTML_PARSE_RECOVER |
                                                HTML_PARSE_NOIMPLIED | HTML_PARSE_COMPACT);
        if (doc)
            L->xmlFreeDoc(doc); /* not built without a startDocument handler */
    }
    cc_buf_release(&b);
    return ok;
}

static void san_tree(struct san *s, const xmlNode *n, int depth)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                san_text(s, (const char *)n->content, strlen((const char *)n->content));
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        const char *atts[2 * MAX_ATTRS + 1];
        int k = 0;
        for (const xmlAttr *a = n->properties; a && k < 2 * MAX_ATTRS; a = a->next) {
            atts[k++] = (const char *)a->name;
            atts[k++] = a->children && a->children->content
                            ? (const char *)a->children->content : "";
        }
        atts[k] = NULL;
        san_start(s, (const char *)n->name, atts);
        san_tree(s, n->children, depth + 1);
        san_end(s, (const char *)n->name);
    }
}

static const char *san_result(struct san *s)
{
    const char *r = s->text_only ? feed__trimdup(s->f, cc_buf_str(&s->out))
                                 : feed__strndup(s->f, cc_buf_str(&s->out), s->out.len);
    cc_buf_release(&s->out);
    return r;
}

const char *feed__sanitize_tree(struct feed *f, const xmlNode *first, const char *base)
{
    struct san s = {.f = f, .base = base};
    cc_buf_init(&s.out, SIZE_MAX / 2);
    san_tree(&s, first, 0);
    return san_result(&s);
}

const char *feed__tree_text(struct feed *f, const xmlNode *first)
{
    struct san s = {.f = f, .text_only = true};
    cc_buf_init(&s.out, SIZE_MAX / 2);
    san_tree(&s, first, 0);
    return san_result(&s);
}

/* Tags a fragment may hold and still be its own sanitized form. */
static const char *const plain_tags[] = {"b", "blockquote", "code", "em", "i", "li", "ol",
                                         "p", "pre", "s", "small", "strong", "sub", "sup",
                                         "u", "ul", NULL};

/* True when html is already what the sanitizer would write: text without
 * '<' '>' and with only &amp; &lt; &gt; as entities, plus balanced, bare
 * (attribute-less, lower-case) tags from plain_tags and "<br />". Most
 * feed descriptions are; they skip libxml2, whose set-up per fragment
 * cost more than the rest of a short item. */
static bool already_clean(const char *html)
{
    enum { MAX_OPEN = 16 };
    const char *open[MAX_OPEN];
    size_t open_len[MAX_OPEN];
    int depth = 0;
    for (const char *p = html; *p; ) {
        if (*p == '>')
            return false;
        if (*p == '&') {
            if (strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
                strncmp(p, "&gt;", 4) == 0) {
                p += p[1] == 'a' ? 5 : 4;
                continue;
            }
            return false;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (strncmp(p, "<br />", 6) == 0) {
            p += 6;
            continue;
        }
        bool closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz");
        if (n == 0 || name[n] != '>')
            return false;
        char tag[16];
        if (n >= sizeof(tag))
            return false;
        memcpy(tag, name, n);
        tag[n] = '\0';
        if (!in(tag, plain_tags))
            return false;
        if (!closing) {
            if (depth == MAX_OPEN)
                return false;
            open[depth] = name;
            open_len[depth++] = n;
        } else if (depth == 0 || open_len[depth - 1] != n ||
                   memcmp(open[depth - 1], name, n) != 0) {
            return false;
        } else {
            depth--;
        }
        p = name + n + 1;
    }
    return depth == 0;
}

const char *feed__sanitize(struct feed *f, const char *html, const char *base)
{
    if (!html)
        return NULL;
    if (already_clean(html))
        return html; /* text, or simple markup: already its sanitized form */
    struct san s = {.f = f, .base = base};
    cc_buf_init(&s.out, SIZE_MAX / 2);
    if (!sax_parse(&s, html)) {
        cc_buf_release(&s.out);
        return "";
    }
    return san_result(&s);
}

const char *feed__html_text(struct feed *f, const char *html)
{
    if (!html || !feed__looks_like_html(html))
        return html;
    struct san s = {.f = f, .text_only = true};
    cc_buf_init(&s.out, SIZE_MAX / 2);
    if (!sax_parse(&s, html)) {
        cc_buf_release(&s.out);
        return html;
    }
    return san_result(&s);
}
