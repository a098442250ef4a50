/*
 * feed_out.c - SPEC 2.1's JSON for a feed. Every key is always present:
 * absent strings and dates are null, absent lists are [].
 *
 * The JSON is written once, as text (feed_write_json, 2-space indent), and
 * feed_to_json reads that text back: one definition of the shape. Writing
 * the text directly is what makes `feed parse` fast: building jansson
 * objects, dumping them token by token and freeing them was more than half
 * of the time of a whole parse.
 */
#include "ingest/feed/feed.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/tz.h"
#include "ingest/text.h"

struct out {
    struct cc_buf *b;
    int depth;
    bool first;   /* no member written yet at this depth */
    bool full;    /* an append hit the buffer's limit */
};

static void put(struct out *o, const void *p, size_t n)
{
    if (!o->full && cc_buf_add(o->b, p, n) != CC_OK)
        o->full = true;
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void newline(struct out *o)
{
    static const char spaces[] = "\n                                ";
    int n = 2 * o->depth + 1;
    put(o, spaces, (size_t)(n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1));
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
static void str(struct out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(o, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    size_t run = 0; /* bytes of p[0..run) still to copy as they are */
    for (size_t i = 0; i < n;) {
        /* plain ASCII, the bulk of every string, in one sweep */
        while (i < n && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') {
            i++;
            run++;
        }
        if (i == n)
            break;
        unsigned char c = p[i];
        size_t k = 1;
        const char *esc = NULL;
        char u[7];
        if (c >= 0x80) {
            k = ingest_utf8_len(p + i, n - i);
            if (k == 0) {
                esc = "\xEF\xBF\xBD";
                k = 1;
            }
        } else if (c == '"') {
            esc = "\\\"";
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4];
            u[5] = hex[c & 15], u[6] = '\0';
            esc = u;
        }
        if (esc) {
            put(o, p + i - run, run);
            run = 0;
            puts_(o, esc);
        } else {
            run += k;
        }
        i += k;
    }
    put(o, p + n - run, run);
    put(o, "\"", 1);
}

static void key(struct out *o, const char *k)
{
    if (!o->first)
        put(o, ",", 1);
    o->first = false;
    newline(o);
    str(o, k);
    put(o, ": ", 2);
}

static void begin(struct out *o, char c)
{
    put(o, &c, 1);
    o->depth++;
    o->first = true;
}

static void end(struct out *o, char c)
{
    o->depth--;
    if (!o->first)
        newline(o);
    put(o, &c, 1);
    o->first = false;
}

/* The next element of an array. */
static void item(struct out *o)
{
    if (!o->first)
        put(o, ",", 1);
    o->first = false;
    newline(o);
}

static void kstr(struct out *o, const char *k, const char *v)
{
    key(o, k);
    if (v)
        str(o, v);
    else
        put(o, "null", 4);
}

static void kint(struct out *o, const char *k, int64_t v)
{
    key(o, k);
    if (v < 0)
        put(o, "null", 4);
    else {
        char n[24];
        snprintf(n, sizeof(n), "%lld", (long long)v);
        puts_(o, n);
    }
}

static void kdate(struct out *o, const char *k, int64_t t)
{
    char d[40];
    if (t != FEED_NO_DATE)
        cc_time_rfc3339_s(t, d, sizeof(d));
    kstr(o, k, t == FEED_NO_DATE ? NULL : d);
}

static void links(struct out *o, const struct feed_link *l, size_t n)
{
    key(o, "links");
    begin(o, '[');
    for (size_t i = 0; i < n; i++) {
        item(o);
        begin(o, '{');
        kstr(o, "href", l[i].href);
        kstr(o, "rel", l[i].rel);
        kstr(o, "type", l[i].type);
        kstr(o, "title", l[i].title);
        if (l[i].length >= 0)
            kint(o, "length", l[i].length);
        end(o, '}');
    }
    end(o, ']');
}

/* A list of objects whose members are all strings: authors and tags. */
struct member {
    const char *name;
    size_t offset; /* of a const char * in the element */
};

static void string_objects(struct out *o, const char *k, const void *arr, size_t n,
                           size_t size, const struct member *m, size_t nm)
{
    key(o, k);
    begin(o, '[');
    for (size_t i = 0; i < n; i++) {
        const char *el = (const char *)arr + i * size;
        item(o);
        begin(o, '{');
        for (size_t j = 0; j < nm; j++) {
            const char *v;
            memcpy(&v, el + m[j].offset, sizeof(v));
            kstr(o, m[j].name, v);
        }
        end(o, '}');
    }
    end(o, ']');
}

static void persons(struct out *o, const struct feed_person *p, size_t n)
{
    static const struct member m[] = {{"name", offsetof(struct feed_person, name)},
                                      {"email", offsetof(struct feed_person, email)},
                                      {"uri", offsetof(struct feed_person, uri)}};
    string_objects(o, "authors", p, n, sizeof(*p), m, 3);
}

static void tags(struct out *o, const struct feed_tag *t, size_t n)
{
    static const struct member m[] = {{"term", offsetof(struct feed_tag, term)},
                                      {"scheme", offsetof(struct feed_tag, scheme)},
                                      {"label", offsetof(struct feed_tag, label)}};
    string_objects(o, "tags", t, n, sizeof(*t), m, 3);
}

static void entry(struct out *o, const struct feed_entry *e)
{
    begin(o, '{');
    kstr(o, "id", e->id);
    kstr(o, "title", e->title);
    kstr(o, "link", e->link);
    links(o, e->links, e->n_links);
    kdate(o, "published", e->published);
    kdate(o, "updated", e->updated);
    persons(o, e->authors, e->n_authors);
    tags(o, e->tags, e->n_tags);
    kstr(o, "summary", e->summary);
    key(o, "content");
    begin(o, '[');
    for (size_t i = 0; i < e->n_content; i++) {
        item(o);
        begin(o, '{');
        kstr(o, "value", e->content[i].value);
        kstr(o, "type", e->content[i].type);
        kstr(o, "language", e->content[i].language);
        kstr(o, "base", e->content[i].base);
        end(o, '}');
    }
    end(o, ']');
    key(o, "enclosures");
    begin(o, '[');
    for (size_t i = 0; i < e->n_enclosures; i++) {
        item(o);
        begin(o, '{');
        kstr(o, "href", e->enclosures[i].href);
        kint(o, "length", e->enclosures[i].length);
        kstr(o, "type", e->enclosures[i].type);
        end(o, '}');
    }
    end(o, ']');
    kstr(o, "comments", e->comments);
    end(o, '}');
}

cc_err feed_write_json(const struct feed *f, struct cc_buf *b)
{
    if (!f || !b)
        return CC_EINVAL;
    size_t start = b->len;
    struct out o = {.b = b};
    const struct feed_meta *m = &f->feed;
    begin(&o, '{');
    key(&o, "bozo");
    puts_(&o, f->bozo ? "true" : "false");
    kstr(&o, "bozo_message", f->bozo_message);
    kstr(&o, "version", f->version);
    kstr(&o, "encoding", f->encoding);
    key(&o, "feed");
    begin(&o, '{');
    kstr(&o, "title", m->title);
    kstr(&o, "subtitle", m->subtitle);
    kstr(&o, "link", m->link);
    links(&o, m->links, m->n_links);
    kstr(&o, "id", m->id);
    kstr(&o, "language", m->language);
    kdate(&o, "updated", m->updated);
    persons(&o, m->authors, m->n_authors);
    tags(&o, m->tags, m->n_tags);
    key(&o, "image");
    if (m->image) {
        begin(&o, '{');
        kstr(&o, "href", m->image->href);
        kstr(&o, "title", m->image->title);
        kstr(&o, "link", m->image->link);
        end(&o, '}');
    } else {
        put(&o, "null", 4);
    }
    kstr(&o, "generator", m->generator);
    end(&o, '}');
    key(&o, "entries");
    begin(&o, '[');
    for (size_t i = 0; i < f->n_entries; i++) {
        item(&o);
        entry(&o, &f->entries[i]);
    }
    end(&o, ']');
    if (f->dropped_items || f->dropped_old) {
        key(&o, "dropped");
        begin(&o, '{');
        kint(&o, "items", (int64_t)f->dropped_items);
        kint(&o, "old", (int64_t)f->dropped_old);
        end(&o, '}');
    }
    end(&o, '}');
    put(&o, "\n", 1);
    if (o.full) {
        /* over the buffer's limit somewhere above: leave it as it was */
        b->len = start;
        if (b->ptr)
            b->ptr[start] = '\0';
        return CC_ELIMIT;
    }
    return CC_OK;
}

cc_err feed_to_json(const struct feed *f, json_t **out)
{
    if (!f || !out)
        return CC_EINVAL;
    struct cc_buf b;
    cc_buf_init(&b, SIZE_MAX / 2);
    cc_err err = feed_write_json(f, &b);
    json_t *j = NULL;
    if (!err) {
        j = json_loadb(cc_buf_str(&b), b.len, 0, NULL);
        err = j ? CC_OK : CC_ENOMEM;
    }
    cc_buf_release(&b);
    if (!err)
        *out = j;
    return err;
}
