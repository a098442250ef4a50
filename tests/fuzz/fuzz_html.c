/*
 * fuzz_html.c - ingest_html_extract on arbitrary bytes: libxml2's HTML
 * parser in recovery mode plus our content selection and walk. No crash,
 * no leak, no runaway recursion on deep nesting; the output keeps
 * ingest_text's invariants (checked with abort()).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ingest_text *t)
{
    if (t->bytes > t->limit)
        abort();
    for (size_t i = 0; i < t->nblocks; i++) {
        const char *s = t->blocks[i].text;
        size_t n = strlen(s);
        if (n == 0)
            abort();
        for (size_t j = 0; j < n;) {
            size_t k = ingest_utf8_len((const unsigned char *)s + j, n - j);
            if (k == 0)
                abort();
            j += k;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 1 << 20);
    if (ingest_html_extract((const char *)data, size, "https://fuzz.example/", &t, &d) == CC_OK)
        check(&t);
    ingest_text_release(&t);
    return 0;
}
