/*
 * feed_xml.c - RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 over libxml2.
 *
 * Safety: XML_PARSE_NONET, never XML_PARSE_NOENT or XML_PARSE_DTDLOAD, so no
 * entity is expanded and no DTD is fetched; a DOCTYPE whose internal subset
 * declares entities is blanked before parsing (billion laughs costs one
 * scan) and the feed is bozo. XML_PARSE_RECOVER reads broken feeds; any
 * well-formedness error makes the feed bozo with libxml2's first message.
 *
 * One element handler serves the feed and its entries (struct target says
 * where each field goes), so RSS, RDF and Atom elements, and the dc:,
 * dcterms:, content: and media: namespaces, mean the same at both levels.
 * Relative URLs resolve against xml:base (nested), then the feed's link,
 * then the caller's base_url.
 */
#include "ingest/feed/feed_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "ingest/parse/libs.h"

#define MAX_DEPTH 64

enum ns {
    NS_NONE, NS_RSS, NS_ATOM10, NS_ATOM03, NS_RDF, NS_DC, NS_DCTERMS, NS_CONTENT,
    NS_MEDIA, NS_XML, NS_OTHER
};

static const struct { const char *uri; enum ns ns; } namespaces[] = {
    {"http://www.w3.org/2005/Atom", NS_ATOM10},
    {"http://purl.org/atom/ns#", NS_ATOM03},
    {"http://purl.org/rss/1.0/", NS_RSS},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS},
    {"http://backend.userland.com/rss2", NS_RSS},
    {"http://backend.userland.com/RSS2", NS_RSS},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    {"http://www.w3.org/XML/1998/namespace", NS_XML},
};

/* Where the fields of one element go: the feed or one entry. */
struct target {
    bool entry;
    const char **title, **link, **id, **summary, **language;
    int64_t *published, *updated;
    struct feed_link **links;           size_t *n_links;
    struct feed_person **authors;       size_t *n_authors;
    struct feed_tag **tags;             size_t *n_tags;
    struct feed_entry *e;               /* entry only */
    const char *guid_link;              /* a permalink guid, the link if none */
};

struct xctx {
    struct feed *f;
    bool atom;  /* the document is Atom: un-namespaced elements are not RSS */
};

static enum ns ns_of(const xmlNode *n)
{
    if (!n->ns || !n->ns->href)
        return NS_NONE;
    const char *h = (const char *)n->ns->href;
    for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++)
        if (strcmp(h, namespaces[i].uri) == 0)
            return namespaces[i].ns;
    return NS_OTHER;
}

static bool is_el(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const char *attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, name) == 0 &&
            (!a->ns || (a->ns->href && strcmp((const char *)a->ns->href,
                                              namespaces[6].uri) == 0)))
            return a->children && a->children->content ? (const char *)a->children->content
                                                       : "";
    return NULL;
}

static const char *xml_attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (a->ns && a->ns->href && strcmp((const char *)a->ns->href, namespaces[12].uri) == 0 &&
            strcmp((const char *)a->name, name) == 0)
            return a->children && a->children->content ? (const char *)a->children->content
                                                       : "";
    return NULL;
}

static void gather(struct cc_buf *b, const xmlNode *n, int depth)
{
    for (; n && depth < MAX_DEPTH; n = n->next) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
            cc_buf_addstr(b, (const char *)n->content);
        else if (n->type == XML_ELEMENT_NODE)
            gather(b, n->children, depth + 1);
        /* Entity references are never followed: a declared entity's nodes
         * would be walked once per reference (billion laughs). */
    }
}

/* The text content, trimmed; NULL when empty. One text child (the usual
 * case) is copied without a buffer. */
static const char *text(struct xctx *c, const xmlNode *n)
{
    const xmlNode *k = n->children;
    if (!k)
        return NULL;
    if (!k->next && (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE))
        return feed__trimdup(c->f, (const char *)k->content);
    struct cc_buf b;
    cc_buf_init(&b, SIZE_MAX / 2);
    gather(&b, k, 0);
    const char *r = feed__trimdup(c->f, cc_buf_str(&b));
    cc_buf_release(&b);
    return r;
}

/* Both return strings the feed owns: the model outlives libxml2's tree. */
static const char *node_base(struct xctx *c, const xmlNode *n, const char *base)
{
    const char *xb = xml_attr(n, "base");
    return xb ? feed__resolve(c->f, base, feed__strdup(c->f, xb)) : base;
}

static const char *node_lang(struct xctx *c, const xmlNode *n, const char *lang)
{
    const char *l = xml_attr(n, "lang");
    return l && *l ? feed__strdup(c->f, l) : lang;
}

static int64_t parse_length(const char *s)
{
    if (!s)
        return -1;
    char *end;
    long long v = strtoll(s, &end, 10);
    return (end == s || v < 0) ? -1 : (int64_t)v;
}

/* Atom text constructs (and Atom 0.3's type/mode): *type is "text/plain",
 * "text/html" or "application/xhtml+xml". */
static const xmlNode *xhtml_div(const xmlNode *n)
{
    for (const xmlNode *k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE)
            return is_el(k, "div") && !k->next ? k->children : n->children;
    return n->children;
}

static const char *construct_type(const xmlNode *n, bool rss)
{
    const char *t = attr(n, "type");
    const char *mode = attr(n, "mode");
    if (!t)
        return rss ? "text/html" : "text/plain";
    if (strcasecmp(t, "html") == 0 || strcasecmp(t, "text/html") == 0 ||
        (mode && strcasecmp(mode, "escaped") == 0 && strcasecmp(t, "text/plain") != 0))
        return "text/html";
    if (strcasecmp(t, "xhtml") == 0 || strcasecmp(t, "application/xhtml+xml") == 0)
        return "application/xhtml+xml";
    return "text/plain";
}

/* The construct as sanitized HTML (or text for text/plain). */
static const char *construct_value(struct xctx *c, const xmlNode *n, const char *type,
                                   const char *base)
{
    if (strcmp(type, "application/xhtml+xml") == 0)
        return feed__sanitize_tree(c->f, xhtml_div(n), base);
    const char *v = text(c, n);
    return strcmp(type, "text/html") == 0 ? feed__sanitize(c->f, v, base) : v;
}

static const char *title_of(struct xctx *c, const xmlNode *n, bool rss)
{
    const char *type = construct_type(n, rss);
    if (strcmp(type, "application/xhtml+xml") == 0)
        return feed__tree_text(c->f, xhtml_div(n));
    const char *v = text(c, n);
    return v && (strcmp(type, "text/html") == 0) ? feed__html_text(c->f, v) : v;
}

/* RSS author forms: "email (Name)", "Name <email>", "email", "Name". */
static void person_from_text(struct xctx *c, struct feed_person *p, const char *s)
{
    const char *open = strchr(s, '(');
    const char *lt = strchr(s, '<');
    const char *close;
    if (open && (close = strrchr(open, ')'))) {
        p->name = feed__trimdup(c->f, feed__strndup(c->f, open + 1, (size_t)(close - open - 1)));
        p->email = feed__trimdup(c->f, feed__strndup(c->f, s, (size_t)(open - s)));
    } else if (lt && (close = strchr(lt, '>'))) {
        p->email = feed__trimdup(c->f, feed__strndup(c->f, lt + 1, (size_t)(close - lt - 1)));
        p->name = feed__trimdup(c->f, feed__strndup(c->f, s, (size_t)(lt - s)));
    } else if (strchr(s, '@') && !strchr(s, ' ')) {
        p->email = feed__strdup(c->f, s);
    } else {
        p->name = feed__strdup(c->f, s);
    }
    if (p->email && !strchr(p->email, '@')) {
        if (!p->name)
            p->name = p->email;
        p->email = NULL;
    }
}

static void add_person(struct xctx *c, struct target *t, const xmlNode *n, const char *base,
                       bool structured)
{
    struct feed_person p = {0};
    if (structured) {
        for (const xmlNode *k = n->children; k; k = k->next) {
            if (k->type != XML_ELEMENT_NODE)
                continue;
            if (is_el(k, "name"))
                p.name = text(c, k);
            else if (is_el(k, "email"))
                p.email = text(c, k);
            else if (is_el(k, "uri") || is_el(k, "url"))
                p.uri = feed__resolve(c->f, node_base(c, k, base), text(c, k));
        }
        if (!p.name && !p.email && !p.uri) {
            const char *s = text(c, n); /* RSS-style text inside an Atom element */
            if (s)
                person_from_text(c, &p, s);
        }
    } else {
        const char *s = text(c, n);
        if (!s)
            return;
        person_from_text(c, &p, s);
    }
    if (p.name || p.email || p.uri)
        *FEED_PUSH(c->f, *t->authors, *t->n_authors) = p;
}

static void add_tag(struct xctx *c, struct target *t, const char *term, const char *scheme,
                    const char *label)
{
    if (!term || !*term)
        return;
    struct feed_tag *g = FEED_PUSH(c->f, *t->tags, *t->n_tags);
    g->term = term;
    g->scheme = scheme && *scheme ? scheme : NULL;
    g->label = label && *label ? label : NULL;
}

static struct feed_link *add_link(struct xctx *c, struct target *t, const char *href,
                                  const char *rel, const char *type)
{
    struct feed_link *l = FEED_PUSH(c->f, *t->links, *t->n_links);
    l->href = href;
    l->rel = rel;
    l->type = type;
    l->length = -1;
    return l;
}

static void add_enclosure(struct xctx *c, struct target *t, const char *href,
                          const char *length, const char *type)
{
    if (!t->entry || !href)
        return;
    for (size_t i = 0; i < t->e->n_enclosures; i++)
        if (strcmp(t->e->enclosures[i].href, href) == 0)
            return;
    struct feed_enclosure *x = FEED_PUSH(c->f, t->e->enclosures, t->e->n_enclosures);
    x->href = href;
    x->length = parse_length(length);
    x->type = type && *type ? feed__strdup(c->f, type) : NULL;
}

static void atom_link(struct xctx *c, struct target *t, const xmlNode *n, const char *base)
{
    const char *href = attr(n, "href");
    if (!href)
        return;
    const char *rel = attr(n, "rel");
    rel = rel && *rel ? rel : "alternate";
    const char *type = attr(n, "type");
    href = feed__resolve(c->f, base, feed__strdup(c->f, href));
    struct feed_link *l = add_link(c, t, href, feed__strdup(c->f, rel), feed__strdup(c->f, type));
    l->title = feed__strdup(c->f, attr(n, "title"));
    l->length = parse_length(attr(n, "length"));
    if (strcmp(rel, "alternate") == 0 && !*t->link)
        *t->link = href;
    else if (strcmp(rel, "enclosure") == 0)
        add_enclosure(c, t, href, attr(n, "length"), type);
}

static void set_date(struct xctx *c, int64_t *slot, const xmlNode *n)
{
    int64_t v;
    if (slot && *slot == FEED_NO_DATE && feed__date_parse(text(c, n), &v))
        *slot = v;
}

static void content_el(struct xctx *c, struct target *t, const xmlNode *n, const char *base,
                       const char *lang, const char *type)
{
    if (!t->entry)
        return;
    struct feed_content *x = FEED_PUSH(c->f, t->e->content, t->e->n_content);
    x->type = type;
    x->value = construct_value(c, n, type, base);
    if (!x->value)
        x->value = "";
    x->language = lang;
    x->base = base;
}

/* Elements in no namespace, RSS's or Atom's: the formats' own vocabulary. */
static void core_element(struct xctx *c, struct target *t, const xmlNode *n, const char *base,
                         const char *lang, bool rss)
{
    const char *name = (const char *)n->name;
    if (strcmp(name, "title") == 0) {
        if (!*t->title)
            *t->title = title_of(c, n, rss);
    } else if (strcmp(name, "link") == 0) {
        if (!rss || attr(n, "href")) {
            atom_link(c, t, n, base);
        } else {
            const char *href = feed__resolve(c->f, base, text(c, n));
            if (href && !*t->link) {
                *t->link = href;
                add_link(c, t, href, "alternate", "text/html");
            }
        }
    } else if (strcmp(name, "id") == 0 || (rss && strcmp(name, "guid") == 0)) {
        if (!*t->id)
            *t->id = text(c, n);
        const char *perma = attr(n, "isPermaLink");
        if (rss && *t->id && (!perma || strcasecmp(perma, "false") != 0) &&
            strstr(*t->id, "://"))
            t->guid_link = feed__resolve(c->f, base, *t->id);
    } else if (strcmp(name, "description") == 0 || strcmp(name, "summary") == 0 ||
               strcmp(name, "subtitle") == 0 || strcmp(name, "tagline") == 0) {
        if (!*t->summary && (strcmp(name, "summary") != 0 || t->entry))
            *t->summary = construct_value(c, n, construct_type(n, rss), base);
    } else if (strcmp(name, "content") == 0) {
        const char *type = construct_type(n, false);
        content_el(c, t, n, base, lang, type);
    } else if (strcmp(name, "pubDate") == 0 || strcmp(name, "published") == 0 ||
               strcmp(name, "issued") == 0 || strcmp(name, "created") == 0) {
        set_date(c, t->published, n);
    } else if (strcmp(name, "updated") == 0 || strcmp(name, "modified") == 0 ||
               strcmp(name, "lastBuildDate") == 0) {
        set_date(c, t->updated, n);
    } else if (strcmp(name, "author") == 0 || strcmp(name, "managingEditor") == 0) {
        add_person(c, t, n, base, !rss);
    } else if (strcmp(name, "category") == 0) {
        if (rss && !attr(n, "term"))
            add_tag(c, t, text(c, n), feed__strdup(c->f, attr(n, "domain")), NULL);
        else
            add_tag(c, t, feed__strdup(c->f, attr(n, "term")),
                    feed__strdup(c->f, attr(n, "scheme")), feed__strdup(c->f, attr(n, "label")));
    } else if (strcmp(name, "language") == 0 && t->language) {
        if (!*t->language)
            *t->language = text(c, n);
    } else if (t->entry && strcmp(name, "comments") == 0) {
        if (!t->e->comments)
            t->e->comments = feed__resolve(c->f, base, text(c, n));
    } else if (t->entry && strcmp(name, "enclosure") == 0) {
        const char *url = feed__resolve(c->f, base, feed__strdup(c->f, attr(n, "url")));
        if (url) {
            const char *type = attr(n, "type");
            struct feed_link *l = add_link(c, t, url, "enclosure", feed__strdup(c->f, type));
            l->length = parse_length(attr(n, "length"));
            add_enclosure(c, t, url, attr(n, "length"), type);
        }
    }
}

static void element(struct xctx *c, struct target *t, const xmlNode *n, const char *base,
                    const char *lang)
{
    const char *name = (const char *)n->name;
    enum ns ns = ns_of(n);
    switch (ns) {
    case NS_NONE:
        core_element(c, t, n, base, lang, !c->atom);
        break;
    case NS_RSS:
        core_element(c, t, n, base, lang, true);
        break;
    case NS_ATOM10:
    case NS_ATOM03:
        core_element(c, t, n, base, lang, false);
        break;
    case NS_DC:
    case NS_DCTERMS:
        if (strcmp(name, "creator") == 0 || strcmp(name, "author") == 0)
            add_person(c, t, n, base, false);
        else if (strcmp(name, "date") == 0 || strcmp(name, "modified") == 0)
            set_date(c, t->updated, n);
        else if (strcmp(name, "issued") == 0 || strcmp(name, "created") == 0)
            set_date(c, t->published, n);
        else if (strcmp(name, "subject") == 0)
            add_tag(c, t, text(c, n), NULL, NULL);
        else if (strcmp(name, "language") == 0 && t->language && !*t->language)
            *t->language = text(c, n);
        else if (strcmp(name, "title") == 0 && !*t->title)
            *t->title = title_of(c, n, true);
        else if (strcmp(name, "description") == 0 && !*t->summary)
            *t->summary = feed__sanitize(c->f, text(c, n), base);
        break;
    case NS_CONTENT:
        if (strcmp(name, "encoded") == 0)
            content_el(c, t, n, base, lang, "text/html");
        break;
    case NS_MEDIA:
        if (strcmp(name, "content") == 0 && attr(n, "url"))
            add_enclosure(c, t, feed__resolve(c->f, base, feed__strdup(c->f, attr(n, "url"))),
                          attr(n, "fileSize"), attr(n, "type"));
        else if (strcmp(name, "group") == 0)
            for (const xmlNode *k = n->children; k; k = k->next)
                if (k->type == XML_ELEMENT_NODE)
                    element(c, t, k, node_base(c, k, base), lang);
        break;
    default:
        break;
    }
}

static void entry(struct xctx *c, const xmlNode *n, const char *base, const char *lang);

static bool is_item(const xmlNode *n)
{
    enum ns ns = ns_of(n);
    return (ns == NS_NONE || ns == NS_RSS || ns == NS_ATOM10 || ns == NS_ATOM03) &&
           (is_el(n, "item") || is_el(n, "entry"));
}

/* Items that a recovered parse nested inside another item (an unclosed tag
 * in the one before): read them too, after it, in document order. */
static void nested_items(struct xctx *c, const xmlNode *n, const char *base, const char *lang,
                         int depth)
{
    for (const xmlNode *k = n->children; k && depth < MAX_DEPTH; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        if (is_item(k))
            entry(c, k, node_base(c, k, base), node_lang(c, k, lang));
        else
            nested_items(c, k, base, lang, depth + 1);
    }
}

/* base and lang are n's own (its xml:base and xml:lang applied). */
static void entry(struct xctx *c, const xmlNode *n, const char *base, const char *lang)
{
    struct feed *f = c->f;
    struct feed_entry *e = FEED_PUSH(f, f->entries, f->n_entries);
    e->published = e->updated = FEED_NO_DATE;
    struct target t = {
        .entry = true, .e = e, .title = &e->title, .link = &e->link, .id = &e->id,
        .summary = &e->summary, .published = &e->published, .updated = &e->updated,
        .links = &e->links, .n_links = &e->n_links, .authors = &e->authors,
        .n_authors = &e->n_authors, .tags = &e->tags, .n_tags = &e->n_tags,
    };
    const char *about = NULL;
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, "about") == 0 && a->children)
            about = (const char *)a->children->content;
    for (const xmlNode *k = n->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE)
            element(c, &t, k, node_base(c, k, base), node_lang(c, k, lang));
    if (!e->link && t.guid_link) {
        e->link = t.guid_link;
        add_link(c, &t, e->link, "alternate", "text/html");
    }
    if (!e->id && about && *about)
        e->id = feed__strdup(f, about);
    if (!c->f->bozo)
        return; /* a well-formed document nests no items */
    nested_items(c, n, base, lang, 0); /* e may move from here on */
}

/* The feed's alternate link among n's children, resolved against base. */
static const char *feed_link(struct xctx *c, const xmlNode *n, const char *base)
{
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (!is_el(k, "link"))
            continue;
        const char *href = attr(k, "href");
        const char *rel = attr(k, "rel");
        if (href && (!rel || strcmp(rel, "alternate") == 0))
            return feed__resolve(c->f, node_base(c, k, base), feed__strdup(c->f, href));
        if (!href && ns_of(k) != NS_ATOM10 && ns_of(k) != NS_ATOM03)
            return feed__resolve(c->f, node_base(c, k, base), text(c, k));
    }
    return NULL;
}

static bool absolute(const char *u)
{
    return u && strstr(u, "://");
}

/* RSS image: url/title/link children; Atom: logo (else icon). */
static void image(struct xctx *c, const xmlNode *n, const char *base)
{
    struct feed_meta *m = &c->f->feed;
    if (m->image)
        return;
    struct feed_image *img = feed__alloc(c->f, sizeof(*img));
    *img = (struct feed_image){0};
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (is_el(k, "url"))
            img->href = feed__resolve(c->f, base, text(c, k));
        else if (is_el(k, "title"))
            img->title = text(c, k);
        else if (is_el(k, "link"))
            img->link = feed__resolve(c->f, base, text(c, k));
    }
    if (img->href)
        m->image = img;
}

/* base and lang are n's own (its xml:base and xml:lang applied). */
static void channel(struct xctx *c, const xmlNode *n, const char *base, const char *lang,
                    int depth)
{
    struct feed_meta *m = &c->f->feed;
    int64_t published = FEED_NO_DATE;
    struct target t = {
        .title = &m->title, .link = &m->link, .id = &m->id, .summary = &m->subtitle,
        .language = &m->language, .published = &published, .updated = &m->updated,
        .links = &m->links, .n_links = &m->n_links, .authors = &m->authors,
        .n_authors = &m->n_authors, .tags = &m->tags, .n_tags = &m->n_tags,
    };
    if (!m->language && lang)
        m->language = feed__strdup(c->f, lang);
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        const char *kb = node_base(c, k, base), *kl = node_lang(c, k, lang);
        enum ns ns = ns_of(k);
        bool core = ns == NS_NONE || ns == NS_RSS || ns == NS_ATOM10 || ns == NS_ATOM03;
        if (is_item(k))
            entry(c, k, kb, kl);
        else if (core && is_el(k, "channel") && depth == 0)
            channel(c, k, kb, kl, depth + 1);  /* rdf:RDF > channel, items beside it */
        else if (core && (is_el(k, "image")))
            image(c, k, kb);
        else if (core && (is_el(k, "logo") || is_el(k, "icon")) && !m->image) {
            struct feed_image *img = feed__alloc(c->f, sizeof(*img));
            *img = (struct feed_image){.href = feed__resolve(c->f, kb, text(c, k))};
            if (img->href)
                m->image = img;
        } else if (core && is_el(k, "generator")) {
            if (!m->generator)
                m->generator = text(c, k);
        } else if (core && is_el(k, "webMaster")) {
            continue; /* the publisher, not an author */
        } else {
            element(c, &t, k, kb, kl);
        }
    }
    if (m->updated == FEED_NO_DATE)
        m->updated = published;
    if (!m->id) {
        const char *about = attr(n, "about");
        if (about && *about && is_el(n, "channel"))
            m->id = feed__strdup(c->f, about);
    }
}

static const char *rss_version(const xmlDoc *doc, const char *v)
{
    if (!v || !*v)
        return "rss";
    if (strcmp(v, "2.0") == 0 || strcmp(v, "2") == 0 || strncmp(v, "2.0.", 4) == 0)
        return "rss20";
    if (strcmp(v, "0.91") == 0) {
        const xmlDtd *dtd = doc->intSubset;
        bool netscape = dtd && dtd->ExternalID && strstr((const char *)dtd->ExternalID, "Netscape");
        return netscape ? "rss091n" : "rss091u";
    }
    static const char *const olds[][2] = {{"0.90", "rss090"}, {"0.92", "rss092"},
                                          {"0.93", "rss093"}, {"0.94", "rss094"}};
    for (size_t i = 0; i < sizeof(olds) / sizeof(olds[0]); i++)
        if (strcmp(v, olds[i][0]) == 0)
            return olds[i][1];
    return "rss";
}

/* The version, or NULL when the root is not a feed. */
static const char *version_of(const xmlDoc *doc, const xmlNode *root)
{
    enum ns ns = ns_of(root);
    if (is_el(root, "rss") && (ns == NS_NONE || ns == NS_RSS))
        return rss_version(doc, attr(root, "version"));
    if (is_el(root, "RDF") && ns == NS_RDF) {
        for (const xmlNode *k = root->children; k; k = k->next)
            if (is_el(k, "channel") && k->ns && k->ns->href)
                return strstr((const char *)k->ns->href, "netscape") ? "rss090" : "rss10";
        return "rss10";
    }
    if (is_el(root, "feed") && ns == NS_ATOM10)
        return "atom10";
    if (is_el(root, "feed") && ns == NS_ATOM03)
        return "atom03";
    if (is_el(root, "feed") && ns == NS_NONE) {
        const char *v = attr(root, "version");
        return v && strcmp(v, "0.3") == 0 ? "atom03" : "atom";
    }
    return NULL;
}

/* Blanks a DOCTYPE's internal subset when it declares entities; the copy
 * is malloc'ed (NULL when nothing needed blanking). */
static char *neutralize_doctype(const char *text, size_t len)
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
static char *html_entities(struct xctx *c, const char *text, size_t *len)
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
            feed__bozo(c->f, "undefined entity &%s; read as HTML's", key);
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

static void error_message(struct xctx *c, xmlParserCtxtPtr ctxt)
{
    const xmlError *e = ingest__libs()->xmlCtxtGetLastError(ctxt);
    char msg[FEED_MSG_MAX] = "not well-formed";
    if (e && e->message) {
        snprintf(msg, sizeof(msg), "%s", e->message);
        size_t n = strlen(msg);
        while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
            msg[--n] = '\0';
    }
    feed__bozo(c->f, "line %d: %s", e ? e->line : 0, msg);
}

cc_err feed__parse_xml(struct feed *f, const char *text_in, size_t len, const char *base_url,
                       struct cc_diag *d)
{
    const struct ingest_libs *L = ingest__libs();
    if (!L) {
        cc_diag_set(d, NULL, 0, 0, "feeds need libxml2: %s", ingest__libs_error());
        return CC_EUNSUPPORTED;
    }
    struct xctx c = {.f = f};
    cc_err err = CC_OK;
    char *blanked = neutralize_doctype(text_in, len);
    if (blanked)
        feed__bozo(f, "DOCTYPE with entity declarations ignored (entities are never expanded)");
    char *rewritten = html_entities(&c, blanked ? blanked : text_in, &len);
    if (rewritten) {
        free(blanked);
        blanked = rewritten;
    }
    xmlParserCtxtPtr ctxt = len <= INT_MAX ? L->xmlNewParserCtxt() : NULL;
    xmlDoc *doc = NULL;
    if (len > INT_MAX) {
        cc_diag_set(d, NULL, 0, 0, "feed too large for the XML parser");
        err = CC_ELIMIT;
        goto out;
    }
    if (!ctxt) {
        err = CC_ENOMEM;
        goto out;
    }
    /* The text is UTF-8 already: no encoding named (libxml2 would run a
     * UTF-8 to UTF-8 converter over it) and the prolog's ignored. */
    doc = L->xmlCtxtReadMemory(ctxt, blanked ? blanked : text_in, (int)len, base_url, NULL,
                               XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_NOERROR |
                                   XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                                   XML_PARSE_COMPACT | XML_PARSE_IGNORE_ENC);
    xmlNode *root = doc ? L->xmlDocGetRootElement(doc) : NULL;
    const char *version = root ? version_of(doc, root) : NULL;
    if (!version) {
        if (root)
            cc_diag_set(d, NULL, 0, 0, "not a feed: the root element is <%s>", root->name);
        else
            cc_diag_set(d, NULL, 0, 0, "not a feed: not XML");
        err = CC_EPARSE;
        goto out;
    }
    f->version = version;
    c.atom = strncmp(version, "atom", 4) == 0;
    if (!ctxt->wellFormed)
        error_message(&c, ctxt);
    const char *root_base = node_base(&c, root, base_url);
    const xmlNode *chan = root;
    if (!c.atom)
        for (const xmlNode *k = root->children; k; k = k->next)
            if (is_el(k, "channel")) {
                chan = k;
                break;
            }
    const char *link = feed_link(&c, chan, node_base(&c, chan, root_base));
    const char *doc_base = absolute(link) ? link : base_url;
    /* RSS 2.0: items inside channel (depth 0 lets channel() descend into
     * it); RDF: items beside it; Atom: entries in the feed. */
    channel(&c, root, node_base(&c, root, doc_base), node_lang(&c, root, NULL), c.atom ? 1 : 0);
out:
    if (doc)
        L->xmlFreeDoc(doc);
    if (ctxt)
        L->xmlFreeParserCtxt(ctxt);
    free(blanked);
    return err;
}
