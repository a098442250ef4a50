/*
 * feed.c - feed_parse(): encoding, format sniffing, limits, and the
 * pieces every format shares (arena helpers, URL resolution, dedup keys).
 */
#include "ingest/feed/feed.h"
#include "ingest/feed/feed_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/uri.h>

#include "core/buf.h"
#include "core/sha256.h"
#include "ingest/parse/libs.h"

#define ARENA_BLOCK (64 * 1024)
#define ARRAY_FIRST 4

void *feed__alloc(struct feed *f, size_t n)
{
    void *p = cc_arena_alloc(&f->arena, n ? n : 1);
    if (!p) {
        fputs("commandcenter: out of memory (feed arena)\n", stderr);
        abort();
    }
    return p;
}

char *feed__strndup(struct feed *f, const char *s, size_t n)
{
    char *p = feed__alloc(f, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *feed__strdup(struct feed *f, const char *s)
{
    return s ? feed__strndup(f, s, strlen(s)) : NULL;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *feed__trimdup(struct feed *f, const char *s)
{
    if (!s)
        return NULL;
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n && is_space(s[n - 1]))
        n--;
    return n ? feed__strndup(f, s, n) : NULL;
}

void *feed__push(struct feed *f, void **arr, size_t *n, size_t elem)
{
    size_t cnt = *n;
    /* Full when the count is 0, or a power of two of at least ARRAY_FIRST. */
    if (cnt == 0 || (cnt >= ARRAY_FIRST && (cnt & (cnt - 1)) == 0)) {
        size_t cap = cnt ? cnt * 2 : ARRAY_FIRST;
        void *grown = feed__alloc(f, cap * elem);
        if (cnt)
            memcpy(grown, *arr, cnt * elem);
        *arr = grown;
    }
    char *slot = (char *)*arr + cnt * elem;
    memset(slot, 0, elem);
    *n = cnt + 1;
    return slot;
}

void feed__bozo(struct feed *f, const char *fmt, ...)
{
    if (f->bozo)
        return;
    char msg[FEED_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    f->bozo = true;
    f->bozo_message = feed__strdup(f, msg);
}

const char *feed__resolve(struct feed *f, const char *base, const char *ref)
{
    if (!ref || !base || !*base)
        return ref;
    /* Already absolute: skip the library call (most links are). */
    const char *p = ref;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (p > ref && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')))
        p++;
    if (p > ref && *p == ':')
        return ref;
    const struct ingest_libs *L = ingest__libs();
    xmlChar *u = L ? L->xmlBuildURI((const xmlChar *)ref, (const xmlChar *)base) : NULL;
    if (!u)
        return ref;
    const char *out = feed__strdup(f, (const char *)u);
    (*L->xmlFree)(u);
    return out;
}

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && is_space(*s))
        s++;
    return s;
}

static int64_t newest_date(const struct feed_entry *e)
{
    return e->updated != FEED_NO_DATE ? e->updated : e->published;
}

static void apply_limits(struct feed *f, const struct feed_limits *lim)
{
    if (lim && lim->max_age_days > 0) {
        int64_t now = lim->now_s ? lim->now_s : (int64_t)time(NULL);
        int64_t oldest = now - lim->max_age_days * 86400;
        size_t kept = 0;
        for (size_t i = 0; i < f->n_entries; i++) {
            int64_t t = newest_date(&f->entries[i]);
            if (t != FEED_NO_DATE && t < oldest) {
                f->dropped_old++;
                continue;
            }
            f->entries[kept++] = f->entries[i];
        }
        f->n_entries = kept;
    }
    if (lim && lim->max_items > 0 && f->n_entries > lim->max_items) {
        f->dropped_items = f->n_entries - lim->max_items;
        f->n_entries = lim->max_items;
    }
}

static int cmp_by_id(const void *a, const void *b)
{
    const struct feed_entry *x = *(struct feed_entry *const *)a;
    const struct feed_entry *y = *(struct feed_entry *const *)b;
    return strcmp(x->id, y->id);
}

/* Sorting pointers keeps this O(n log n) for huge feeds. */
static void mark_repeated_ids(struct feed *f)
{
    size_t n = 0;
    struct feed_entry **v = cc_xcalloc(f->n_entries ? f->n_entries : 1, sizeof(*v));
    for (size_t i = 0; i < f->n_entries; i++)
        if (f->entries[i].id)
            v[n++] = &f->entries[i];
    qsort(v, n, sizeof(*v), cmp_by_id);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1]->id, v[i]->id) == 0)
            v[i - 1]->id_repeated = v[i]->id_repeated = true;
    free(v);
}

cc_err feed_parse(const uint8_t *data, size_t len, const char *http_content_type,
                  const char *base_url, const struct feed_limits *lim, struct feed **out,
                  struct cc_diag *d)
{
    struct feed_utf8 u = {0};
    struct feed *f = NULL;
    cc_err err;
    if (!data && len) {
        cc_diag_set(d, NULL, 0, 0, "no data");
        return CC_EINVAL;
    }
    if (!data)
        data = (const uint8_t *)"";
    if (lim && lim->max_bytes && len > lim->max_bytes) {
        cc_diag_set(d, NULL, 0, 0, "feed is %zu bytes, over the limit of %zu", len,
                    lim->max_bytes);
        return CC_ELIMIT;
    }
    if ((err = feed__to_utf8(data, len, http_content_type, &u, d)))
        goto out;
    f = cc_xcalloc(1, sizeof(*f));
    cc_arena_init(&f->arena, ARENA_BLOCK, SIZE_MAX);
    f->version = "";
    f->encoding = feed__strdup(f, u.encoding);
    base_url = feed__strdup(f, base_url); /* content[].base may be it */
    f->feed.updated = FEED_NO_DATE;
    if (u.bozo)
        feed__bozo(f, "%s", u.bozo_msg);
    const char *end = u.text + u.len;
    const char *p = skip_ws(u.text, end);
    if (p < end && (*p == '{' || *p == '['))
        err = feed__parse_json(f, u.text, u.len, base_url, d);
    else if (p < end && *p == '<')
        err = feed__parse_xml(f, u.text, u.len, base_url, d);
    else {
        cc_diag_set(d, NULL, 0, 0, p == end ? "not a feed: the document is empty"
                                            : "not a feed: neither XML nor JSON");
        err = CC_EPARSE;
    }
    if (err)
        goto out;
    apply_limits(f, lim);
    mark_repeated_ids(f);
    *out = f;
    f = NULL;
out:
    feed_free(f);
    free(u.text);
    return err;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    if (f->html_ctxt)
        ingest__libs()->htmlFreeParserCtxt(f->html_ctxt);
    cc_arena_release(&f->arena);
    free(f);
}

/* Lower-case scheme and host, no default port, no fragment, "/" for an
 * empty path: the forms one link takes across re-fetches. */
static void normalize_url(const char *url, struct cc_buf *b)
{
    const char *colon = strstr(url, "://");
    if (!colon) {
        cc_buf_addstr(b, url);
        return;
    }
    for (const char *p = url; p < colon; p++)
        cc_buf_addch(b, (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p));
    cc_buf_addstr(b, "://");
    const char *host = colon + 3;
    size_t hlen = strcspn(host, "/?#");
    const char *port = memchr(host, ':', hlen);
    size_t name_len = port ? (size_t)(port - host) : hlen;
    for (size_t i = 0; i < name_len; i++)
        cc_buf_addch(b, (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]));
    if (port) {
        size_t plen = hlen - name_len;
        bool dflt = (plen == 3 && strncmp(port, ":80", 3) == 0 && strncasecmp(url, "http:", 5) == 0) ||
                    (plen == 4 && strncmp(port, ":443", 4) == 0 && strncasecmp(url, "https:", 6) == 0);
        if (!dflt)
            cc_buf_add(b, port, plen);
    }
    const char *rest = host + hlen;
    size_t rlen = strcspn(rest, "#");
    if (rlen == 0 || rest[0] != '/')
        cc_buf_addch(b, '/');
    cc_buf_add(b, rest, rlen);
}

static void hash_field(struct cc_sha256 *c, const char *s)
{
    if (s)
        cc_sha256_update(c, s, strlen(s));
    cc_sha256_update(c, "\0", 1); /* a separator no field contains */
}

static void hex_prefix(const uint8_t *dig, size_t bytes, char *out)
{
    cc_hex_encode(dig, bytes, out);
    out[bytes * 2] = '\0';
}

cc_err feed_entry_key(const struct feed *f, size_t i, char *out, size_t outsz)
{
    if (!f || i >= f->n_entries || !out)
        return CC_EINVAL;
    if (outsz < FEED_KEY_MAX + 1)
        return CC_ELIMIT;
    const struct feed_entry *e = &f->entries[i];
    struct cc_buf b;
    cc_buf_init(&b, SIZE_MAX / 2);
    uint8_t dig[CC_SHA256_DIGEST_LEN];
    char hex[2 * CC_SHA256_DIGEST_LEN + 1];
    struct cc_sha256 c;
    const char *kind;
    if (e->id) {
        kind = "id";
        cc_buf_addstr(&b, "id:");
        cc_buf_addstr(&b, e->id);
        if (e->id_repeated) {
            cc_sha256_init(&c);
            hash_field(&c, e->link);
            hash_field(&c, e->title);
            cc_sha256_final(&c, dig);
            hex_prefix(dig, 8, hex);
            cc_buf_addf(&b, "#%s", hex);
        }
    } else if (e->link) {
        kind = "url";
        cc_buf_addstr(&b, "url:");
        normalize_url(e->link, &b);
    } else {
        kind = "hash";
        cc_sha256_init(&c);
        hash_field(&c, e->title);
        hash_field(&c, e->summary);
        hash_field(&c, e->n_content ? e->content[0].value : NULL);
        char date[48];
        snprintf(date, sizeof(date), "%lld/%lld", (long long)e->published, (long long)e->updated);
        hash_field(&c, date);
        cc_sha256_final(&c, dig);
        hex_prefix(dig, 16, hex);
        cc_buf_addf(&b, "hash:%s", hex);
    }
    if (b.len > FEED_KEY_MAX) {
        cc_sha256(cc_buf_str(&b), b.len, dig);
        hex_prefix(dig, CC_SHA256_DIGEST_LEN, hex);
        snprintf(out, outsz, "%s~%s", kind, hex);
    } else {
        memcpy(out, cc_buf_str(&b), b.len + 1);
    }
    cc_buf_release(&b);
    return CC_OK;
}
