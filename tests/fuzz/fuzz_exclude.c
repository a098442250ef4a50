/*
 * fuzz_exclude.c - the .gitignore-style matcher of folder sources on
 * arbitrary patterns and paths: no crash, no hang (the matcher promises
 * O(pattern x path) per pattern). Input: patterns, one per line, then a
 * NUL byte, then the path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/sources/exclude.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t plen = strnlen(buf, size);
    const char *path = plen < size ? buf + plen + 1 : "a/b/c.md";
    const char *pats[INGEST_EXCLUDE_MAX];
    size_t n = 0;
    for (char *s = buf; n < INGEST_EXCLUDE_MAX && s < buf + plen;) {
        char *nl = memchr(s, '\n', (size_t)(buf + plen - s));
        if (nl)
            *nl = '\0';
        if (strlen(s) < INGEST_EXCLUDE_MAX_LEN)
            pats[n++] = s;
        if (!nl)
            break;
        s = nl + 1;
    }
    (void)ingest_excluded(pats, n, path, false);
    (void)ingest_excluded(pats, n, path, true);
    (void)ingest_exclude_match(pats, n, path, false);
    free(buf);
    return 0;
}
