/*
 * fuzz_robots.c - robots.txt parsing and matching on arbitrary bytes. The
 * input's first line is the path to check (the rest is the robots.txt), so
 * the fuzzer steers both. Besides crashes and runaway time (patterns full
 * of '*' against long paths) it checks what a crawler relies on:
 * /robots.txt is always allowed, an allow-all and a disallow-all object
 * answer so, crawl-delay is -1 or within a day, sitemap URLs are non-empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/web/robots.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const AGENTS[] = { "FooBot", "foobot/1.0", "*", "", "Googlebot-News",
                                          NULL };
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t plen = nl ? (size_t)(nl - s) : 0;
    if (plen > 2048)
        plen = 2048;
    char path[2049];
    memcpy(path, s, plen);
    path[plen] = '\0';
    for (size_t i = 0; i < plen; i++)
        if (path[i] == '\0')
            path[i] = '_';
    const char *body = nl ? nl + 1 : s;
    size_t blen = size - (size_t)(body - s);
    struct ingest_robots *r = NULL;
    if (ingest_robots_parse(body, blen, &r) != CC_OK || !r)
        abort();
    for (const char *const *a = AGENTS; *a; a++) {
        (void)ingest_robots_allowed(r, *a, path);
        if (!ingest_robots_allowed(r, *a, "/robots.txt"))
            abort();
        int64_t delay = ingest_robots_crawl_delay_ms(r, *a);
        if (delay < -1 || delay > 86400000)
            abort();
    }
    const char *const *maps;
    size_t n = ingest_robots_sitemaps(r, &maps);
    for (size_t i = 0; i < n; i++)
        if (!maps[i] || !maps[i][0])
            abort();
    char out[256];
    (void)ingest_robots_path_of_url(path, out, sizeof(out));
    ingest_robots_free(r);
    return 0;
}
