/*
 * sha256.h - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and the helpers
 * that go with them: lower-case hex, constant-time compare, wiping secrets.
 *
 * Thin wrappers over nettle (sha2.h, hmac.h, base16.h, memops.h): nettle is
 * in the process anyway, through libmicrohttpd's GnuTLS, so linking it adds
 * no idle RSS, and its code is vetted where a hand-written hash is not. The
 * wrappers keep the project's calling conventions (NULL with length 0 is
 * allowed, contexts are wiped after use) so callers need not know nettle.
 *
 * For integrity and message authentication only: API token hashes (the
 * tokens are 256-bit random, so a fast unsalted hash is right for them) and
 * webhook signatures. Not for passwords (no stretching).
 *
 * Nothing here allocates, fails or keeps global state; a context is plain
 * caller-owned storage and is safe to use from one thread at a time.
 */
#ifndef CC_CORE_SHA256_H
#define CC_CORE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

#define CC_SHA256_DIGEST_LEN 32
#define CC_SHA256_BLOCK_LEN 64
/* Room for a digest in hex, with its NUL. */
#define CC_SHA256_HEX_LEN (2 * CC_SHA256_DIGEST_LEN + 1)

/* Streaming state; nettle's context, not to be touched directly. */
struct cc_sha256 {
    struct sha256_ctx ctx;
};

/* Streaming: init, any number of updates (len 0 is allowed, and data may
 * then be NULL), final. final writes the 32-byte digest and wipes the
 * context; call init again to reuse it. */
void cc_sha256_init(struct cc_sha256 *c);
void cc_sha256_update(struct cc_sha256 *c, const void *data, size_t len);
void cc_sha256_final(struct cc_sha256 *c, uint8_t out[CC_SHA256_DIGEST_LEN]);

/* One-shot digest of data[0..len). */
void cc_sha256(const void *data, size_t len, uint8_t out[CC_SHA256_DIGEST_LEN]);

/* HMAC-SHA256 of msg under key (RFC 2104). A key longer than the 64-byte
 * block is hashed first; any length, including 0 (key may then be NULL), is
 * accepted. The keyed context is wiped before returning. */
void cc_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
                    uint8_t out[CC_SHA256_DIGEST_LEN]);

/* Lower-case hex of in[0..n) into out, NUL-terminated: out must hold 2n+1
 * bytes. */
void cc_hex_encode(const uint8_t *in, size_t n, char *out);

/* Whether a[0..n) equals b[0..n), in time that depends only on n: every
 * byte is read, with no early exit. n == 0 is equal. */
bool cc_consttime_equal(const void *a, const void *b, size_t n);

/* Zeroes p[0..n) in a way the compiler may not drop as a dead store, even
 * when p is about to go out of scope. For secrets. n == 0 does nothing. */
void cc_secure_zero(void *p, size_t n);

#endif
