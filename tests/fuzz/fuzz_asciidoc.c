/*
 * fuzz_asciidoc.c - ingest_asciidoc_parse on arbitrary bytes: no crash, no
 * leak, no hang, and what comes out keeps ingest_text's invariants (valid
 * UTF-8, no NUL, no empty block, within the limit), checked here with
 * abort() so a violation is a finding. A small limit makes CC_ELIMIT paths
 * reachable too.
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
    ingest_text_init(&t, size > 0 && data[0] == '!' ? 256 : 1 << 20);
    if (ingest_asciidoc_parse((const char *)data, size, &t, &d) == CC_OK) {
        check(&t);
        char hash[65];
        ingest_text_hash(&t, hash);
    }
    ingest_text_release(&t);
    return 0;
}
