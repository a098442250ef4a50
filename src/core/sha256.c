/*
 * sha256.c - FIPS 180-4 SHA-256, RFC 2104 HMAC, hex and constant-time compare.
 *
 * A straightforward implementation: one 64-entry message schedule per block,
 * no unrolling, no SIMD. Token checks hash a 46-byte string, so clarity wins
 * over the last few cycles; at about 200 MB/s (-O2, x86-64) it is also fast
 * enough for webhook bodies, which are bounded by the HTTP limits.
 */
#include "core/sha256.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

/* n is always in 1..31 here, so neither shift is by 32. */
static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    store_be32(p, (uint32_t)(v >> 32));
    store_be32(p + 4, (uint32_t)v);
}

static void compress(uint32_t h[8], const uint8_t block[CC_SHA256_BLOCK_LEN])
{
    uint32_t w[64];
    for (unsigned i = 0; i < 16; i++)
        w[i] = load_be32(block + 4 * i);
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    uint32_t e = h[4], f = h[5], g = h[6], k = h[7];
    for (unsigned i = 0; i < 64; i++) {
        uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + s1 + ch + K[i] + w[i];
        uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = s0 + maj;
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
    /* The schedule is derived from the message, which may be a secret. */
    cc_secure_zero(w, sizeof(w));
}

void cc_sha256_init(struct cc_sha256 *c)
{
    static const uint32_t iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(c->h, iv, sizeof(iv));
    c->nbytes = 0;
    c->nbuf = 0;
}

void cc_sha256_update(struct cc_sha256 *c, const void *data, size_t len)
{
    /* memcpy from NULL is undefined even for 0 bytes. */
    if (len == 0)
        return;
    const uint8_t *p = data;
    c->nbytes += len;   /* wraps mod 2^64 bytes, past anything FIPS allows */
    if (c->nbuf) {
        size_t take = CC_SHA256_BLOCK_LEN - c->nbuf;
        if (take > len)
            take = len;
        memcpy(c->buf + c->nbuf, p, take);
        c->nbuf += take;
        p += take;
        len -= take;
        if (c->nbuf < CC_SHA256_BLOCK_LEN)
            return;
        compress(c->h, c->buf);
        c->nbuf = 0;
    }
    for (; len >= CC_SHA256_BLOCK_LEN; p += CC_SHA256_BLOCK_LEN, len -= CC_SHA256_BLOCK_LEN)
        compress(c->h, p);
    if (len) {
        memcpy(c->buf, p, len);
        c->nbuf = len;
    }
}

void cc_sha256_final(struct cc_sha256 *c, uint8_t out[CC_SHA256_DIGEST_LEN])
{
    /* The length is in bits; a uint64_t shift keeps bits 32..63, which a
     * 32-bit count would lose for messages of 512 MiB and more. */
    uint64_t bits = c->nbytes << 3;
    c->buf[c->nbuf++] = 0x80;
    if (c->nbuf > CC_SHA256_BLOCK_LEN - 8) {
        memset(c->buf + c->nbuf, 0, CC_SHA256_BLOCK_LEN - c->nbuf);
        compress(c->h, c->buf);
        c->nbuf = 0;
    }
    memset(c->buf + c->nbuf, 0, CC_SHA256_BLOCK_LEN - 8 - c->nbuf);
    store_be64(c->buf + CC_SHA256_BLOCK_LEN - 8, bits);
    compress(c->h, c->buf);
    for (unsigned i = 0; i < 8; i++)
        store_be32(out + 4 * i, c->h[i]);
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
    uint8_t k[CC_SHA256_BLOCK_LEN] = {0};
    uint8_t pad[CC_SHA256_BLOCK_LEN];
    uint8_t inner[CC_SHA256_DIGEST_LEN];
    struct cc_sha256 c;

    if (keylen > CC_SHA256_BLOCK_LEN)
        cc_sha256(key, keylen, k);          /* rest of k stays zero */
    else if (keylen)
        memcpy(k, key, keylen);

    for (size_t i = 0; i < CC_SHA256_BLOCK_LEN; i++)
        pad[i] = k[i] ^ 0x36;
    cc_sha256_init(&c);
    cc_sha256_update(&c, pad, sizeof(pad));
    cc_sha256_update(&c, msg, len);
    cc_sha256_final(&c, inner);

    for (size_t i = 0; i < CC_SHA256_BLOCK_LEN; i++)
        pad[i] = k[i] ^ 0x5c;
    cc_sha256_init(&c);
    cc_sha256_update(&c, pad, sizeof(pad));
    cc_sha256_update(&c, inner, sizeof(inner));
    cc_sha256_final(&c, out);

    cc_secure_zero(k, sizeof(k));
    cc_secure_zero(pad, sizeof(pad));
    cc_secure_zero(inner, sizeof(inner));
}

void cc_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool cc_consttime_equal(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    /* volatile: each |= is a real store, so the compiler cannot turn the
     * loop into one that stops at the first difference. */
    volatile uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= (uint8_t)(x[i] ^ y[i]);
    return acc == 0;
}

/* memset called through a volatile pointer: the compiler cannot know it is
 * memset, so it cannot drop the call as a dead store, and the call still
 * gets the library's fast memset (a byte-wise volatile loop halved the
 * hash's throughput, since compress() wipes its schedule every block). */
static void *(*const volatile memset_v)(void *, int, size_t) = memset;

void cc_secure_zero(void *p, size_t n)
{
    if (n)
        memset_v(p, 0, n);
}
