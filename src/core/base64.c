/*
 * base64.c - the wrappers of base64.h over nettle's base64. What they add
 * to nettle: the NUL after the encoding, missing padding accepted (nettle
 * wants the '='s), and form feeds and vertical tabs refused (nettle skips
 * them as white space; the decoder here skips only CR, LF, space and tab).
 */
#include "core/base64.h"

#include <string.h>

#include <nettle/base64.h>

void cc_base64_encode(const uint8_t *in, size_t n, char *out)
{
    if (n)
        base64_encode_raw(out, n, in);
    out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
}

cc_err cc_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len)
{
    struct base64_decode_ctx ctx;
    size_t n = 0, pad_n = 0;
    if (len && (memchr(in, '\f', len) || memchr(in, '\v', len)))
        return CC_EINVAL;
    base64_decode_init(&ctx);
    if (len && !base64_decode_update(&ctx, &n, out, len, in))
        return CC_EINVAL;
    /* Missing padding: add what the last quantum lacks. A quantum that no
     * padding completes (one stray character) stays an error. */
    for (int i = 0; i < 2 && !base64_decode_final(&ctx); i++)
        if (!base64_decode_update(&ctx, &pad_n, out + n, 1, "="))
            return CC_EINVAL;
    if (!base64_decode_final(&ctx))
        return CC_EINVAL;
    *out_len = n;
    return CC_OK;
}
