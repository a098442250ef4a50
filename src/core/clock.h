/*
 * clock.h - time as a replaceable dependency.
 *
 * Every module asks ctx->clock for the time instead of calling
 * clock_gettime, so tests can drive retry, breaker, rate limiting and
 * schedules with a fake clock (tests/fakes/fake_clock.h) and no sleeping.
 * wall_ms is Unix time in milliseconds; mono_ms is monotonic (never goes
 * back, arbitrary origin). sleep_ms blocks; the fake advances its own time.
 *
 * wait_until is the one way a thread waits for "a signal or a time": it
 * waits on cv (mu held by the caller, as for pthread_cond_wait) until it
 * is signalled or the clock's mono time reaches deadline_mono_ms. The real
 * clock does pthread_cond_timedwait, so cv must have been made with
 * cc_clock_cond_init (CLOCK_MONOTONIC). The fake clock returns when the
 * test has moved its time past the deadline, so tests never sleep.
 * wall_ns is wall time in ns for log timestamps; NULL = wall_ms * 10^6.
 */
#ifndef CC_CORE_CLOCK_H
#define CC_CORE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cc_clock {
    int64_t (*wall_ms)(struct cc_clock *c);
    int64_t (*mono_ms)(struct cc_clock *c);
    void (*sleep_ms)(struct cc_clock *c, int64_t ms);
    /* true when the deadline passed, false when woken (or spuriously). */
    bool (*wait_until)(struct cc_clock *c, pthread_cond_t *cv, pthread_mutex_t *mu,
                       int64_t deadline_mono_ms);
    int64_t (*wall_ns)(struct cc_clock *c);   /* may be NULL */
};

/* The process-wide real clock (stateless, so sharing it is safe). */
struct cc_clock *cc_clock_system(void);

static inline int64_t cc_wall_ms(struct cc_clock *c) { return c->wall_ms(c); }
static inline int64_t cc_mono_ms(struct cc_clock *c) { return c->mono_ms(c); }
static inline int64_t cc_wall_ns(struct cc_clock *c)
{
    return c->wall_ns ? c->wall_ns(c) : c->wall_ms(c) * 1000000;
}
static inline bool cc_wait_until(struct cc_clock *c, pthread_cond_t *cv, pthread_mutex_t *mu,
                                 int64_t deadline_mono_ms)
{
    return c->wait_until(c, cv, mu, deadline_mono_ms);
}

/* A condition variable for wait_until on the real clock (CLOCK_MONOTONIC);
 * 0 or an errno value as pthread_cond_init. */
int cc_clock_cond_init(pthread_cond_t *cv);

/* Formats Unix milliseconds as RFC 3339 UTC with millisecond precision:
 * "2026-11-22T00:19:20.123Z". `out` must hold at least 25 bytes. Times
 * outside the years 0000-9999 are clamped to them. */
void cc_time_rfc3339(int64_t wall_ms, char *out, size_t outsz);

/* Parses a Go-style duration ("250ms", "10s", "1m30s", "2h") into ms.
 * A bare integer is taken as seconds. CC_EINVAL on anything else. */
#include "core/err.h"
cc_err cc_parse_duration_ms(const char *s, int64_t *out_ms);
/* Parses RFC 3339 ("2026-11-22T00:19:20Z", "...20.5+01:00", date-only
 * "2026-11-22" = midnight UTC) into Unix milliseconds. CC_EINVAL otherwise. */
cc_err cc_parse_rfc3339(const char *s, int64_t *out_ms);
/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t cc_days_from_civil(int64_t y, int m, int d);
/* The inverse; any of the out pointers may be NULL. */
void cc_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Day of week, Sunday 0, of days since the epoch. */
int cc_weekday_from_days(int64_t days);
bool cc_is_leap_year(int64_t y);
/* 28-31; 0 for a month outside 1-12. */
int cc_days_in_month(int64_t y, int m);

/* Parses a byte size ("512", "64k", "10MB", "1GiB", "2g") into bytes. */
cc_err cc_parse_size(const char *s, uint64_t *out_bytes);

#endif
