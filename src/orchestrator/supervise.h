/*
 * supervise.h - restart decisions as pure functions of (state, event, now).
 *
 * The engine's supervisor thread feeds these functions what happened to a
 * service (it exited, a probe result came in, an operator acted) and does
 * what they answer; nothing here calls a driver, takes a lock or reads a
 * clock, so every rule is unit-tested with plain numbers
 * (tests/unit/orchestrator/test_supervise.c).
 *
 * Rules:
 *   - Restart policies as Compose: no | always | on-failure[:N] |
 *     unless-stopped. An exit caused by `down` or an operator stop never
 *     leads to a restart. on-failure:N allows N restarts after failures
 *     (exit code != 0) since the last `up` or operator restart.
 *   - Backoff: the n-th restart in a row waits min(1s * 2^(n-1), max) minus
 *     up to `jitter` of it; an instance that ran `stable_ms` before it exited
 *     starts the sequence again at 1s.
 *   - Breaker: when `breaker_restarts` restarts already happened within
 *     `breaker_window_ms`, the next one is refused and the service is
 *     `failed`; it stays so (every event is ignored) until orch__sup_reset.
 *   - Restart on unhealthy (Nomad's check_restart): once the probe says
 *     unhealthy, `limit` failing results in a row that come later than
 *     start + start_period + grace ask for a restart. The restart itself
 *     goes through orch__sup_on_exit's backoff and breaker like any other.
 *
 * The life of a service is one table, state x event -> (next state,
 * action), read by orch__sup_step (in the manner of s6's supervisor). The
 * decision functions above turn what happened into an event (an exit
 * becomes EXIT, EXIT_RESTART or EXIT_BREAKER); the supervisor applies the
 * action the table names and nothing else changes a service's state.
 */
#ifndef CC_ORCHESTRATOR_SUPERVISE_H
#define CC_ORCHESTRATOR_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum orch_restart_kind {
    ORCH_RESTART_NO,
    ORCH_RESTART_ALWAYS,
    ORCH_RESTART_ON_FAILURE,
    ORCH_RESTART_UNLESS_STOPPED,
};

struct orch_policy {
    enum orch_restart_kind kind;
    long max_retries;          /* on-failure:N; 0 = unlimited */
};

/* NULL or "" is "no". CC_EINVAL for anything else than the four forms. */
cc_err orch__policy_parse(const char *s, struct orch_policy *out);

struct orch_sup_cfg {
    int64_t backoff_initial_ms;   /* 1000 */
    int64_t backoff_max_ms;       /* orchestrator.restart_backoff_max */
    double jitter;                /* 0..1; 0.2 in the engine */
    int64_t stable_ms;            /* orchestrator.restart_stable */
    unsigned breaker_restarts;    /* orchestrator.breaker_restarts (>= 1) */
    int64_t breaker_window_ms;    /* orchestrator.breaker_window */
};

/* Restart on unhealthy for one service; enabled false = never. */
struct orch_unhealthy_cfg {
    bool enabled;
    unsigned limit;
    int64_t grace_ms;             /* counted after start_period */
    int64_t start_period_ms;
};

#define ORCH_SUP_HISTORY_MAX 1000 /* breaker_restarts' upper bound in config */

struct orch_sup {
    unsigned attempt;             /* restarts in a row since the last stable run */
    unsigned failure_restarts;    /* for on-failure:N */
    unsigned unhealthy_count;     /* failing results counted towards the limit */
    bool failed;                  /* breaker open */
    int64_t *history;             /* mono ms of recent restarts, ring of cap */
    unsigned cap, nhist, head;
};

enum orch_sup_action {
    ORCH_SUP_NONE,                /* leave it (exited for good, or nothing to do) */
    ORCH_SUP_RESTART,             /* start again after delay_ms */
    ORCH_SUP_FAIL,                /* breaker opened: mark failed */
};

struct orch_sup_decision {
    enum orch_sup_action action;
    int64_t delay_ms;
    char why[160];                /* for the event message */
};

/* cap = breaker_restarts (clamped to 1..ORCH_SUP_HISTORY_MAX). */
void orch__sup_init(struct orch_sup *s, unsigned cap);
void orch__sup_release(struct orch_sup *s);
/* Operator restart or a new `up`: closes the breaker, forgets history,
 * backoff and on-failure counts. */
void orch__sup_reset(struct orch_sup *s);

/* The instance exited with exit_code after running since started_ms
 * (mono; 0 = unknown). by_operator: down or an operator stop. */
struct orch_sup_decision orch__sup_on_exit(struct orch_sup *s, const struct orch_sup_cfg *c,
                                           const struct orch_policy *p, int exit_code,
                                           bool by_operator, int64_t started_ms,
                                           int64_t now_ms);

/* A probe result. unhealthy: the probe's status after this result.
 * Returns true when the service should be restarted because of it (the
 * caller then stops it and calls orch__sup_on_restart_unhealthy). */
bool orch__sup_on_probe(struct orch_sup *s, const struct orch_unhealthy_cfg *u, bool ok,
                        bool unhealthy, int64_t started_ms, int64_t now_ms);

/* The restart decision after an unhealthy stop: backoff and breaker apply,
 * the restart policy does not (an unhealthy service is restarted unless
 * restart_on_unhealthy is false, which orch__sup_on_probe already saw). */
struct orch_sup_decision orch__sup_on_restart_unhealthy(struct orch_sup *s,
                                                        const struct orch_sup_cfg *c,
                                                        int64_t started_ms, int64_t now_ms);

/* Restarts counted in the breaker's window at now_ms. */
unsigned orch__sup_recent(const struct orch_sup *s, int64_t window_ms, int64_t now_ms);

/* ---- the lifecycle table ---- */

enum orch_state {
    ORCH_S_PENDING,      /* waiting for its dependencies (or to be created) */
    ORCH_S_STARTING,     /* its first start is under way */
    ORCH_S_RESTARTING,   /* a restart is under way */
    ORCH_S_UP,           /* running */
    ORCH_S_BACKOFF,      /* exited; restart due at restart_at */
    ORCH_S_EXITED,       /* exited for good */
    ORCH_S_FAILED,       /* breaker open, given up, or refused by the driver */
    ORCH_S_STOPPED,      /* by down */
};
#define ORCH_STATE_COUNT 8

enum orch_event {
    ORCH_E_DEPS_READY,      /* its dependencies' conditions are met */
    ORCH_E_DEPS_BLOCKED,    /* a dependency failed or did not get ready in time */
    ORCH_E_PREPARE_FAILED,  /* the project's networks or images could not be made */
    ORCH_E_START_OK,
    ORCH_E_START_AGAIN,     /* engine unreachable, or the instance vanished: later */
    ORCH_E_START_FAILED,    /* refused by the driver */
    ORCH_E_EXIT,            /* exited; no restart (policy, or down meanwhile) */
    ORCH_E_EXIT_RESTART,    /* exited; restart after a backoff */
    ORCH_E_EXIT_BREAKER,    /* exited; the breaker refuses the restart */
    ORCH_E_UNHEALTHY,       /* restart on unhealthy: its limit was reached */
    ORCH_E_RESTART,         /* operator restart of a service that ran before */
    ORCH_E_REPLAN,          /* operator restart of one that never ran: plan it again */
    ORCH_E_UP_AGAIN,        /* up of a running project: failed or stopped ones again */
    ORCH_E_BACKOFF_DUE,
    ORCH_E_RECONFIG,        /* up with a changed configuration: recreate it */
    ORCH_E_ADOPT_RUNNING,   /* found running with the same config at start-up */
    ORCH_E_ADOPT_DONE,      /* a one-shot that completed while the daemon was away */
    ORCH_E_DOWN,
};
#define ORCH_EVENT_COUNT 18

enum orch_action {
    ORCH_A_IGNORE,       /* the event means nothing in this state: no change */
    ORCH_A_NONE,         /* the state changes, nothing else to do */
    ORCH_A_START,        /* create (when missing or stale) and start */
    ORCH_A_STARTED,      /* record the start; event started */
    ORCH_A_RESTARTED,    /* record the start, count it; event restarted */
    ORCH_A_RETRY,        /* the driver call is tried again after a backoff */
    ORCH_A_FAIL,         /* event failed */
    ORCH_A_SCHEDULE,     /* restart at restart_at */
    ORCH_A_STOP,         /* stop the instance; its exit is decided next */
    ORCH_A_RESTART,      /* stop the instance, then start it again */
    ORCH_A_RECREATE,     /* plan it again; the stale instance is replaced */
    ORCH_A_REPLAN,       /* plan it again: breaker closed, history forgotten */
    ORCH_A_ADOPT,        /* supervise the running instance as it is */
    ORCH_A_REMOVE,       /* stop and remove the instance; event stopped */
};

struct orch_transition {
    enum orch_state next;
    enum orch_action action;
};

/* The table's answer; {state, ORCH_A_IGNORE} for a pair it does not list
 * (and for values out of range). Pure. */
struct orch_transition orch__sup_step(enum orch_state state, enum orch_event ev);
const char *orch__state_name(enum orch_state s);    /* "pending" ... "?" */
const char *orch__event_name(enum orch_event e);    /* "deps_ready" ... "?" */

#endif
