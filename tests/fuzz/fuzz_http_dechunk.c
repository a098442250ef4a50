/*
 * fuzz_http_dechunk - the streaming chunked-body decoder of core/httpc.c,
 * fed in reads whose size the first byte picks. Whatever the split, the
 * decoded bytes must be the same as when the whole input is fed at once,
 * and the decoder must never hand on more bytes than it was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/httpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool collect(void *arg, const char *p, size_t n)
{
    struct cc_buf *b = arg;
    if (cc_buf_add(b, p, n))
        abort();
    return true;
}

static int run(const uint8_t *data, size_t size, size_t step, struct cc_buf *out)
{
    struct cc_http_dechunk d = {0};
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step, used = 0;
        int r = cc_http_dechunk_feed(&d, (const char *)data + i, n, &used, collect, out);
        if (used > n)
            abort();
        if (r != 0)
            return r;
        if (used != n)
            abort();   /* 0 means "more": everything was consumed */
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 13 + 1;
    data++;
    size--;
    struct cc_buf whole, split;
    cc_buf_init(&whole, 1 << 20);
    cc_buf_init(&split, 1 << 20);
    int a = run(data, size, size ? size : 1, &whole);
    int b = run(data, size, step, &split);
    if (a != b || whole.len != split.len || whole.len > size ||
        (whole.len && memcmp(whole.ptr, split.ptr, whole.len)))
        abort();
    cc_buf_release(&whole);
    cc_buf_release(&split);
    return 0;
}
