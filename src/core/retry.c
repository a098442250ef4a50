/*
 * retry.c - backoff delays and the retry loop (semantics in retry.h).
 *
 * The delay is computed in double so that large attempt numbers saturate at
 * the cap instead of overflowing; the cap is applied before converting back
 * to int64_t, which keeps the conversion defined.
 */
#include "core/retry.h"

#include <limits.h>
#include <math.h>

#include "core/rand.h"

bool cc_err_is_transient(cc_err err)
{
    switch (err) {
    case CC_EAGAIN:
    case CC_ETIMEOUT:
    case CC_EUPSTREAM:
    case CC_EIO:
        return true;
    default:
        return false;
    }
}

int64_t cc_backoff_delay_ms(const struct cc_backoff *b, unsigned attempt)
{
    if (b->initial_ms <= 0)
        return 0;
    if (attempt == 0)
        attempt = 1;
    /* max_ms <= 0 means no cap other than what int64_t can hold. */
    int64_t cap = b->max_ms > 0 ? b->max_ms : INT64_MAX;
    double d = (double)b->initial_ms * pow(b->multiplier, (double)(attempt - 1));
    int64_t base;
    if (!(d < (double)cap))          /* also catches inf and NaN */
        base = cap;
    else if (d < 0)
        base = 0;
    else
        base = (int64_t)d;

    double jitter = b->jitter;
    if (!(jitter > 0))               /* also catches NaN */
        return base;
    if (jitter > 1)
        jitter = 1;
    /* Reduction in [0, jitter*base): never longer than base, never shorter
     * than (1-jitter)*base. */
    uint64_t span = (uint64_t)(jitter * (double)base);
    return base - (int64_t)cc_jitter_u64(span);
}

cc_err cc_retry_run(const struct cc_retry *r, struct cc_clock *clock,
                    cc_err (*op)(void *arg), void *arg, unsigned *attempts_out)
{
    if (!r || !clock || !op)
        return CC_EINVAL;
    bool (*transient)(cc_err) = r->transient ? r->transient : cc_err_is_transient;
    int64_t start = cc_mono_ms(clock);
    unsigned attempt = 0;
    cc_err err;
    for (;;) {
        err = op(arg);
        if (attempt < UINT_MAX)
            attempt++;
        if (err == CC_OK || !transient(err))
            break;
        if (r->max_attempts && attempt >= r->max_attempts)
            break;
        int64_t delay = cc_backoff_delay_ms(&r->backoff, attempt);
        if (r->deadline_ms > 0) {
            int64_t elapsed = cc_mono_ms(clock) - start;
            /* Sleeping past the deadline only to fail later helps nobody. */
            if (elapsed >= r->deadline_ms || delay > r->deadline_ms - elapsed)
                break;
        }
        clock->sleep_ms(clock, delay);
    }
    if (attempts_out)
        *attempts_out = attempt;
    return err;
}
