/*
 * rand.h - randomness. cc_random_bytes draws from the kernel (getrandom) and
 * is for secrets; cc_jitter_u64 is a cheap thread-local xorshift seeded from
 * the kernel, for backoff jitter only.
 */
#ifndef CC_CORE_RAND_H
#define CC_CORE_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

cc_err cc_random_bytes(void *out, size_t n);
/* Uniform in [0, bound); bound 0 returns 0. */
uint64_t cc_jitter_u64(uint64_t bound);

#endif
