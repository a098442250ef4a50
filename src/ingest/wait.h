/*
 * wait.h - the timed waits of the ingest threads, on the context's clock.
 *
 * A job worker, the lease keeper and the scheduler each sleep until they
 * are woken or a deadline passes. The deadline is in cc_mono_ms() of the
 * clock from the ctx; the condition variable must be made with
 * ingest__cond_init() (CLOCK_MONOTONIC, the real clock's mono_ms time
 * line), so the wait is exact and immune to wall-clock steps. struct
 * cc_clock's wait_until (being added for the engine) is the general form
 * of this; once it is in, these two become its callers.
 */
#ifndef CC_INGEST_WAIT_H
#define CC_INGEST_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline void ingest__cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

/* With mu held: waits on cv until signalled (or spuriously woken) or
 * deadline_mono_ms passes. */
static inline void ingest__wait_until(pthread_cond_t *cv, pthread_mutex_t *mu,
                                      int64_t deadline_mono_ms)
{
    if (deadline_mono_ms < 0)
        deadline_mono_ms = 0;
    struct timespec ts = {.tv_sec = deadline_mono_ms / 1000,
                          .tv_nsec = (deadline_mono_ms % 1000) * 1000000};
    pthread_cond_timedwait(cv, mu, &ts);
}

#endif
