/*
 * fuzz_proclog.c - the process driver's log files as outside input: the
 * record parser on every line, and the reader (backward tail scan, since
 * filter, forward pass) over the bytes as a service.log. Besides crashes
 * it checks what a user would notice: `tail N` gives at most N lines and
 * exactly the last N lines of a full read.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "orchestrator/process_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
    uint64_t h[64];            /* hashes of the last lines seen (ring) */
    long n;
};

static uint64_t hash(const struct orch_log_line *l)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)l->ts_ns ^ (uint64_t)l->stream;
    for (size_t i = 0; i < l->len; i++)
        h = (h ^ (uint8_t)l->text[i]) * 1099511628211ull;
    return h;
}

static bool collect(void *arg, const struct orch_log_line *l)
{
    struct acc *a = arg;
    a->h[a->n % 64] = hash(l);
    a->n++;
    return true;
}

static char dir[PATH_MAX];

static void cleanup(void)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", dir, PLOG_CURRENT);
    unlink(p);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/cc-fuzz-proclog-%d", (int)getpid());
        if (orch__mkdirs(dir, 0700) != CC_OK)
            abort();
        atexit(cleanup);
    }
    /* the parser, line by line */
    for (size_t i = 0; i < size;) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t n = nl ? (size_t)(nl - (data + i)) : size - i;
        struct orch_log_line l;
        if (orch__plog_parse((const char *)data + i, n, &l) &&
            (l.len != n - PLOG_HDR_LEN || l.ts_ns < 0))
            abort();
        i += n + 1;
    }
    /* the reader */
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/%s", dir, PLOG_CURRENT);
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    long tail = size ? data[0] % 40 : 3;
    struct acc all = {0}, last = {0};
    struct orch_log_query q = {.tail = -1};
    if (orch__plog_read(dir, &q, NULL, NULL, collect, &all, NULL) != CC_OK)
        abort();
    q.tail = tail;
    if (orch__plog_read(dir, &q, NULL, NULL, collect, &last, NULL) != CC_OK)
        abort();
    long want = all.n < tail ? all.n : tail;
    if (last.n != want)
        abort();
    for (long k = 0; k < want && k < 64; k++)
        if (last.h[(last.n - 1 - k) % 64] != all.h[(all.n - 1 - k) % 64])
            abort();
    /* since: never more than the full read */
    struct acc since = {0};
    q = (struct orch_log_query){.tail = -1, .since_ns = INT64_C(1790000000000000000)};
    if (orch__plog_read(dir, &q, NULL, NULL, collect, &since, NULL) != CC_OK ||
        since.n > all.n)
        abort();
    return 0;
}
