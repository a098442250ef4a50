/*
 * fuzz_asciidoc.c - ingest_asciidoc_parse on arbitrary bytes: no crash, no leak, no
 * hang, and what comes out keeps ingest_text's invariants (text_check.h).
 * A small limit (input starting with '!') makes CC_ELIMIT paths reachable.
 */
#include <stddef.h>
#include <stdint.h>

#include "ingest/parse/parse.h"
#include "text_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_text t;
    struct cc_diag d;
    ingest_text_init(&t, size > 0 && data[0] == '!' ? 256 : 1 << 20);
    if (ingest_asciidoc_parse((const char *)data, size, &t, &d) == CC_OK)
        fuzz_check_text(&t);
    ingest_text_release(&t);
    return 0;
}
