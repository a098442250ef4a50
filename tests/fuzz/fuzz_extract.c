/*
 * fuzz_extract.c - ingest_page_extract on arbitrary bytes: site detection,
 * the readability score, the JavaScript-only test and the walk. No crash,
 * no leak, no runaway recursion; the output keeps ingest_text's
 * invariants, a JavaScript-only page has no blocks, the version fits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/web/extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_page p;
    struct cc_diag d;
    ingest_page_init(&p, 1 << 20);
    if (ingest_page_extract((const char *)data, size, "https://fuzz.example/en/v1.2/x", &p,
                            &d) == CC_OK) {
        if (p.text.bytes > p.text.limit)
            abort();
        if (p.needs_javascript && p.text.nblocks)
            abort();
        if (memchr(p.version, '\0', sizeof(p.version)) == NULL)
            abort();
        for (size_t i = 0; i < p.text.nblocks; i++) {
            const char *t = p.text.blocks[i].text;
            size_t n = strlen(t);
            if (n == 0)
                abort();
            for (size_t j = 0; j < n;) {
                size_t k = ingest_utf8_len((const unsigned char *)t + j, n - j);
                if (k == 0)
                    abort();
                j += k;
            }
        }
        struct cc_buf b;
        cc_buf_init(&b, (size_t)4 << 20);
        (void)ingest_page_plain_text(&p.text, &b);
        cc_buf_release(&b);
    }
    ingest_page_release(&p);
    return 0;
}
