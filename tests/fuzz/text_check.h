/*
 * text_check.h - what the fuzz targets of the text parsers assert on a
 * successful parse: ingest_text's invariants (within the limit, no empty
 * block, valid UTF-8), with abort() so a violation is a finding; and the
 * hash of the text is computed too.
 */
#ifndef CC_FUZZ_TEXT_CHECK_H
#define CC_FUZZ_TEXT_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "ingest/text.h"

static inline void fuzz_check_text(const struct ingest_text *t)
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
    char hash[65];
    ingest_text_hash(t, hash);
}

#endif
