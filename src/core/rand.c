/*
 * rand.c - kernel randomness for secrets, a cheap thread-local generator for
 * jitter.
 *
 * The jitter generator is xorshift64* (Vigna): fast and good enough to spread
 * retries apart, never for anything an attacker must not predict. Its state
 * is thread-local so callers need no lock and no context; it is seeded from
 * getrandom the first time a thread asks.
 */
#include "core/rand.h"

#include <errno.h>
#include <stdint.h>
#include <sys/random.h>
#include <sys/types.h>

#include "core/clock.h"

cc_err cc_random_bytes(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        /* Reads of up to 256 bytes never come back short once the pool is
         * initialised, but larger ones may, and any read may see EINTR. */
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return CC_EIO;
        }
        p += got;
        n -= (size_t)got;
    }
    return CC_OK;
}

static _Thread_local uint64_t jitter_state;

static uint64_t seed(void)
{
    uint64_t s = 0;
    if (cc_random_bytes(&s, sizeof(s)) != CC_OK) {
        /* No kernel randomness (ancient kernel, seccomp): jitter only has to
         * differ between threads and processes, so time and the address of
         * this thread's state will do. The time is the system clock's on
         * purpose: a fake clock would give every thread the same seed. */
        uint64_t ns = (uint64_t)cc_mono_ns(cc_clock_system());
        s = ns ^ (ns << 32) ^ (uint64_t)(uintptr_t)&jitter_state;
    }
    return s ? s : 0x9e3779b97f4a7c15ull;   /* xorshift must not start at 0 */
}

static uint64_t next(void)
{
    if (jitter_state == 0)
        jitter_state = seed();
    uint64_t x = jitter_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    jitter_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t cc_jitter_u64(uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* Reject the low 2^64 mod bound values so every result is equally likely
     * (OpenBSD arc4random_uniform); at most half the draws are rejected. */
    uint64_t min = (0 - bound) % bound;
    for (;;) {
        uint64_t r = next();
        if (r >= min)
            return r % bound;
    }
}
