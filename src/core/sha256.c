/*
 * sha256.c - the wrappers of sha256.h over nettle. The only logic of their
 * own: NULL with length 0 never reaches nettle (memcpy from NULL is
 * undefined even for 0 bytes) and keyed or message-derived state is wiped.
 */
#include "core/sha256.h"

#include <string.h>

#include <nettle/base16.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>

void cc_sha256_init(struct cc_sha256 *c)
{
    sha256_init(&c->ctx);
}

void cc_sha256_update(struct cc_sha256 *c, const void *data, size_t len)
{
    if (len)
        sha256_update(&c->ctx, len, data);
}

void cc_sha256_final(struct cc_sha256 *c, uint8_t out[CC_SHA256_DIGEST_LEN])
{
    sha256_digest(&c->ctx, CC_SHA256_DIGEST_LEN, out);
    /* nettle resets the chaining state but leaves the last block's bytes. */
    cc_secure_zero(c, sizeof(*c));
}

void cc_sha256(const void *data, size_t len, uint8_t out[CC_SHA256_DIGEST_LEN])
{
    struct cc_sha256 c;
    cc_sha256_init(&c);
    cc_sha256_update(&c, data, len);
    cc_sha256_final(&c, out);
}

void cc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
                    uint8_t out[CC_SHA256_DIGEST_LEN])
{
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, keylen, keylen ? key : (const void *)"");
    if (len)
        hmac_sha256_update(&h, len, msg);
    hmac_sha256_digest(&h, CC_SHA256_DIGEST_LEN, out);
    /* The inner and outer states are derived from the key. */
    cc_secure_zero(&h, sizeof(h));
}

void cc_hex_encode(const uint8_t *in, size_t n, char *out)
{
    if (n)
        base16_encode_update(out, n, in);
    out[2 * n] = '\0';
}

bool cc_consttime_equal(const void *a, const void *b, size_t n)
{
    return n == 0 || memeql_sec(a, b, n);
}

void cc_secure_zero(void *p, size_t n)
{
    if (n)
        explicit_bzero(p, n);
}
