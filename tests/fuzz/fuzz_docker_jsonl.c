/*
 * fuzz_docker_jsonl - the JSON-lines decoder of the docker driver's build
 * and events streams (orchestrator/docker_stream.c), fed in reads whose
 * size the first byte picks. Every value handed on must be valid JSON the
 * caller can walk; memory stays bounded by ORCH__JSONL_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrator/docker_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool on_value(void *arg, json_t *v)
{
    size_t *count = arg;
    (*count)++;
    if (v) {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        if (!s)
            abort();
        free(s);
        (void)json_string_value(json_object_get(json_object_get(v, "errorDetail"), "message"));
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] % 31 + 1;
    data++;
    size--;
    struct orch__jsonl j;
    orch__jsonl_init(&j);
    size_t count = 0;
    for (size_t i = 0; i < size; i += step) {
        size_t n = size - i < step ? size - i : step;
        if (!orch__jsonl_feed(&j, (const char *)data + i, n, on_value, &count))
            abort();
        if (j.line.len > ORCH__JSONL_MAX)
            abort();
    }
    orch__jsonl_flush(&j, on_value, &count);
    orch__jsonl_release(&j);
    /* at most one value per line, plus the last unterminated one */
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (count > lines)
        abort();
    return 0;
}
