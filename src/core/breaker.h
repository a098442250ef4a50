/*
 * breaker.h - a circuit breaker: closed -> open -> half-open -> closed.
 *
 * closed:    calls pass; `failure_threshold` consecutive failures open it.
 * open:      calls are refused at once (cc_breaker_allow returns false) until
 *            `open_ms` has passed since it opened; then it is half-open.
 * half-open: up to `half_open_max` trial calls pass; a success closes the
 *            breaker, a failure opens it again for another open_ms.
 * Thread-safe (one mutex); time comes from the clock passed in, so tests
 * use the fake clock.
 */
#ifndef CC_CORE_BREAKER_H
#define CC_CORE_BREAKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"

enum cc_breaker_state { CC_BREAKER_CLOSED, CC_BREAKER_OPEN, CC_BREAKER_HALF_OPEN };

struct cc_breaker_cfg {
    unsigned failure_threshold;  /* consecutive failures that open it */
    int64_t open_ms;             /* how long it stays open */
    unsigned half_open_max;      /* trial calls allowed while half-open */
};

struct cc_breaker {
    pthread_mutex_t lock;
    struct cc_breaker_cfg cfg;
    struct cc_clock *clock;
    enum cc_breaker_state state;
    unsigned failures;        /* consecutive, while closed */
    unsigned trials;          /* in flight, while half-open */
    int64_t opened_at_ms;     /* mono time it last opened */
    uint64_t opened_total;    /* how many times it has opened (for metrics) */
};

void cc_breaker_init(struct cc_breaker *b, const struct cc_breaker_cfg *cfg,
                     struct cc_clock *clock);
void cc_breaker_release(struct cc_breaker *b);

/* May this call go ahead? Moves open -> half-open when open_ms has passed. */
bool cc_breaker_allow(struct cc_breaker *b);
void cc_breaker_success(struct cc_breaker *b);
void cc_breaker_failure(struct cc_breaker *b);
enum cc_breaker_state cc_breaker_state(struct cc_breaker *b);
/* Milliseconds until an open breaker lets a trial through (0 if not open). */
int64_t cc_breaker_retry_after_ms(struct cc_breaker *b);
const char *cc_breaker_state_str(enum cc_breaker_state s);
/* How many times it has opened since cc_breaker_init (for a counter). */
uint64_t cc_breaker_opened_total(struct cc_breaker *b);

#endif
