/*
 * extract.c - main content of documentation pages (see extract.h): the
 * generator is recognized, its rule from extract_rules.c picks the
 * content root, or the readability-style score does; parse/html.c's walker
 * turns that root into blocks, with extra chrome skipped here.
 *
 * One pass over the tree first records, for every element, its text
 * length, commas, link text and link count (in a side array the element's
 * _private points at; the document is ours and freed afterwards), so the
 * score and the link-density tests cost no second walk per element.
 */
#include "ingest/web/extract.h"
#include "ingest/web/extract_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "ingest/parse/html_int.h"
#include "ingest/parse/libs.h"

#define MAX_DEPTH 256
#define MIN_PARA_CHARS 25

struct stats {
    size_t chars;         /* non-blank characters */
    size_t commas;
    size_t link_chars;    /* of them, inside <a> */
    size_t links;
    double score;         /* readability score, when a candidate */
    bool candidate;
    bool dropped;         /* chrome, or inside chrome: not counted, never a candidate */
};

struct ex {
    struct stats *st;     /* indexed by (uintptr_t)node->_private - 1 */
    size_t n, cap;
    const struct ingest__site_rule *rule;
    bool generic;
    size_t scripts;       /* <script> elements anywhere */
    bool js_hint;         /* a <noscript> asking for JavaScript, or an app root */
};

const char *ingest_site_name(enum ingest_site s)
{
    switch (s) {
    case INGEST_SITE_DOCUSAURUS: return "docusaurus";
    case INGEST_SITE_MKDOCS_MATERIAL: return "mkdocs-material";
    case INGEST_SITE_MKDOCS: return "mkdocs";
    case INGEST_SITE_SPHINX: return "sphinx";
    case INGEST_SITE_GITBOOK: return "gitbook";
    case INGEST_SITE_GENERIC: break;
    }
    return "generic";
}

void ingest_page_init(struct ingest_page *p, size_t limit)
{
    *p = (struct ingest_page){ .site = INGEST_SITE_GENERIC };
    ingest_text_init(&p->text, limit);
}

void ingest_page_release(struct ingest_page *p)
{
    if (!p)
        return;
    ingest_text_release(&p->text);
    p->site = INGEST_SITE_GENERIC;
    p->needs_javascript = false;
    p->version[0] = '\0';
}

static struct stats *stats_of(const struct ex *x, const xmlNode *n)
{
    uintptr_t i = (uintptr_t)n->_private;
    return i && i <= x->n ? &x->st[i - 1] : NULL;
}

/* ---- the measuring pass ------------------------------------------------ */

static bool asks_for_js(const char *s)
{
    return s && ingest__html_find_ci(s, "javascript") &&
           (ingest__html_find_ci(s, "enable") || ingest__html_find_ci(s, "require") ||
            ingest__html_find_ci(s, "turn on") || ingest__html_find_ci(s, "need"));
}

static void count_text(struct stats *s, const char *t, bool in_link)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p <= ' ' || (*p & 0xC0) == 0x80)
            continue;
        s->chars++;
        s->link_chars += in_link;
        s->commas += *p == ',';
    }
}

/* Whether n's subtree holds the page's main element: then n is a layout
 * wrapper whose class merely mentions chrome ("layout-with-sidebar",
 * "page-has-toc"), not chrome itself. */
static bool holds_main(const xmlNode *n, int depth)
{
    for (n = n->children; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *role = ingest__html_attr(n, "role");
        if (ingest__html_is(n, "main") || ingest__html_is(n, "article") ||
            (role && strcasecmp(role, "main") == 0) || holds_main(n, depth + 1))
            return true;
    }
    return false;
}

/* Fills x->st for n's subtree and adds its figures to *sum. Chrome
 * subtrees (what html.c drops) get figures too, since a site rule may pick
 * content inside them (a wrapper whose class says "toc"), but they are
 * not added to their ancestors'. */
static void measure(struct ex *x, xmlNode *n, int depth, bool in_link, bool in_chrome,
                    struct stats *sum)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                count_text(sum, (const char *)n->content, in_link);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        if (ingest__html_is(n, "script")) {
            x->scripts++;
            continue;
        }
        if (ingest__html_is(n, "noscript")) {
            xmlChar *t = ingest__libs()->xmlNodeGetContent(n);
            x->js_hint |= asks_for_js((const char *)t);
            if (t)
                (*ingest__libs()->xmlFree)(t);
            continue;
        }
        if (ingest__html_is(n, "style") || ingest__html_is(n, "template"))
            continue;
        if (x->n == x->cap) {
            x->cap = x->cap ? x->cap * 2 : 256;
            x->st = cc_xrealloc(x->st, x->cap * sizeof(*x->st));
        }
        size_t i = x->n++;
        n->_private = (void *)(uintptr_t)(i + 1);
        bool chrome = in_chrome || (ingest__html_dropped(n) &&
                                    (ingest__html_is(n, "nav") || ingest__html_is(n, "aside") ||
                                     !holds_main(n, depth)));
        struct stats sub = { .dropped = chrome };
        bool link = ingest__html_is(n, "a");
        measure(x, n->children, depth + 1, in_link || link, chrome, &sub);
        sub.links += link;
        x->st[i] = sub;
        if (chrome && !in_chrome)
            continue;
        sum->chars += sub.chars;
        sum->commas += sub.commas;
        sum->link_chars += sub.link_chars;
        sum->links += sub.links;
    }
}

/* ---- site detection ------------------------------------------------------ */

static const char *meta_content(xmlNode *root, const char *key, const char *value, int depth)
{
    for (xmlNode *n = root; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (ingest__html_is(n, "meta")) {
            const char *k = ingest__html_attr(n, key);
            if (k && strcasecmp(k, value) == 0)
                return ingest__html_attr(n, "content");
        }
        if (ingest__html_is(n, "body"))
            continue;       /* metas live in <head> */
        const char *c = meta_content(n->children, key, value, depth + 1);
        if (c)
            return c;
    }
    return NULL;
}

static xmlNode *find_sel(xmlNode *n, const struct ingest__sel *s, int depth)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (ingest__sel_match(s, n))
            return n;
        xmlNode *f = find_sel(n->children, s, depth + 1);
        if (f)
            return f;
    }
    return NULL;
}

static bool any_marker(xmlNode *root, const struct ingest__sel *list)
{
    for (; list->tag || list->cls || list->attr; list++)
        if (find_sel(root, list, 0))
            return true;
    return false;
}

static const struct ingest__site_rule *detect(xmlNode *root)
{
    const char *gen = meta_content(root, "name", "generator", 0);
    const struct ingest__site_rule *r;
    for (r = ingest__site_rules; gen && r->site != INGEST_SITE_GENERIC; r++)
        for (const char *const *g = r->generators; *g; g++)
            if (ingest__html_find_ci(gen, *g))
                return r;
    for (r = ingest__site_rules; r->site != INGEST_SITE_GENERIC; r++)
        if (any_marker(root, r->markers))
            return r;
    return r;
}

/* ---- the generic score --------------------------------------------------- */

static int class_weight(const xmlNode *n)
{
    static const char *const UP[] = { "article", "content", "main", "post", "entry", "text",
                                      "body", "story", "blog", "page", "prose", NULL };
    static const char *const DOWN[] = { "comment", "sidebar", "related", "share", "social",
                                        "promo", "sponsor", "widget", "menu", "nav", "footer",
                                        "header", "masthead", "banner", "meta", "ad", "ads",
                                        "cookie", "popup", "modal", "subscribe", NULL };
    int w = 0;
    const char *vals[2] = { ingest__html_attr(n, "class"), ingest__html_attr(n, "id") };
    for (int i = 0; i < 2; i++) {
        if (!vals[i])
            continue;
        for (const char *const *p = DOWN; *p; p++)
            if (ingest__html_word_part(vals[i], *p)) {
                w -= 25;
                break;
            }
        for (const char *const *p = UP; *p; p++)
            if (ingest__html_word_part(vals[i], *p)) {
                w += 25;
                break;
            }
    }
    return w;
}

static double tag_weight(const xmlNode *n)
{
    static const char *const PLUS3[] = { "pre", "td", "blockquote", NULL };
    static const char *const MINUS3[] = { "address", "ol", "ul", "dl", "dd", "dt", "li",
                                          "form", NULL };
    if (ingest__html_is(n, "div") || ingest__html_is(n, "article") ||
        ingest__html_is(n, "section") || ingest__html_is(n, "main"))
        return 5;
    for (const char *const *p = PLUS3; *p; p++)
        if (ingest__html_is(n, *p))
            return 3;
    for (const char *const *p = MINUS3; *p; p++)
        if (ingest__html_is(n, *p))
            return -3;
    if (ingest__html_heading_level(n) || ingest__html_is(n, "th"))
        return -5;
    return 0;
}

static void credit(struct ex *x, xmlNode *n, double score)
{
    struct stats *s = n ? stats_of(x, n) : NULL;
    if (!s || s->dropped)
        return;
    if (!s->candidate) {
        s->candidate = true;
        s->score = tag_weight(n) + class_weight(n);
    }
    s->score += score;
}

static void score_paragraphs(struct ex *x, xmlNode *n, int depth)
{
    static const char *const PARA[] = { "p", "pre", "td", "blockquote", NULL };
    for (; n && depth < MAX_DEPTH; n = n->next) {
        const struct stats *s = n->type == XML_ELEMENT_NODE ? stats_of(x, n) : NULL;
        if (!s)
            continue;
        bool para = false;
        for (const char *const *p = PARA; *p && !para; p++)
            para = ingest__html_is(n, *p);
        if (para && !s->dropped && s->chars >= MIN_PARA_CHARS && n->parent) {
            double score = 1 + (double)s->commas +
                           (s->chars / 100 < 3 ? (double)(s->chars / 100) : 3);
            credit(x, n->parent, score);
            credit(x, n->parent->parent, score / 2);
        }
        score_paragraphs(x, n->children, depth + 1);
    }
}

static void best_candidate(struct ex *x, xmlNode *n, int depth, xmlNode **best, double *top)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        const struct stats *s = n->type == XML_ELEMENT_NODE ? stats_of(x, n) : NULL;
        if (!s)
            continue;
        if (s->candidate && !s->dropped && s->chars) {
            double score = s->score * (1 - (double)s->link_chars / (double)s->chars);
            if (!*best || score > *top) {
                *best = n;
                *top = score;
            }
        }
        best_candidate(x, n->children, depth + 1, best, top);
    }
}

/* The best-scoring container, widened to its <article> (or, without one,
 * its <main>): they hold the page's heading and whatever the score split
 * off, and what chrome they also hold is dropped by the walk. */
static xmlNode *generic_root(struct ex *x, xmlNode *root)
{
    xmlNode *best = NULL;
    double top = 0;
    score_paragraphs(x, root, 0);
    best_candidate(x, root, 0, &best, &top);
    if (!best)
        return NULL;
    xmlNode *main = NULL;
    for (xmlNode *a = best; a; a = a->parent) {
        if (ingest__html_is(a, "article"))
            return a;
        const char *role = ingest__html_attr(a, "role");
        if (!main && (ingest__html_is(a, "main") || (role && strcasecmp(role, "main") == 0)))
            main = a;
    }
    return main ? main : best;
}

/* ---- extra chrome ----------------------------------------------------------- */

static bool edit_link(const xmlNode *n)
{
    static const char *const TEXTS[] = { "edit this page", "edit on github", "edit on gitlab",
                                         "edit on bitbucket", "view page source",
                                         "improve this page", "suggest edits", "edit page",
                                         "view source", "show source", NULL };
    if (!ingest__html_is(n, "a"))
        return false;
    xmlChar *t = ingest__libs()->xmlNodeGetContent(n);
    bool hit = false;
    if (t) {
        const char *s = (const char *)t;
        s += strspn(s, " \t\r\n");
        for (const char *const *p = TEXTS; *p && !hit; p++)
            hit = strncasecmp(s, *p, strlen(*p)) == 0;
        (*ingest__libs()->xmlFree)(t);
    }
    return hit;
}

static bool chrome_word(const char *v)
{
    static const char *const WORDS[] = { "edit-this-page", "editthispage", "edit-page",
                                         "edit-link", "pagination", "pager", "prev-next",
                                         "feedback", "consent", "gdpr", "newsletter", "share",
                                         "social", "comments", "related", "version-badge",
                                         "announcement", "skip-link", "skip-to-content", NULL };
    for (const char *const *p = WORDS; v && *p; p++)
        if (ingest__html_word_part(v, *p))
            return true;
    return false;
}

static bool link_list(const struct ex *x, const xmlNode *n)
{
    static const char *const LISTS[] = { "ul", "ol", "div", "section", "table", "dl", NULL };
    const struct stats *s = stats_of(x, n);
    bool list = false;
    for (const char *const *p = LISTS; *p && !list; p++)
        list = ingest__html_is(n, *p);
    return list && s && s->links >= 3 && s->chars && s->link_chars * 2 >= s->chars &&
           s->chars / s->links < 80;
}

static bool skip(const xmlNode *n, void *arg)
{
    const struct ex *x = arg;
    if (n->type != XML_ELEMENT_NODE)
        return false;
    if (ingest__sel_any(x->rule->drop, n) || edit_link(n))
        return true;
    if (!ingest__html_heading_level(n) && (chrome_word(ingest__html_attr(n, "class")) ||
                                          chrome_word(ingest__html_attr(n, "id"))))
        return true;
    return x->generic && link_list(x, n);
}

/* ---- JavaScript-only pages ------------------------------------------------- */

static bool app_root(const struct ex *x, xmlNode *n, int depth)
{
    static const char *const IDS[] = { "root", "app", "__next", "__nuxt", "___gatsby",
                                       "svelte", "q-app", NULL };
    static const char *const ATTRS[] = { "data-reactroot", "ng-app", "ng-version",
                                         "data-server-rendered", NULL };
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const struct stats *s = stats_of(x, n);
        const char *id = ingest__html_attr(n, "id");
        bool root = false;
        for (const char *const *p = IDS; id && *p && !root; p++)
            root = strcmp(id, *p) == 0;
        for (const char *const *p = ATTRS; *p && !root; p++)
            root = ingest__html_attr(n, *p) != NULL;
        if (root && (!s || s->chars < INGEST_PAGE_JS_MIN_CHARS))
            return true;
        if (app_root(x, n->children, depth + 1))
            return true;
    }
    return false;
}

static size_t text_chars(const struct ingest_text *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nblocks; i++)
        n += ingest_utf8_chars(t->blocks[i].text, strlen(t->blocks[i].text));
    return n;
}

static bool text_asks_for_js(const struct ingest_text *t)
{
    for (size_t i = 0; i < t->nblocks; i++)
        if (asks_for_js(t->blocks[i].text))
            return true;
    return false;
}

static bool needs_javascript(const struct ex *x, xmlNode *root, const struct ingest_text *t)
{
    if (text_chars(t) >= INGEST_PAGE_JS_MIN_CHARS)
        return false;
    if (x->js_hint || text_asks_for_js(t))
        return true;
    return x->scripts > 0 && (t->nblocks == 0 || app_root(x, root, 0));
}

/* ---- title and version ------------------------------------------------------ */

static cc_err set_title(struct ingest_text *t, xmlNode *root)
{
    const char *og = meta_content(root, "property", "og:title", 0);
    if (!og)
        og = meta_content(root, "name", "og:title", 0);
    struct ingest_text tmp;
    ingest_text_init(&tmp, 0);
    cc_err err = ingest__html_title(&tmp, root);     /* <title> without its suffix */
    if (!err && og) {
        struct ingest_text o;
        ingest_text_init(&o, 0);
        err = ingest_text_set_title(&o, og, strlen(og));
        /* "Install | Acme" as og:title repeats <title>: cut it the same way. */
        if (!err && o.title && tmp.title &&
            strncmp(o.title, tmp.title, strlen(tmp.title)) == 0 &&
            ingest__html_strip_suffix(o.title, strlen(o.title)) == strlen(tmp.title))
            err = ingest_text_set_title(t, tmp.title, strlen(tmp.title));
        else if (!err && o.title)
            err = ingest_text_set_title(t, o.title, strlen(o.title));
        ingest_text_release(&o);
    }
    for (size_t i = 0; !err && !t->title && i < t->nblocks; i++)
        if (t->blocks[i].kind == INGEST_HEADING && t->blocks[i].level == 1)
            err = ingest_text_set_title(t, t->blocks[i].text, strlen(t->blocks[i].text));
    if (!err && !t->title && tmp.title)
        err = ingest_text_set_title(t, tmp.title, strlen(tmp.title));
    ingest_text_release(&tmp);
    return err;
}

static void set_version(struct ingest_page *p, xmlNode *root, const char *url)
{
    static const char *const METAS[] = { "docsearch:version", "docsearch:docusaurus_tag",
                                         NULL };
    for (const char *const *m = METAS; *m; m++) {
        const char *v = meta_content(root, "name", *m, 0);
        size_t n = v ? strlen(v) : 0;
        /* docusaurus_tag is "docs-default-2.x": its version is the last part. */
        const char *dash = v && *m == METAS[1] ? strrchr(v, '-') : NULL;
        if (dash) {
            v = dash + 1;
            n = strlen(v);
        }
        if (v && n > 0 && n < sizeof(p->version) && strcmp(v, "current") != 0 &&
            strcmp(v, "default") != 0) {
            memcpy(p->version, v, n);
            p->version[n] = '\0';
            return;
        }
    }
    if (url && ingest_version_from_url(url, p->version, sizeof(p->version)) != CC_OK)
        p->version[0] = '\0';
}

/* ---- the entry point --------------------------------------------------------- */

static xmlNode *content_root(struct ex *x, xmlNode *root)
{
    const struct ingest__sel *s = x->rule->content;
    for (; s->tag || s->cls || s->attr; s++) {
        xmlNode *c = find_sel(root, s, 0);
        if (c && stats_of(x, c) && stats_of(x, c)->chars > 0)
            return c;
    }
    x->generic = true;
    xmlNode *c = generic_root(x, root);
    if (!c)
        c = ingest__html_find(root, "body");
    return c ? c : root;
}

static bool inside(const xmlNode *n, const xmlNode *ancestor)
{
    for (; n; n = n->parent)
        if (n == ancestor)
            return true;
    return false;
}

/* The generator's page heading when it stands outside the content (and
 * the content has no h1 of its own), so the page keeps its top heading. */
static xmlNode *outside_heading(const struct ex *x, xmlNode *root, xmlNode *content)
{
    if (!x->rule->heading || x->generic)
        return NULL;
    static const struct ingest__sel H1 = { "h1", NULL, NULL, NULL };
    if (find_sel(content->children, &H1, 0))
        return NULL;
    xmlNode *h = find_sel(root, x->rule->heading, 0);
    return h && !inside(h, content) ? h : NULL;
}

static cc_err extract(xmlDoc *doc, const char *url, struct ingest_page *p)
{
    xmlNode *root = ingest__libs()->xmlDocGetRootElement(doc);
    struct ex x = { 0 };
    cc_err err = CC_OK;
    if (!root)
        return CC_OK;
    struct stats total = { 0 };
    measure(&x, root, 0, false, false, &total);
    x.rule = detect(root);
    p->site = x.rule->site;
    xmlNode *content = content_root(&x, root);
    xmlNode *heading = outside_heading(&x, root, content);
    if (heading)
        err = ingest__html_walk(heading, &p->text, NULL, NULL);
    if (!err)
        err = ingest__html_walk(content, &p->text, skip, &x);
    if (!err && needs_javascript(&x, root, &p->text)) {
        /* Its text is a loading screen or "enable JavaScript": not content. */
        p->needs_javascript = true;
        ingest_text_release(&p->text);
    }
    if (!err)
        err = set_title(&p->text, root);
    if (!err)
        set_version(p, root, url);
    free(x.st);
    return err;
}

cc_err ingest_page_extract(const char *html, size_t len, const char *url,
                           struct ingest_page *out, struct cc_diag *d)
{
    struct ingest_page p;
    ingest_page_init(&p, out->text.limit);
    xmlDoc *doc = NULL;
    cc_err err = ingest__html_parse(html, len, url, &doc, d);
    if (!err && doc)
        err = extract(doc, url, &p);
    if (!err && !doc && url && ingest_version_from_url(url, p.version, sizeof(p.version)))
        p.version[0] = '\0';
    if (err == CC_ELIMIT && doc)
        cc_diag_set(d, url, 0, 0, "text of the page is over the %zu-byte limit", p.text.limit);
    if (doc)
        ingest__libs()->xmlFreeDoc(doc);
    if (!err) {
        ingest_page_release(out);
        *out = p;
    } else {
        ingest_page_release(&p);
    }
    return err;
}

cc_err ingest_page_plain_text(const struct ingest_text *t, struct cc_buf *out)
{
    cc_err err = CC_OK;
    for (size_t i = 0; !err && i < t->nblocks; i++) {
        if (i > 0)
            err = cc_buf_addch(out, '\n');
        if (!err)
            err = cc_buf_addstr(out, t->blocks[i].text);
    }
    return err;
}
