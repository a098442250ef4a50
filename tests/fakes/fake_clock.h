/*
 * fake_clock.h - a cc_clock whose time moves only when a test says so.
 *
 * Retry, breaker, rate-limit and scheduler tests need to see what happens
 * after seconds or hours without waiting for them. sleep_ms does not block:
 * it advances both wall and mono time by the requested amount and records
 * the sleep, so a test can assert the exact backoff a module chose
 * (sleep_log keeps the first FAKE_CLOCK_LOG_MAX sleeps; slept_ms and sleeps
 * count all of them). mono starts at an arbitrary non-zero origin, as the
 * real monotonic clock does, so code that treats 0 as "never" is caught.
 *
 * `base` comes first so &fc.base is the struct cc_clock * handed to the code
 * under test. Not thread-safe: tests that share one across threads may only
 * read it.
 */
#ifndef CC_TESTS_FAKE_CLOCK_H
#define CC_TESTS_FAKE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

#define FAKE_CLOCK_LOG_MAX 64
#define FAKE_CLOCK_MONO_ORIGIN 1000000

struct fake_clock {
    struct cc_clock base;
    int64_t wall_ms;
    int64_t mono_ms;
    int64_t slept_ms;                      /* total of all sleeps */
    unsigned sleeps;                       /* number of sleep_ms calls */
    int64_t sleep_log[FAKE_CLOCK_LOG_MAX]; /* each requested sleep, in order */
};

/* Wall time starts at `wall_ms`, mono at FAKE_CLOCK_MONO_ORIGIN. */
void fake_clock_init(struct fake_clock *fc, int64_t wall_ms);
/* Moves wall and mono time forward by `ms` (>= 0) without recording a sleep. */
void fake_clock_advance(struct fake_clock *fc, int64_t ms);

#endif
