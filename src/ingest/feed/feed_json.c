/*
 * feed_json.c - JSON Feed 1.0 and 1.1 (https://jsonfeed.org) over jansson.
 *
 * version: "json1" for 1.0 (feedparser's name) and "json11" for 1.1. A JSON
 * document with no "version" naming jsonfeed.org but with "items" is read
 * as 1.1 with bozo set; anything else is not a feed. content_html becomes
 * content[] text/html (sanitized), content_text content[] text/plain;
 * summary is "summary", else content_html; attachments are enclosures;
 * 1.0's "author" and 1.1's "authors" both fill authors[].
 */
#include "ingest/feed/feed_int.h"

#include <stdio.h>
#include <string.h>

static const char *str(struct feed *f, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        return feed__trimdup(f, json_string_value(v));
    if (json_is_integer(v)) {
        char b[32];
        snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
        return feed__strdup(f, b);
    }
    return NULL;
}

static const char *url(struct feed *f, const json_t *o, const char *key, const char *base)
{
    return feed__resolve(f, base, str(f, o, key));
}

static void add_link(struct feed *f, struct feed_link **links, size_t *n, const char *href,
                     const char *rel, const char *type)
{
    if (!href)
        return;
    struct feed_link *l = FEED_PUSH(f, *links, *n);
    *l = (struct feed_link){.href = href, .rel = rel, .type = type, .length = -1};
}

static void authors(struct feed *f, const json_t *o, const char *base,
                    struct feed_person **out, size_t *n)
{
    const json_t *list = json_object_get(o, "authors");
    const json_t *one = json_object_get(o, "author");
    size_t count = json_is_array(list) ? json_array_size(list) : 0;
    for (size_t i = 0; i < count + 1; i++) {
        const json_t *a = i < count ? json_array_get(list, i) : (count ? NULL : one);
        if (!json_is_object(a))
            continue;
        struct feed_person p = {.name = str(f, a, "name"), .uri = url(f, a, "url", base)};
        if (p.uri && strncmp(p.uri, "mailto:", 7) == 0) {
            p.email = p.uri + 7;
            p.uri = NULL;
        }
        if (p.name || p.uri || p.email)
            *FEED_PUSH(f, *out, *n) = p;
    }
}

static int64_t date(struct feed *f, const json_t *o, const char *key)
{
    int64_t v;
    return feed__date_parse(str(f, o, key), &v) ? v : FEED_NO_DATE;
}

static void item(struct feed *f, const json_t *it, const char *base, const char *lang)
{
    struct feed_entry *e = FEED_PUSH(f, f->entries, f->n_entries);
    e->id = str(f, it, "id");
    e->link = url(f, it, "url", base);
    add_link(f, &e->links, &e->n_links, e->link, "alternate", "text/html");
    add_link(f, &e->links, &e->n_links, url(f, it, "external_url", base), "related", NULL);
    const char *title = str(f, it, "title");
    e->title = title ? feed__html_text(f, title) : NULL;
    e->published = date(f, it, "date_published");
    e->updated = date(f, it, "date_modified");
    const char *l = str(f, it, "language");
    lang = l ? l : lang;
    const char *html = str(f, it, "content_html");
    const char *plain = str(f, it, "content_text");
    if (html) {
        struct feed_content *c = FEED_PUSH(f, e->content, e->n_content);
        *c = (struct feed_content){.value = feed__sanitize(f, html, base), .type = "text/html",
                                   .language = lang, .base = base};
    }
    if (plain) {
        struct feed_content *c = FEED_PUSH(f, e->content, e->n_content);
        *c = (struct feed_content){.value = plain, .type = "text/plain", .language = lang,
                                   .base = base};
    }
    const char *summary = str(f, it, "summary");
    e->summary = summary ? feed__sanitize(f, summary, base) : html ? e->content[0].value : plain;
    authors(f, it, base, &e->authors, &e->n_authors);
    const json_t *tags = json_object_get(it, "tags");
    for (size_t i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
        const json_t *t = json_array_get(tags, i);
        if (json_is_string(t) && *json_string_value(t))
            FEED_PUSH(f, e->tags, e->n_tags)->term = feed__strdup(f, json_string_value(t));
    }
    const json_t *att = json_object_get(it, "attachments");
    for (size_t i = 0; json_is_array(att) && i < json_array_size(att); i++) {
        const json_t *a = json_array_get(att, i);
        const char *href = json_is_object(a) ? url(f, a, "url", base) : NULL;
        if (!href)
            continue;
        const json_t *size = json_object_get(a, "size_in_bytes");
        struct feed_enclosure *x = FEED_PUSH(f, e->enclosures, e->n_enclosures);
        *x = (struct feed_enclosure){
            .href = href, .type = str(f, a, "mime_type"),
            .length = json_is_integer(size) && json_integer_value(size) >= 0
                          ? (int64_t)json_integer_value(size) : -1};
        add_link(f, &e->links, &e->n_links, href, "enclosure", x->type);
        e->links[e->n_links - 1].length = x->length;
    }
}

cc_err feed__parse_json(struct feed *f, const char *text, size_t len, const char *base_url,
                        struct cc_diag *d)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        cc_diag_set(d, NULL, (unsigned)(je.line > 0 ? je.line : 0),
                    (unsigned)(je.column > 0 ? je.column : 0), "not a feed: invalid JSON: %s",
                    je.text);
        return CC_EPARSE;
    }
    cc_err err = CC_OK;
    const json_t *v = json_object_get(root, "version");
    const char *ver = json_is_string(v) ? json_string_value(v) : "";
    const json_t *items = json_object_get(root, "items");
    if (strncmp(ver, "https://jsonfeed.org/version/1", 30) == 0) {
        f->version = strcmp(ver + 30, ".1") == 0 ? "json11" : "json1";
    } else if (json_is_object(root) && json_is_array(items)) {
        f->version = "json11";
        feed__bozo(f, "JSON Feed without a jsonfeed.org version");
    } else {
        cc_diag_set(d, NULL, 0, 0, "not a feed: JSON without a jsonfeed.org version");
        err = CC_EPARSE;
        goto out;
    }
    struct feed_meta *m = &f->feed;
    m->title = str(f, root, "title");
    m->link = url(f, root, "home_page_url", base_url);
    const char *base = m->link && strstr(m->link, "://") ? m->link : base_url;
    add_link(f, &m->links, &m->n_links, m->link, "alternate", "text/html");
    add_link(f, &m->links, &m->n_links, url(f, root, "feed_url", base_url), "self",
             "application/feed+json");
    m->subtitle = str(f, root, "description");
    m->language = str(f, root, "language");
    const char *icon = url(f, root, "icon", base);
    if (!icon)
        icon = url(f, root, "favicon", base);
    if (icon) {
        m->image = feed__alloc(f, sizeof(*m->image));
        *m->image = (struct feed_image){.href = icon};
    }
    authors(f, root, base, &m->authors, &m->n_authors);
    for (size_t i = 0; json_is_array(items) && i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        if (json_is_object(it))
            item(f, it, base, m->language);
        else
            feed__bozo(f, "item %zu is not an object", i);
    }
out:
    json_decref(root);
    return err;
}
