#include "fakes/fake_clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static unsigned idle_waiters(const struct fake_clock *fc, int64_t *next);

struct fake_clock_waiter {
    int64_t deadline;
    struct fake_clock_waiter *next;
};

/* How long (real time) a thread stays in wait_until before it returns as
 * if woken, so that its caller looks at its condition and the fake time
 * again: fake time moves without signalling the waiter's own condition
 * variable (whose mutex this clock cannot take safely), and a signal that
 * comes as a timed wait times out is lost to it. Spurious wakeups are in
 * the contract; callers loop on their condition. */
#define POLL_NS 2000000

static int64_t fake_wall_ms(struct cc_clock *c)
{
    struct fake_clock *fc = (struct fake_clock *)c;
    pthread_mutex_lock(&fc->mu);
    int64_t t = fc->wall_ms;
    pthread_mutex_unlock(&fc->mu);
    return t;
}

static int64_t fake_mono_ms(struct cc_clock *c)
{
    return fake_clock_mono((struct fake_clock *)c);
}

static void fake_sleep_ms(struct cc_clock *c, int64_t ms)
{
    struct fake_clock *fc = (struct fake_clock *)c;
    pthread_mutex_lock(&fc->mu);
    if (fc->sleeps < FAKE_CLOCK_LOG_MAX)
        fc->sleep_log[fc->sleeps] = ms;
    fc->sleeps++;
    if (ms > 0)
        fc->slept_ms += ms;
    pthread_mutex_unlock(&fc->mu);
    /* Like the system clock, a negative sleep returns at once. */
    fake_clock_advance(fc, ms);
}

static void real_deadline(struct timespec *ts, long ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_nsec += ns;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static bool fake_wait_until(struct cc_clock *c, pthread_cond_t *cv, pthread_mutex_t *mu,
                            int64_t deadline)
{
    struct fake_clock *fc = (struct fake_clock *)c;
    struct fake_clock_waiter w = {.deadline = deadline};
    pthread_mutex_lock(&fc->mu);
    if (fc->mono_ms >= deadline) {
        pthread_mutex_unlock(&fc->mu);
        return true;
    }
    w.next = fc->waiters;
    fc->waiters = &w;
    fc->waits++;
    pthread_cond_broadcast(&fc->cv);
    pthread_mutex_unlock(&fc->mu);
    struct timespec ts;
    real_deadline(&ts, POLL_NS);
    pthread_cond_timedwait(cv, mu, &ts);
    bool passed = fake_clock_mono(fc) >= deadline;
    pthread_mutex_lock(&fc->mu);
    for (struct fake_clock_waiter **pp = &fc->waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    pthread_cond_broadcast(&fc->cv);
    pthread_mutex_unlock(&fc->mu);
    return passed;
}

void fake_clock_init(struct fake_clock *fc, int64_t wall_ms)
{
    memset(fc, 0, sizeof(*fc));
    fc->base.wall_ms = fake_wall_ms;
    fc->base.mono_ms = fake_mono_ms;
    fc->base.sleep_ms = fake_sleep_ms;
    fc->base.wait_until = fake_wait_until;
    fc->wall_ms = wall_ms;
    fc->mono_ms = FAKE_CLOCK_MONO_ORIGIN;
    pthread_mutex_init(&fc->mu, NULL);
    cc_clock_cond_init(&fc->cv);
}

void fake_clock_advance(struct fake_clock *fc, int64_t ms)
{
    if (ms <= 0)
        return;
    pthread_mutex_lock(&fc->mu);
    fc->wall_ms += ms;
    fc->mono_ms += ms;
    pthread_mutex_unlock(&fc->mu);
}

int64_t fake_clock_mono(struct fake_clock *fc)
{
    pthread_mutex_lock(&fc->mu);
    int64_t t = fc->mono_ms;
    pthread_mutex_unlock(&fc->mu);
    return t;
}

/* fc->mu held. */
static unsigned idle_waiters(const struct fake_clock *fc, int64_t *next)
{
    unsigned n = 0;
    for (const struct fake_clock_waiter *w = fc->waiters; w; w = w->next) {
        if (w->deadline <= fc->mono_ms)
            continue;   /* due: about to run */
        n++;
        if (next && (*next < 0 || w->deadline < *next))
            *next = w->deadline;
    }
    return n;
}

bool fake_clock_settle(struct fake_clock *fc, unsigned n, int64_t real_timeout_ms)
{
    return fake_clock_settle_since(fc, n, 0, real_timeout_ms);
}

unsigned fake_clock_waiting(struct fake_clock *fc)
{
    pthread_mutex_lock(&fc->mu);
    unsigned n = idle_waiters(fc, NULL);
    pthread_mutex_unlock(&fc->mu);
    return n;
}

unsigned long fake_clock_waits(struct fake_clock *fc)
{
    pthread_mutex_lock(&fc->mu);
    unsigned long w = fc->waits;
    pthread_mutex_unlock(&fc->mu);
    return w;
}

bool fake_clock_settle_since(struct fake_clock *fc, unsigned n, unsigned long waits,
                             int64_t real_timeout_ms)
{
    struct timespec end;
    real_deadline(&end, 0);
    end.tv_sec += real_timeout_ms / 1000;
    end.tv_nsec += (real_timeout_ms % 1000) * 1000000;
    if (end.tv_nsec >= 1000000000) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&fc->mu);
    bool ok = true;
    while (ok && (idle_waiters(fc, NULL) < n || fc->waits <= waits))
        ok = pthread_cond_timedwait(&fc->cv, &fc->mu, &end) != ETIMEDOUT;
    ok = idle_waiters(fc, NULL) >= n && fc->waits > waits;
    pthread_mutex_unlock(&fc->mu);
    return ok;
}

int64_t fake_clock_advance_next(struct fake_clock *fc, int64_t max_ms)
{
    pthread_mutex_lock(&fc->mu);
    int64_t next = -1;
    idle_waiters(fc, &next);
    int64_t step = next < 0 || next - fc->mono_ms > max_ms ? max_ms : next - fc->mono_ms;
    pthread_mutex_unlock(&fc->mu);
    fake_clock_advance(fc, step);
    return step;
}
