/*
 * fuzz_sitemap.c - ingest_sitemap_parse on arbitrary bytes (XML, gzip,
 * text). No crash, no leak, no entity expansion blow-up, and every entry
 * it returns is usable: a non-empty loc, a known changefreq or none, a
 * priority in 0..1 or -1, at most the URL cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/web/sitemap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_sitemap s;
    struct cc_diag d;
    if (ingest_sitemap_parse(data, size, "fuzz.xml", &s, &d) != CC_OK)
        return 0;
    if (s.n > INGEST_SITEMAP_MAX_URLS || (s.n && !s.entries))
        abort();
    for (size_t i = 0; i < s.n; i++) {
        const struct ingest_sitemap_entry *e = &s.entries[i];
        if (!e->loc || !e->loc[0])
            abort();
        if (e->priority != -1 && (e->priority < 0 || e->priority > 1))
            abort();
        if (memchr(e->changefreq, '\0', sizeof(e->changefreq)) == NULL)
            abort();
    }
    ingest_sitemap_release(&s);
    return 0;
}
