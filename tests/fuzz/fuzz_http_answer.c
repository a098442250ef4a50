/*
 * fuzz_http_answer - the HTTP client's answer parser (core/httpc.c)
 * (status line, headers, chunked bodies): arbitrary bytes must never crash
 * it or make it read outside the buffer, and a body it returns must lie
 * inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/httpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cc_buf raw;
    cc_buf_init(&raw, 1 << 20);
    if (cc_buf_add(&raw, data, size) != CC_OK)
        return 0;
    struct cc_http_answer a = {0};
    if (cc_http_parse_answer(&raw, &a) == 0) {
        if (a.status < 100 || a.status > 599)
            abort();
        if (a.body < raw.ptr || a.body + a.len > raw.ptr + raw.len)
            abort();
    }
    cc_buf_release(&raw);
    return 0;
}
