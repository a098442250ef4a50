/*
 * feed_out.c - feed_to_json(): SPEC 2.1's shape. Every key is always
 * present: absent strings and dates are null, absent lists are [].
 */
#include "ingest/feed/feed.h"

#include "core/tz.h"

static json_t *s(const char *v)
{
    return v ? json_string(v) : json_null();
}

static json_t *date(int64_t t)
{
    if (t == FEED_NO_DATE)
        return json_null();
    char b[40];
    cc_time_rfc3339_s(t, b, sizeof(b));
    return json_string(b);
}

static json_t *length(int64_t n)
{
    return n < 0 ? json_null() : json_integer(n);
}

static json_t *links(const struct feed_link *l, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "href", s(l[i].href));
        json_object_set_new(o, "rel", s(l[i].rel));
        json_object_set_new(o, "type", s(l[i].type));
        json_object_set_new(o, "title", s(l[i].title));
        if (l[i].length >= 0)
            json_object_set_new(o, "length", json_integer(l[i].length));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *persons(const struct feed_person *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "name", s(p[i].name), "email",
                                           s(p[i].email), "uri", s(p[i].uri)));
    return a;
}

static json_t *tags(const struct feed_tag *t, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "term", s(t[i].term), "scheme",
                                           s(t[i].scheme), "label", s(t[i].label)));
    return a;
}

static json_t *entry(const struct feed_entry *e)
{
    json_t *content = json_array();
    for (size_t i = 0; i < e->n_content; i++)
        json_array_append_new(content,
                              json_pack("{s:o,s:o,s:o,s:o}", "value", s(e->content[i].value),
                                        "type", s(e->content[i].type), "language",
                                        s(e->content[i].language), "base", s(e->content[i].base)));
    json_t *enc = json_array();
    for (size_t i = 0; i < e->n_enclosures; i++)
        json_array_append_new(enc, json_pack("{s:o,s:o,s:o}", "href", s(e->enclosures[i].href),
                                             "length", length(e->enclosures[i].length), "type",
                                             s(e->enclosures[i].type)));
    json_t *o = json_object();
    json_object_set_new(o, "id", s(e->id));
    json_object_set_new(o, "title", s(e->title));
    json_object_set_new(o, "link", s(e->link));
    json_object_set_new(o, "links", links(e->links, e->n_links));
    json_object_set_new(o, "published", date(e->published));
    json_object_set_new(o, "updated", date(e->updated));
    json_object_set_new(o, "authors", persons(e->authors, e->n_authors));
    json_object_set_new(o, "tags", tags(e->tags, e->n_tags));
    json_object_set_new(o, "summary", s(e->summary));
    json_object_set_new(o, "content", content);
    json_object_set_new(o, "enclosures", enc);
    json_object_set_new(o, "comments", s(e->comments));
    return o;
}

cc_err feed_to_json(const struct feed *f, json_t **out)
{
    if (!f || !out)
        return CC_EINVAL;
    const struct feed_meta *m = &f->feed;
    json_t *feed = json_object();
    json_object_set_new(feed, "title", s(m->title));
    json_object_set_new(feed, "subtitle", s(m->subtitle));
    json_object_set_new(feed, "link", s(m->link));
    json_object_set_new(feed, "links", links(m->links, m->n_links));
    json_object_set_new(feed, "id", s(m->id));
    json_object_set_new(feed, "language", s(m->language));
    json_object_set_new(feed, "updated", date(m->updated));
    json_object_set_new(feed, "authors", persons(m->authors, m->n_authors));
    json_object_set_new(feed, "tags", tags(m->tags, m->n_tags));
    json_object_set_new(feed, "image",
                        m->image ? json_pack("{s:o,s:o,s:o}", "href", s(m->image->href),
                                             "title", s(m->image->title), "link",
                                             s(m->image->link))
                                 : json_null());
    json_object_set_new(feed, "generator", s(m->generator));
    json_t *entries = json_array();
    for (size_t i = 0; i < f->n_entries; i++)
        json_array_append_new(entries, entry(&f->entries[i]));
    json_t *j = json_object();
    json_object_set_new(j, "bozo", json_boolean(f->bozo));
    json_object_set_new(j, "bozo_message", s(f->bozo_message));
    json_object_set_new(j, "version", s(f->version));
    json_object_set_new(j, "encoding", s(f->encoding));
    json_object_set_new(j, "feed", feed);
    json_object_set_new(j, "entries", entries);
    if (f->dropped_items || f->dropped_old)
        json_object_set_new(j, "dropped", json_pack("{s:I,s:I}", "items",
                                                    (json_int_t)f->dropped_items, "old",
                                                    (json_int_t)f->dropped_old));
    *out = j;
    return CC_OK;
}
