/*
 * fuzz_docx.c - ingest_docx_parse on arbitrary bytes: libzip reading from
 * memory, the entry and size caps, libxml2 on the XML inside, the
 * WordprocessingML walk. No crash, no leak, nothing written to disk.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, 1 << 20);
    if (ingest_docx_parse(data, size, &t, &d) == CC_OK) {
        for (size_t i = 0; i < t.nblocks; i++)
            if (!t.blocks[i].text[0])
                abort();
    }
    ingest_text_release(&t);
    return 0;
}
