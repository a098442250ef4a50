/*
 * breaker.c - the circuit breaker of breaker.h.
 *
 * Every entry point takes the mutex, so the state and counters always move
 * together. The open -> half-open move happens lazily, when someone asks
 * (allow, state, retry_after), because a breaker has no thread of its own.
 * A zero failure_threshold or half_open_max would make a breaker that can
 * never open or never recover, so both are raised to 1.
 */
#include "core/breaker.h"

void cc_breaker_init(struct cc_breaker *b, const struct cc_breaker_cfg *cfg,
                     struct cc_clock *clock)
{
    pthread_mutex_init(&b->lock, NULL);
    b->cfg = *cfg;
    if (b->cfg.failure_threshold == 0)
        b->cfg.failure_threshold = 1;
    if (b->cfg.half_open_max == 0)
        b->cfg.half_open_max = 1;
    if (b->cfg.open_ms < 0)
        b->cfg.open_ms = 0;
    b->clock = clock;
    b->state = CC_BREAKER_CLOSED;
    b->failures = 0;
    b->trials = 0;
    b->opened_at_ms = 0;
    b->opened_total = 0;
}

void cc_breaker_release(struct cc_breaker *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
}

/* Callers hold the lock. */
static void trip(struct cc_breaker *b)
{
    b->state = CC_BREAKER_OPEN;
    b->opened_at_ms = cc_mono_ms(b->clock);
    b->opened_total++;
    b->failures = 0;
    b->trials = 0;
}

/* Callers hold the lock. */
static void close_breaker(struct cc_breaker *b)
{
    b->state = CC_BREAKER_CLOSED;
    b->failures = 0;
    b->trials = 0;
}

/* Callers hold the lock. Returns ms left while open (0 once it may try). */
static int64_t open_remaining(struct cc_breaker *b)
{
    int64_t elapsed = cc_mono_ms(b->clock) - b->opened_at_ms;
    return elapsed >= b->cfg.open_ms ? 0 : b->cfg.open_ms - elapsed;
}

/* Callers hold the lock. */
static void maybe_half_open(struct cc_breaker *b)
{
    if (b->state == CC_BREAKER_OPEN && open_remaining(b) == 0) {
        b->state = CC_BREAKER_HALF_OPEN;
        b->trials = 0;
    }
}

bool cc_breaker_allow(struct cc_breaker *b)
{
    bool ok = false;
    pthread_mutex_lock(&b->lock);
    maybe_half_open(b);
    switch (b->state) {
    case CC_BREAKER_CLOSED:
        ok = true;
        break;
    case CC_BREAKER_OPEN:
        ok = false;
        break;
    case CC_BREAKER_HALF_OPEN:
        if (b->trials < b->cfg.half_open_max) {
            b->trials++;
            ok = true;
        }
        break;
    }
    pthread_mutex_unlock(&b->lock);
    return ok;
}

void cc_breaker_success(struct cc_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    switch (b->state) {
    case CC_BREAKER_CLOSED:
        b->failures = 0;
        break;
    case CC_BREAKER_HALF_OPEN:
        close_breaker(b);
        break;
    case CC_BREAKER_OPEN:
        /* A call let through before the breaker opened; it proves little
         * about the dependency now, so the breaker stays open. */
        break;
    }
    pthread_mutex_unlock(&b->lock);
}

void cc_breaker_failure(struct cc_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    switch (b->state) {
    case CC_BREAKER_CLOSED:
        if (++b->failures >= b->cfg.failure_threshold)
            trip(b);
        break;
    case CC_BREAKER_HALF_OPEN:
        trip(b);
        break;
    case CC_BREAKER_OPEN:
        /* Late failure of a call from before it opened: do not extend. */
        break;
    }
    pthread_mutex_unlock(&b->lock);
}

enum cc_breaker_state cc_breaker_state(struct cc_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    maybe_half_open(b);
    enum cc_breaker_state s = b->state;
    pthread_mutex_unlock(&b->lock);
    return s;
}

int64_t cc_breaker_retry_after_ms(struct cc_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    int64_t left = b->state == CC_BREAKER_OPEN ? open_remaining(b) : 0;
    pthread_mutex_unlock(&b->lock);
    return left;
}

const char *cc_breaker_state_str(enum cc_breaker_state s)
{
    switch (s) {
    case CC_BREAKER_CLOSED:
        return "closed";
    case CC_BREAKER_OPEN:
        return "open";
    case CC_BREAKER_HALF_OPEN:
        return "half-open";
    }
    return "unknown";
}

uint64_t cc_breaker_opened_total(struct cc_breaker *b)
{
    pthread_mutex_lock(&b->lock);
    uint64_t n = b->opened_total;
    pthread_mutex_unlock(&b->lock);
    return n;
}
