/*
 * ratelimit.h - token-bucket rate limiting keyed by token or client address.
 *
 * Each key has a bucket of `burst` tokens refilled at `rps` per second.
 * At most `max_keys` buckets exist at once; when full, the bucket that was
 * used least recently is recycled (a new client starts with a full bucket,
 * which errs on the side of letting traffic through). Thread-safe: the
 * table is split into stripes, each with its own mutex, so two worker
 * threads rarely contend.
 */
#ifndef CC_HTTP_RATELIMIT_H
#define CC_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct http_ratelimit;

/* rps <= 0 disables limiting (take always succeeds). Otherwise CC_EINVAL
 * for burst 0 or max_keys 0. All buckets are allocated here: memory is
 * fixed at max_keys buckets plus the keys' copies. */
cc_err http_ratelimit_new(double rps, unsigned burst, unsigned max_keys,
                          struct http_ratelimit **out);
void http_ratelimit_free(struct http_ratelimit *rl);

/* Takes one token for `key` at monotonic time now_ms. Returns false when
 * the bucket is empty and sets *retry_after_ms to when one token will be
 * available (>= 1). */
bool http_ratelimit_take(struct http_ratelimit *rl, const char *key, int64_t now_ms,
                         int64_t *retry_after_ms);

/* Whether `key` could take a token at now_ms, without taking one and
 * without creating a bucket (an unknown key could). When not, sets
 * *retry_after_ms like http_ratelimit_take. */
bool http_ratelimit_peek(struct http_ratelimit *rl, const char *key, int64_t now_ms,
                         int64_t *retry_after_ms);

#endif
