/*
 * fuzz_chunk.c - markdown parsed, then chunked with a small cap taken from
 * the first byte (1..64 characters) so every split level is exercised.
 * Checks the chunker's promises with abort(): ord in sequence, no empty
 * chunk, 1..max characters, whole UTF-8 characters only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/chunk.h"
#include "ingest/parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ingest_chunks *c, size_t max)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct ingest_chunk *k = &c->items[i];
        size_t n = strlen(k->text);
        if (k->ord != i || n == 0 || k->chars == 0 || k->chars > max ||
            k->chars != ingest_utf8_chars(k->text, n) || !k->heading_path)
            abort();
        for (size_t j = 0; j < n;) {
            size_t len = ingest_utf8_len((const unsigned char *)k->text + j, n - j);
            if (len == 0)
                abort();
            j += len;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max = (size_t)(data[0] % 64) + 1;
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 1 << 20);
    if (ingest_markdown_parse((const char *)data + 1, size - 1, &t, &d) == CC_OK) {
        struct ingest_chunks c;
        ingest_chunks_init(&c);
        if (ingest_chunk(&t, max, &c) != CC_OK)
            abort();
        check(&c, max);
        ingest_chunks_release(&c);
    }
    ingest_text_release(&t);
    return 0;
}
