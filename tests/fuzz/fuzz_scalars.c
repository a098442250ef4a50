/*
 * fuzz_scalars - the small parsers of user-supplied values: RFC 3339 times
 * (API and CLI), durations and sizes (configuration, environment), base64
 * (uploads). The first byte picks the parser; outputs are checked against
 * their documented ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    int64_t v;
    uint64_t u;
    switch (data[0] % 4) {
    case 0:
        if (cc_parse_rfc3339(s, &v) == CC_OK && (v < -62167219200000LL || v > 253402300799999LL))
            abort();   /* years 0000-9999 only */
        break;
    case 1: {
        /* The two views of one grammar agree wherever both can answer. */
        int64_t ns;
        cc_err ms_err = cc_parse_duration_ms(s, &v, NULL);
        cc_err ns_err = cc_parse_duration_ns(s, &ns, NULL);
        if ((ms_err == CC_OK && v < 0) || (ns_err == CC_OK && ns < 0))
            abort();
        if (ms_err == CC_OK && ns_err == CC_OK && ns != v * 1000000)
            abort();
        break;
    }
    case 2: {
        uint64_t u2;
        cc_err e1 = cc_parse_size(s, CC_SIZE_KB_IS_1000, &u, NULL);
        cc_err e2 = cc_parse_size(s, CC_SIZE_KB_IS_1024, &u2, NULL);
        if (e1 != e2 || (e1 == CC_OK && u > u2))
            abort();   /* same grammar; "kb" is never more under the SI reading */
        break;
    }
    default: {
        size_t n = strlen(s), out_len = 0;
        uint8_t *out = malloc(cc_base64_decoded_max(n) + 1);
        if (out && cc_base64_decode(s, n, out, &out_len) == CC_OK &&
            out_len > cc_base64_decoded_max(n))
            abort();
        free(out);
    }
    }
    free(s);
    return 0;
}
