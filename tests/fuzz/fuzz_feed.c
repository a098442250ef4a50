/*
 * fuzz_feed.c - feed_parse on arbitrary bytes (XML in every feed format,
 * JSON Feed, any encoding), then the JSON output and every dedup key. The
 * first byte picks a Content-Type charset so the HTTP path is fuzzed too.
 * Checks (abort()): every string of the model is valid UTF-8, the JSON
 * dumps, keys fit FEED_KEY_MAX.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "ingest/feed/feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void utf8(const char *s)
{
    if (s && !cc_utf8_valid(s, strlen(s)))
        abort();
}

static void check(const struct feed *f)
{
    utf8(f->feed.title);
    utf8(f->feed.subtitle);
    utf8(f->feed.link);
    for (size_t i = 0; i < f->n_entries; i++) {
        const struct feed_entry *e = &f->entries[i];
        utf8(e->id);
        utf8(e->title);
        utf8(e->link);
        utf8(e->summary);
        for (size_t k = 0; k < e->n_content; k++)
            utf8(e->content[k].value);
        char key[FEED_KEY_MAX + 1];
        if (feed_entry_key(f, i, key, sizeof(key)) != CC_OK || strlen(key) > FEED_KEY_MAX)
            abort();
    }
    json_t *j = NULL;
    if (feed_to_json(f, &j) != CC_OK)
        abort();
    char *s = json_dumps(j, 0);
    if (!s)
        abort();
    free(s);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ctypes[] = {NULL, "text/xml; charset=utf-8",
                                         "application/rss+xml; charset=iso-8859-1",
                                         "text/xml; charset=utf-16", "application/json"};
    const char *ct = size ? ctypes[data[0] % 5] : NULL;
    struct feed *f = NULL;
    struct cc_diag d;
    const struct feed_limits lim = {.max_bytes = 1 << 20, .max_items = 500};
    if (feed_parse(data, size, ct, "https://fuzz.example/feed/", &lim, &f, &d) == CC_OK)
        check(f);
    feed_free(f);
    return 0;
}
