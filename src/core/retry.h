/*
 * retry.h - exponential backoff with jitter, and a retry loop built on it.
 *
 * Delay for attempt n (1-based, the delay after the n-th failure):
 *   base = min(initial * multiplier^(n-1), max)
 *   delay = base - jitter_fraction * base * U[0,1)      ("equal-ish" jitter:
 *           never longer than base, never shorter than (1-jitter)*base)
 * With jitter 0 the sequence is exact (1s, 2s, 4s, 8s ... capped), which the
 * unit tests rely on. cc_retry_run stops on success, on a permanent error
 * (the classifier says so), after max_attempts, or when the deadline would
 * be passed by the next sleep.
 */
#ifndef CC_CORE_RETRY_H
#define CC_CORE_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/err.h"

struct cc_backoff {
    int64_t initial_ms;   /* first delay, e.g. 1000 */
    int64_t max_ms;       /* cap, e.g. 60000 */
    double multiplier;    /* usually 2.0 */
    double jitter;        /* 0.0 .. 1.0, fraction of the delay that is random */
};

/* Delay before the next try after `attempt` failures (attempt >= 1). */
int64_t cc_backoff_delay_ms(const struct cc_backoff *b, unsigned attempt);

struct cc_retry {
    struct cc_backoff backoff;
    unsigned max_attempts;   /* total tries including the first; 0 = unlimited */
    int64_t deadline_ms;     /* total time budget from the first try; 0 = none */
    /* Returns true if `err` is worth retrying. NULL: CC_EAGAIN, CC_ETIMEOUT,
     * CC_EUPSTREAM and CC_EIO are transient, everything else is permanent. */
    bool (*transient)(cc_err err);
};

bool cc_err_is_transient(cc_err err);

/* Runs op(arg) until it succeeds or the policy gives up; returns the last
 * error. *attempts_out (optional) receives the number of tries made. */
cc_err cc_retry_run(const struct cc_retry *r, struct cc_clock *clock,
                    cc_err (*op)(void *arg), void *arg, unsigned *attempts_out);

#endif
