/*
 * html.c - main-content extraction from HTML pages with libxml2's HTML
 * parser (forgiving, as browsers are; no network; only HTML's own entities).
 *
 * The content root is the first element of the best rank found:
 *   0 Docusaurus .theme-doc-markdown     1 Docusaurus/others: article .markdown
 *   2 MkDocs .md-content                 3 Sphinx div.body (in .documentwrapper
 *                                           or .bodywrapper)
 *   4 GitBook .markdown-section, .page-inner
 *   5 <main>   6 <article>   7 [role=main]   8 Sphinx div.document   else <body>
 * The documentation generators' own containers come first because they hold
 * exactly the page's text, while their <main> also holds version badges and
 * other chrome; on any other site the generic order main, article,
 * [role=main] applies.
 *
 * Inside the root, whole subtrees are skipped: nav, aside, footer, script,
 * style, noscript, svg, iframe, button, select, template, canvas, object,
 * embed; <form> unless it holds an h1 or h2 (ASP.NET wraps whole pages in
 * one); <header> unless it belongs to an <article> (Docusaurus puts the
 * page's h1 there); anything hidden (hidden, aria-hidden="true"); roles
 * navigation, banner, contentinfo, complementary, search; class or id
 * containing sidebar, breadcrumb, navbar, footer, cookie, or "toc" as a word
 * part (theme-doc-toc-desktop, tocCollapsible, not "protocol"), or equal to
 * headerlink, hash-link, anchorjs-link, sr-only, visually-hidden, linenos,
 * linenodiv (Pygments' line-number column beside a code table).
 *
 * Output: h1-h6 as headings; <pre> as code (lang from language-x, lang-x or
 * highlight-x classes on the pre, its code child or five ancestors (Sphinx
 * puts a numbered block's pre in a table inside div.highlight-x); <br>
 * inside is a line end); li as list items; each table row as one paragraph
 * with cells joined by " | " (a row's cells belong together for search);
 * text of every other block element (p, div, dd, blockquote, ...) as
 * paragraphs. Title: <title> without a " | Site", " — Site" style suffix,
 * else the first h1.
 *
 * Limits: the tree walk stops descending at MAX_DEPTH (deeper content is
 * dropped, not crashed on); the text limit bounds the output.
 */
#include "ingest/parse/parse.h"
#include "ingest/parse/parse_int.h"
#include "ingest/parse/libs.h"
#include "ingest/parse/html_int.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "core/buf.h"

#define MAX_DEPTH 256
#define NO_RANK 100

struct walk {
    struct ingest_text *t;
    bool (*skip)(const xmlNode *n, void *arg);   /* the caller's extra drops, or NULL */
    void *skip_arg;
    struct cc_buf inl;                 /* text gathered for the next block */
    enum ingest_block_kind kind;       /* what that block will be */
    int level;
};

static bool is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static bool is_any(const xmlNode *n, const char *const *names)
{
    for (; *names; names++)
        if (is(n, *names))
            return true;
    return false;
}

/* The attribute's value without allocating: its first text child. */
static const char *attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->name && strcasecmp((const char *)a->name, name) == 0) {
            if (a->children && a->children->content)
                return (const char *)a->children->content;
            return "";
        }
    }
    return NULL;
}

/* Whether the class attribute has the token `cls` (exactly). */
static bool has_class(const xmlNode *n, const char *cls)
{
    const char *c = attr(n, "class");
    size_t len = strlen(cls);
    while (c && *c) {
        c += strspn(c, " \t\r\n\f");
        size_t k = strcspn(c, " \t\r\n\f");
        if (k == len && strncmp(c, cls, len) == 0)
            return true;
        c += k;
    }
    return false;
}

static bool has_ancestor(const xmlNode *n, const char *name)
{
    for (n = n->parent; n; n = n->parent)
        if (is(n, name))
            return true;
    return false;
}

static bool ancestor_with_class(const xmlNode *n, const char *const *classes)
{
    for (n = n->parent; n; n = n->parent)
        for (const char *const *c = classes; *c; c++)
            if (n->type == XML_ELEMENT_NODE && has_class(n, *c))
                return true;
    return false;
}

/* Case-insensitive strstr for ASCII needles (strcasestr is a GNU one). */
static const char *find_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return s;
    return NULL;
}

static bool lower_alpha(char c)
{
    return c >= 'a' && c <= 'z';
}

/* `word` as a word part: not preceded by a letter, not followed by a
 * lower-case letter ("toc", "doc-toc-x", "tocCollapsible", "navbar__inner";
 * not "protocol", not "anchorWithStickyNavbar"). */
static bool word_part(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = s; (p = find_ci(p, word)) != NULL; p += n) {
        bool start = p == s || !((p[-1] | 0x20) >= 'a' && (p[-1] | 0x20) <= 'z');
        if (start && !lower_alpha(p[n]))
            return true;
    }
    return false;
}

static bool chrome_name(const char *v)
{
    static const char *const PARTS[] = { "sidebar", "breadcrumb", "footer", "cookie", NULL };
    static const char *const TOKENS[] = { "headerlink", "hash-link", "anchorjs-link",
                                          "sr-only", "visually-hidden", "linenos",
                                          "linenodiv", NULL };
    if (!v)
        return false;
    for (const char *const *p = PARTS; *p; p++)
        if (find_ci(v, *p))
            return true;
    for (const char *const *p = TOKENS; *p; p++) {
        size_t len = strlen(*p);
        for (const char *q = v; (q = strstr(q, *p)) != NULL; q += len) {
            bool start = q == v || q[-1] == ' ';
            if (start && (q[len] == '\0' || q[len] == ' '))
                return true;
        }
    }
    return word_part(v, "toc") || word_part(v, "navbar");
}

/* 1-6 for h1-h6, else 0. */
static int heading_level(const xmlNode *n)
{
    const char *name = (const char *)n->name;
    if (n->type == XML_ELEMENT_NODE && name && name[0] == 'h' && name[1] >= '1' &&
        name[1] <= '6' && name[2] == '\0')
        return name[1] - '0';
    return 0;
}

/* Whether an h1 or h2 is under n (depth-bounded). */
static bool has_title_heading(const xmlNode *n, int depth)
{
    for (n = n->children; n && depth < MAX_DEPTH; n = n->next) {
        int level = heading_level(n);
        if (level == 1 || level == 2 || (n->type == XML_ELEMENT_NODE &&
                                         has_title_heading(n, depth + 1)))
            return true;
    }
    return false;
}

static bool dropped(const xmlNode *n)
{
    static const char *const NAMES[] = {
        "nav", "aside", "footer", "script", "style", "noscript", "svg", "iframe",
        "button", "select", "template", "canvas", "object", "embed", "head", "title", NULL
    };
    static const char *const ROLES[] = { "navigation", "banner", "contentinfo",
                                         "complementary", "search", NULL };
    if (is(n, "html") || is(n, "body"))
        return false;                    /* body class="sidebar-open" is not chrome */
    if (is_any(n, NAMES) || (is(n, "header") && !has_ancestor(n, "article")))
        return true;
    /* ASP.NET pages wrap everything in one <form>: a form with page
     * headings is content, a search box or newsletter signup is not. */
    if (is(n, "form") && !has_title_heading(n, 0))
        return true;
    const char *v = attr(n, "aria-hidden");
    if (attr(n, "hidden") || (v && strcasecmp(v, "true") == 0))
        return true;
    v = attr(n, "role");
    for (const char *const *r = ROLES; v && *r; r++)
        if (strcasecmp(v, *r) == 0)
            return true;
    if (heading_level(n))
        return false;                    /* class="anchorWithStickyNavbar" */
    return chrome_name(attr(n, "class")) || chrome_name(attr(n, "id"));
}

static int rank(const xmlNode *n)
{
    static const char *const SPHINX_WRAP[] = { "documentwrapper", "bodywrapper", NULL };
    const char *role = attr(n, "role");
    if (has_class(n, "theme-doc-markdown"))
        return 0;
    if (has_class(n, "markdown") && has_ancestor(n, "article"))
        return 1;
    if (has_class(n, "md-content"))
        return 2;
    if (is(n, "div") && has_class(n, "body") && ancestor_with_class(n, SPHINX_WRAP))
        return 3;
    if (has_class(n, "markdown-section") || has_class(n, "page-inner"))
        return 4;
    if (is(n, "main"))
        return 5;
    if (is(n, "article"))
        return 6;
    if (role && strcasecmp(role, "main") == 0)
        return 7;
    if (is(n, "div") && has_class(n, "document"))
        return 8;
    return NO_RANK;
}

/* Best-ranked element under n (first in document order among equals). */
static void find_root(xmlNode *n, int depth, xmlNode **best, int *best_rank)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || dropped(n))
            continue;
        int r = rank(n);
        if (r < *best_rank) {
            *best = n;
            *best_rank = r;
        }
        if (*best_rank > 0)
            find_root(n->children, depth + 1, best, best_rank);
    }
}

static xmlNode *find_element(xmlNode *n, const char *name, int depth)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if (is(n, name))
            return n;
        if (n->type == XML_ELEMENT_NODE && !is(n, "svg")) {
            xmlNode *f = find_element(n->children, name, depth + 1);
            if (f)
                return f;
        }
    }
    return NULL;
}

/* ---- gathering text --------------------------------------------------- */

static cc_err flush(struct walk *w)
{
    cc_err err = ingest_text_add(w->t, w->kind, w->level, cc_buf_str(&w->inl), w->inl.len,
                                 NULL);
    cc_buf_reset(&w->inl);
    return err;
}

static bool pending(const struct walk *w)
{
    for (size_t i = 0; i < w->inl.len; i++)
        if ((unsigned char)w->inl.ptr[i] > ' ')
            return true;
    return false;
}

/* All text under n verbatim, <br> as a line end, for <pre>. */
static cc_err gather_code(struct cc_buf *b, const xmlNode *n, int depth)
{
    cc_err err = CC_OK;
    for (; n && !err && depth < MAX_DEPTH; n = n->next) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
            err = cc_buf_addstr(b, (const char *)n->content);
        else if (is(n, "br"))
            err = cc_buf_addch(b, '\n');
        else if (n->type == XML_ELEMENT_NODE && !dropped(n) && !has_class(n, "linenos") &&
                 !has_class(n, "lineno"))
            err = gather_code(b, n->children, depth + 1);
    }
    return err;
}

/* language-x, lang-x, highlight-x (Sphinx) in n's class; NULL if none. */
static bool class_lang(const xmlNode *n, char *out, size_t outsz)
{
    static const char *const PREFIXES[] = { "language-", "lang-", "highlight-", NULL };
    const char *c = n->type == XML_ELEMENT_NODE ? attr(n, "class") : NULL;
    while (c && *c) {
        c += strspn(c, " \t\r\n\f");
        size_t k = strcspn(c, " \t\r\n\f");
        for (const char *const *p = PREFIXES; *p; p++) {
            size_t pl = strlen(*p);
            size_t vl = k - pl;
            if (k > pl && vl < outsz && strncmp(c, *p, pl) == 0 &&
                !(vl == 7 && strncmp(c + pl, "default", 7) == 0) &&
                !(vl == 4 && strncmp(c + pl, "none", 4) == 0)) {
                memcpy(out, c + pl, vl);
                out[vl] = '\0';
                return true;
            }
        }
        c += k;
    }
    return false;
}

static void code_lang(const xmlNode *pre, char *out, size_t outsz)
{
    out[0] = '\0';
    if (class_lang(pre, out, outsz))
        return;
    for (const xmlNode *c = pre->children; c; c = c->next)
        if (is(c, "code") && class_lang(c, out, outsz))
            return;
    const xmlNode *a = pre->parent;
    for (int i = 0; i < 5 && a; i++, a = a->parent)
        if (class_lang(a, out, outsz))
            return;
}

static cc_err pre_block(struct walk *w, const xmlNode *pre)
{
    char lang[INGEST_LANG_MAX + 1];
    struct cc_buf code;
    cc_buf_init(&code, w->t->limit);
    cc_err err = flush(w);
    if (!err)
        err = gather_code(&code, pre->children, 0);
    code_lang(pre, lang, sizeof(lang));
    if (!err)
        err = ingest_text_add(w->t, INGEST_CODE, 0, cc_buf_str(&code), code.len,
                              lang[0] ? lang : NULL);
    cc_buf_release(&code);
    return err;
}

static cc_err walk_children(struct walk *w, const xmlNode *n, int depth);

/* Walks n's children as one block of the given kind, flushing around it. */
static cc_err block(struct walk *w, const xmlNode *n, enum ingest_block_kind kind, int level,
                    int depth)
{
    enum ingest_block_kind saved_kind = w->kind;
    int saved_level = w->level;
    cc_err err = flush(w);
    w->kind = kind;
    w->level = level;
    if (!err)
        err = walk_children(w, n->children, depth + 1);
    if (!err)
        err = flush(w);
    w->kind = saved_kind;
    w->level = saved_level;
    return err;
}

static bool is_block(const xmlNode *n)
{
    static const char *const NAMES[] = {
        "p", "div", "section", "article", "main", "ul", "ol", "dl", "dt", "dd",
        "blockquote", "table", "thead", "tbody", "tfoot", "tr", "caption", "figure",
        "figcaption", "details", "summary", "header", "address", "hr", "center",
        "fieldset", "legend", "body", "html", "dialog", "menu", NULL
    };
    return is_any(n, NAMES);
}

static cc_err element(struct walk *w, const xmlNode *n, int depth)
{
    if (dropped(n) || (w->skip && w->skip(n, w->skip_arg)))
        return CC_OK;
    if (heading_level(n))
        return block(w, n, INGEST_HEADING, heading_level(n), depth);
    if (is(n, "pre"))
        return pre_block(w, n);
    if (is(n, "li"))
        return block(w, n, INGEST_LIST_ITEM, 0, depth);
    if (is(n, "br"))
        return cc_buf_addch(&w->inl, '\n');
    if ((is(n, "td") || is(n, "th")) && pending(w)) {
        cc_err err = cc_buf_addstr(&w->inl, " | ");
        return err ? err : walk_children(w, n->children, depth + 1);
    }
    /* Inside a heading a wrapper div is part of the heading's text. */
    if (is_block(n) && w->kind != INGEST_HEADING)
        return block(w, n, w->kind, 0, depth);
    return walk_children(w, n->children, depth + 1);
}

static cc_err walk_children(struct walk *w, const xmlNode *n, int depth)
{
    cc_err err = CC_OK;
    if (depth >= MAX_DEPTH)
        return CC_OK;
    for (; n && !err; n = n->next) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
            err = cc_buf_addstr(&w->inl, (const char *)n->content);
        else if (n->type == XML_ELEMENT_NODE && n->name)
            err = element(w, n, depth);
    }
    return err;
}

/* ---- title ------------------------------------------------------------- */

/* "Install | Site" -> "Install": cut at the first occurrence of the first
 * separator kind present, when something is left before it. */
static size_t strip_suffix(const char *s, size_t n)
{
    static const char *const SEPS[] = { " | ", " \xE2\x80\x94 ", " \xE2\x80\x93 ",
                                        " \xC2\xB7 ", " :: ", " - ", NULL };
    for (const char *const *p = SEPS; *p; p++) {
        const char *q = strstr(s, *p);
        if (q && q > s)
            return (size_t)(q - s);
    }
    return n;
}

static cc_err set_title(struct ingest_text *t, xmlNode *root)
{
    xmlNode *title = find_element(root, "title", 0);
    if (title) {
        xmlChar *s = ingest__libs()->xmlNodeGetContent(title);
        cc_err err = CC_OK;
        if (s) {
            /* Normalize first so "\n  Install |\n Site" splits too. */
            struct ingest_text tmp;
            ingest_text_init(&tmp, 0);
            err = ingest_text_set_title(&tmp, (const char *)s, strlen((const char *)s));
            if (!err && tmp.title)
                err = ingest_text_set_title(t, tmp.title,
                                            strip_suffix(tmp.title, strlen(tmp.title)));
            ingest_text_release(&tmp);
            (*ingest__libs()->xmlFree)(s);
        }
        if (err || t->title)
            return err;
    }
    for (size_t i = 0; i < t->nblocks; i++)
        if (t->blocks[i].kind == INGEST_HEADING && t->blocks[i].level == 1)
            return ingest_text_set_title(t, t->blocks[i].text, strlen(t->blocks[i].text));
    return CC_OK;
}

static cc_err extract(xmlDoc *doc, struct ingest_text *t)
{
    xmlNode *root = ingest__libs()->xmlDocGetRootElement(doc);
    if (!root)
        return CC_OK;
    xmlNode *content = NULL;
    int best = NO_RANK;
    find_root(root, 0, &content, &best);
    if (!content)
        content = find_element(root, "body", 0);
    if (!content)
        content = root;
    cc_err err = ingest__html_walk(content, t, NULL, NULL);
    return err ? err : set_title(t, root);
}

cc_err ingest__html_walk(const xmlNode *content, struct ingest_text *t,
                         bool (*skip)(const xmlNode *n, void *arg), void *arg)
{
    struct walk w = { .t = t, .kind = INGEST_PARA, .skip = skip, .skip_arg = arg };
    cc_buf_init(&w.inl, t->limit);
    cc_err err = element(&w, content, 0);
    if (!err && (dropped(content) || (skip && skip(content, arg))))
        err = walk_children(&w, content->children, 1);   /* e.g. <html hidden>: take it anyway */
    if (!err)
        err = flush(&w);
    cc_buf_release(&w.inl);
    return err;
}

/* The encoding to tell libxml2, which otherwise takes undeclared pages for
 * ISO-8859-1: none when the page declares one (BOM, or "charset" in its
 * first 1024 bytes, where HTML wants the declaration), UTF-8 when the bytes
 * are valid UTF-8, else none (libxml2's Latin-1, close to what browsers
 * use for undeclared legacy pages). */
static const char *sniff_encoding(const char *s, size_t len)
{
    if (len >= 2 && ((unsigned char)s[0] >= 0xFE || (unsigned char)s[0] == 0xEF))
        return NULL;
    size_t head = len < 1024 ? len : 1024;
    for (size_t i = 0; i + 7 <= head; i++)
        if (strncasecmp(s + i, "charset", 7) == 0)
            return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = ingest_utf8_len((const unsigned char *)s + i, len - i);
        if (n == 0)
            return NULL;
        i += n;
    }
    return "UTF-8";
}

cc_err ingest__html_parse(const char *html, size_t len, const char *base_url, xmlDoc **out,
                         struct cc_diag *d)
{
    htmlParserCtxtPtr ctxt = NULL;
    htmlDocPtr doc = NULL;
    cc_err err = CC_ELIMIT;
    if (len > INGEST_PARSE_MAX_INPUT || len > INT_MAX) {
        cc_diag_set(d, base_url, 0, 0, "HTML of %zu bytes is over the limit", len);
        goto out;
    }
    if (!ingest__libs()) {
        err = CC_EUNSUPPORTED;
        cc_diag_set(d, base_url, 0, 0, "HTML needs libxml2: %s", ingest__libs_error());
        goto out;
    }
    if (ingest__too_many_attrs(html, len)) {
        cc_diag_set(d, base_url, 0, 0, "an HTML tag has more than %d attributes",
                    INGEST_MAX_ATTRS);
        goto out;
    }
    err = CC_OK;
    if (len == 0)
        goto out;
    ctxt = ingest__libs()->htmlNewParserCtxt();
    if (!ctxt) {
        err = CC_ENOMEM;
        goto out;
    }
    /* No NOBLANKS: whitespace-only text between inline elements separates
     * words. NONET is moot for HTML (nothing is loaded) but says intent. */
    struct ingest__xml_quiet quiet;
    ingest__xml_quiet_begin(&quiet);
    doc = ingest__libs()->htmlCtxtReadMemory(ctxt, html, (int)len, base_url ? base_url : "page.html",
                             sniff_encoding(html, len),
                             HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                 HTML_PARSE_RECOVER | HTML_PARSE_COMPACT);
    ingest__xml_quiet_end(&quiet);
out:
    if (ctxt)
        ingest__libs()->htmlFreeParserCtxt(ctxt);
    if (!err)
        *out = doc;
    return err;
}

cc_err ingest_html_extract(const char *html, size_t len, const char *base_url,
                           struct ingest_text *out, struct cc_diag *d)
{
    struct ingest_text t;
    ingest_text_init(&t, out->limit);
    xmlDoc *doc = NULL;
    cc_err err = ingest__html_parse(html, len, base_url, &doc, d);
    if (!err && doc)
        err = extract(doc, &t);
    if (err == CC_ELIMIT && doc)
        cc_diag_set(d, base_url, 0, 0, "text of the page is over the %zu-byte limit",
                    t.limit);
    if (!err)
        ingest__text_move(out, &t);
    if (doc)
        ingest__libs()->xmlFreeDoc(doc);
    ingest_text_release(&t);
    return err;
}

/* ---- for ingest/web/extract.c (html_int.h) ------------------------------ */

bool ingest__html_is(const xmlNode *n, const char *name)
{
    return is(n, name);
}

const char *ingest__html_attr(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE ? attr(n, name) : NULL;
}

bool ingest__html_has_class(const xmlNode *n, const char *cls)
{
    return n->type == XML_ELEMENT_NODE && has_class(n, cls);
}

bool ingest__html_dropped(const xmlNode *n)
{
    return dropped(n);
}

bool ingest__html_word_part(const char *s, const char *word)
{
    return s && word_part(s, word);
}

const char *ingest__html_find_ci(const char *s, const char *needle)
{
    return find_ci(s, needle);
}

int ingest__html_heading_level(const xmlNode *n)
{
    return heading_level(n);
}

xmlNode *ingest__html_find(xmlNode *n, const char *name)
{
    return find_element(n, name, 0);
}

size_t ingest__html_strip_suffix(const char *s, size_t n)
{
    return strip_suffix(s, n);
}

cc_err ingest__html_title(struct ingest_text *t, xmlNode *root)
{
    return set_title(t, root);
}
