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
 * wait_until (threads of the code under test waiting for "a signal or a
 * time") blocks on the caller's condition variable for at most a couple of
 * real milliseconds and then returns (true when the test has moved the time
 * past the deadline, else as a spurious wakeup); it never advances the time
 * itself. A test drives such threads as a discrete-event simulation:
 * fake_clock_settle waits until n threads are blocked in wait_until with a
 * deadline still ahead (the code under test has nothing left to do now),
 * fake_clock_advance_next moves the time to the earliest such deadline.
 * The condition variable must use CLOCK_MONOTONIC (cc_clock_cond_init).
 *
 * `base` comes first so &fc.base is the struct cc_clock * handed to the code
 * under test. Reading and moving the time is thread-safe through the
 * functions; the plain fields may be read directly only by single-threaded
 * tests. Nothing is allocated: no release is needed.
 */
#ifndef CC_TESTS_FAKE_CLOCK_H
#define CC_TESTS_FAKE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

#define FAKE_CLOCK_LOG_MAX 64
#define FAKE_CLOCK_MONO_ORIGIN 1000000

struct fake_clock_waiter;

struct fake_clock {
    struct cc_clock base;
    int64_t wall_ms;
    int64_t mono_ms;
    int64_t slept_ms;                      /* total of all sleeps */
    unsigned sleeps;                       /* number of sleep_ms calls */
    int64_t sleep_log[FAKE_CLOCK_LOG_MAX]; /* each requested sleep, in order */
    pthread_mutex_t mu;                    /* guards the time and the waiters */
    pthread_cond_t cv;                     /* a waiter came or went */
    struct fake_clock_waiter *waiters;     /* threads inside wait_until */
    unsigned long waits;                   /* wait_until calls that blocked */
};

/* Wall time starts at `wall_ms`, mono at FAKE_CLOCK_MONO_ORIGIN. */
void fake_clock_init(struct fake_clock *fc, int64_t wall_ms);
/* Moves wall and mono time forward by `ms` (>= 0) without recording a sleep. */
void fake_clock_advance(struct fake_clock *fc, int64_t ms);
/* The current mono time (thread-safe). */
int64_t fake_clock_mono(struct fake_clock *fc);
/* Waits (in real time, at most real_timeout_ms) until at least n threads
 * wait in wait_until for a deadline still ahead. false on the timeout. */
bool fake_clock_settle(struct fake_clock *fc, unsigned n, int64_t real_timeout_ms);
/* As fake_clock_settle, once a wait_until began after `waits` (read with
 * fake_clock_waits): a thread known to have been woken has waited again. */
bool fake_clock_settle_since(struct fake_clock *fc, unsigned n, unsigned long waits,
                             int64_t real_timeout_ms);
unsigned long fake_clock_waits(struct fake_clock *fc);
/* Threads in wait_until for a deadline still ahead. */
unsigned fake_clock_waiting(struct fake_clock *fc);
/* Moves the time to the earliest deadline of a waiting thread, but by at
 * most max_ms (and by max_ms when nobody waits). Returns the step taken. */
int64_t fake_clock_advance_next(struct fake_clock *fc, int64_t max_ms);

#endif
