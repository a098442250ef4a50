/*
 * fuzz_docker_mux - the docker driver's log decoding (orchestrator/
 * docker_stream.c): multiplexed 8-byte frames, then lines with RFC 3339
 * timestamps. The first byte picks the read size, so frames and lines are
 * split across reads at every place. Checks with abort(): every line lies
 * in bounds, is at most ORCH__LINE_MAX bytes, has no newline, and the
 * bytes handed on equal the payload bytes fed in (no loss, no invention).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/docker_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    size_t chars;          /* text bytes seen plus one per newline-ended line */
    struct orch__lines out, err;
    size_t payload;        /* payload bytes of streams 1, 2, 3 */
};

static bool on_line(void *arg, const struct orch_log_line *l)
{
    (void)arg;
    if (l->len > ORCH__LINE_MAX || (l->len && !l->text) || memchr(l->text, '\n', l->len))
        abort();
    if (l->stream != ORCH_STDOUT && l->stream != ORCH_STDERR)
        abort();
    if (l->ts_ns < 0)
        abort();
    volatile char c = 0;
    for (size_t i = 0; i < l->len; i++)
        c ^= l->text[i];
    (void)c;
    return true;
}

static bool on_bytes(void *arg, int stream, const char *p, size_t n)
{
    struct sink *s = arg;
    if (stream == 0)
        return true;
    s->payload += n;
    return orch__lines_feed(stream == 2 ? &s->err : &s->out, p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    struct sink s = {
        .out = {.stream = ORCH_STDOUT, .timestamps = true, .cb = on_line},
        .err = {.stream = ORCH_STDERR, .timestamps = true, .cb = on_line},
    };
    struct orch__mux m = {0};
    size_t fed_payload_max = 0;
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        if (!orch__mux_feed(&m, (const char *)data + i, n, on_bytes, &s))
            abort();   /* the sink never stops */
        fed_payload_max += n;
    }
    if (s.payload > fed_payload_max)
        abort();
    orch__lines_flush(&s.out);
    orch__lines_flush(&s.err);
    orch__lines_release(&s.out);
    orch__lines_release(&s.err);

    /* the timestamp parser alone, on the raw bytes */
    size_t used = 0;
    int64_t t = orch__parse_time_ns((const char *)data, size, &used);
    if (t >= 0 && (used > size || used < 20))
        abort();
    return 0;
}
