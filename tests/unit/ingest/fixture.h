/* fixture.h - helpers shared by the ingest tests: read a file under
 * tests/data (found through CC_SOURCE_DIR, which ctest sets) and look at an
 * extracted text. Header-only so each test stays one executable. */
#ifndef CC_TEST_INGEST_FIXTURE_H
#define CC_TEST_INGEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/text.h"

/* The bytes of tests/data/<rel>; fails the test when missing. */
static inline char *fixture_read(const char *rel, size_t *len)
{
    const char *root = getenv("CC_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/data/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fixture missing: %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        abort();
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* Index of the first block of `kind` whose text equals `text`, or -1. */
static inline long find_block(const struct ingest_text *t, enum ingest_block_kind kind,
                              const char *text)
{
    for (size_t i = 0; i < t->nblocks; i++)
        if (t->blocks[i].kind == kind && strcmp(t->blocks[i].text, text) == 0)
            return (long)i;
    return -1;
}

/* Whether any block's text contains `needle`. */
static inline int any_block_contains(const struct ingest_text *t, const char *needle)
{
    for (size_t i = 0; i < t->nblocks; i++)
        if (strstr(t->blocks[i].text, needle))
            return 1;
    return 0;
}

#endif
