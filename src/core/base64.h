/*
 * base64.h - RFC 4648 base64 (standard alphabet, '=' padding), over
 * nettle's coder (base64.c). The decoder skips CR, LF, spaces and tabs
 * (line-wrapped input is common), accepts missing padding, and refuses any
 * other character, data after padding and non-zero bits left over in the
 * last character (non-canonical encodings, RFC 4648 section 3.5).
 */
#ifndef CC_CORE_BASE64_H
#define CC_CORE_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Characters (plus the NUL) encoding n bytes takes. */
static inline size_t cc_base64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

/* Encodes with padding into out (cc_base64_encoded_size(n) bytes), NUL-terminated. */
void cc_base64_encode(const uint8_t *in, size_t n, char *out);

/* Bytes the decoding of `len` input characters can produce at most. */
static inline size_t cc_base64_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}

/* Decodes into out (at least cc_base64_decoded_max(len) bytes); *out_len
 * gets the length, written only on success (out may hold a prefix on
 * error). CC_EINVAL for a bad character or a truncated quantum. */
cc_err cc_base64_decode(const char *in, size_t len, uint8_t *out, size_t *out_len);

#endif
