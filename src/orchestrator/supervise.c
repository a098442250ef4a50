/*
 * supervise.c - restart policy, backoff, breaker and restart on unhealthy
 * as pure state transitions (see supervise.h for the rules).
 */
#include "orchestrator/supervise.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/retry.h"

cc_err orch__policy_parse(const char *s, struct orch_policy *out)
{
    struct orch_policy p = {.kind = ORCH_RESTART_NO, .max_retries = 0};
    if (!s || !*s || strcmp(s, "no") == 0) {
        *out = p;
        return CC_OK;
    }
    if (strcmp(s, "always") == 0) {
        p.kind = ORCH_RESTART_ALWAYS;
    } else if (strcmp(s, "unless-stopped") == 0) {
        p.kind = ORCH_RESTART_UNLESS_STOPPED;
    } else if (strcmp(s, "on-failure") == 0) {
        p.kind = ORCH_RESTART_ON_FAILURE;
    } else if (strncmp(s, "on-failure:", 11) == 0 && isdigit((unsigned char)s[11])) {
        char *end = NULL;
        errno = 0;
        long n = strtol(s + 11, &end, 10);
        if (errno || *end || n < 0)
            return CC_EINVAL;
        p.kind = ORCH_RESTART_ON_FAILURE;
        p.max_retries = n;
    } else {
        return CC_EINVAL;
    }
    *out = p;
    return CC_OK;
}

void orch__sup_init(struct orch_sup *s, unsigned cap)
{
    memset(s, 0, sizeof(*s));
    if (cap < 1)
        cap = 1;
    if (cap > ORCH_SUP_HISTORY_MAX)
        cap = ORCH_SUP_HISTORY_MAX;
    s->cap = cap;
    s->history = cc_xcalloc(cap, sizeof(*s->history));
}

void orch__sup_release(struct orch_sup *s)
{
    free(s->history);
    s->history = NULL;
}

void orch__sup_reset(struct orch_sup *s)
{
    s->attempt = 0;
    s->failure_restarts = 0;
    s->unhealthy_count = 0;
    s->failed = false;
    s->nhist = 0;
    s->head = 0;
}

unsigned orch__sup_recent(const struct orch_sup *s, int64_t window_ms, int64_t now_ms)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->nhist; i++)
        if (now_ms - s->history[i] < window_ms)
            n++;
    return n;
}

/* Backoff and breaker, shared by every kind of restart. */
static struct orch_sup_decision restart(struct orch_sup *s, const struct orch_sup_cfg *c,
                                        int64_t started_ms, int64_t now_ms, const char *why)
{
    struct orch_sup_decision d = {.action = ORCH_SUP_RESTART};
    if (started_ms > 0 && now_ms - started_ms >= c->stable_ms)
        s->attempt = 0;
    unsigned limit = c->breaker_restarts ? c->breaker_restarts : 1;
    if (limit > s->cap)
        limit = s->cap;
    unsigned recent = orch__sup_recent(s, c->breaker_window_ms, now_ms);
    if (recent >= limit) {
        s->failed = true;
        d.action = ORCH_SUP_FAIL;
        snprintf(d.why, sizeof(d.why), "%s; %u restarts within %lld s: giving up until an "
                 "operator restarts it", why, recent, (long long)(c->breaker_window_ms / 1000));
        return d;
    }
    s->history[s->head] = now_ms;
    s->head = (s->head + 1) % s->cap;
    if (s->nhist < s->cap)
        s->nhist++;
    s->attempt++;
    struct cc_backoff b = {.initial_ms = c->backoff_initial_ms, .max_ms = c->backoff_max_ms,
                           .multiplier = 2.0, .jitter = c->jitter};
    if (b.max_ms > 0 && b.initial_ms > b.max_ms)
        b.initial_ms = b.max_ms;
    d.delay_ms = cc_backoff_delay_ms(&b, s->attempt);
    snprintf(d.why, sizeof(d.why), "%s; restarting in %lld ms (attempt %u)", why,
             (long long)d.delay_ms, s->attempt);
    return d;
}

struct orch_sup_decision orch__sup_on_exit(struct orch_sup *s, const struct orch_sup_cfg *c,
                                           const struct orch_policy *p, int exit_code,
                                           bool by_operator, int64_t started_ms,
                                           int64_t now_ms)
{
    struct orch_sup_decision d = {.action = ORCH_SUP_NONE};
    char why[96];
    s->unhealthy_count = 0;
    if (s->failed) {
        snprintf(d.why, sizeof(d.why), "failed; waiting for an operator restart");
        return d;
    }
    if (by_operator) {
        snprintf(d.why, sizeof(d.why), "stopped by an operator");
        return d;
    }
    snprintf(why, sizeof(why), "exited with code %d", exit_code);
    switch (p->kind) {
    case ORCH_RESTART_NO:
        snprintf(d.why, sizeof(d.why), "%s; restart policy is no", why);
        return d;
    case ORCH_RESTART_ON_FAILURE:
        if (exit_code == 0) {
            snprintf(d.why, sizeof(d.why), "%s; restart policy is on-failure", why);
            return d;
        }
        if (p->max_retries > 0 && s->failure_restarts >= (unsigned long)p->max_retries) {
            snprintf(d.why, sizeof(d.why), "%s; on-failure:%ld restarts used up", why,
                     p->max_retries);
            return d;
        }
        d = restart(s, c, started_ms, now_ms, why);
        if (d.action == ORCH_SUP_RESTART)
            s->failure_restarts++;
        return d;
    case ORCH_RESTART_ALWAYS:
    case ORCH_RESTART_UNLESS_STOPPED:
        break;
    }
    return restart(s, c, started_ms, now_ms, why);
}

bool orch__sup_on_probe(struct orch_sup *s, const struct orch_unhealthy_cfg *u, bool ok,
                        bool unhealthy, int64_t started_ms, int64_t now_ms)
{
    if (ok || !unhealthy) {
        if (ok)
            s->unhealthy_count = 0;
        return false;
    }
    if (s->failed || !u->enabled)
        return false;
    int64_t sp = u->start_period_ms > 0 ? u->start_period_ms : 0;
    if (now_ms - started_ms < sp + u->grace_ms)
        return false;
    s->unhealthy_count++;
    if (s->unhealthy_count < (u->limit ? u->limit : 1))
        return false;
    s->unhealthy_count = 0;
    return true;
}

struct orch_sup_decision orch__sup_on_restart_unhealthy(struct orch_sup *s,
                                                        const struct orch_sup_cfg *c,
                                                        int64_t started_ms, int64_t now_ms)
{
    struct orch_sup_decision d = {.action = ORCH_SUP_NONE};
    if (s->failed) {
        snprintf(d.why, sizeof(d.why), "failed; waiting for an operator restart");
        return d;
    }
    /* An unhealthy instance never counts as stable, whatever it ran. */
    (void)started_ms;
    return restart(s, c, 0, now_ms, "unhealthy");
}

/* ---- the lifecycle table ---- */

#define T(n, a) {.next = ORCH_S_##n, .action = ORCH_A_##a}

/* Rows are states, columns events; a zero entry ({PENDING, IGNORE}) is an
 * event the state ignores (the state is kept, see orch__sup_step). */
static const struct orch_transition table[ORCH_STATE_COUNT][ORCH_EVENT_COUNT] = {
    [ORCH_S_PENDING] = {
        [ORCH_E_DEPS_READY] = T(STARTING, START),
        [ORCH_E_DEPS_BLOCKED] = T(FAILED, FAIL),
        [ORCH_E_PREPARE_FAILED] = T(FAILED, FAIL),
        [ORCH_E_RESTART] = T(RESTARTING, START),
        [ORCH_E_REPLAN] = T(PENDING, REPLAN),
        [ORCH_E_RECONFIG] = T(PENDING, NONE),
        [ORCH_E_ADOPT_RUNNING] = T(UP, ADOPT),
        [ORCH_E_ADOPT_DONE] = T(EXITED, NONE),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_STARTING] = {
        [ORCH_E_START_OK] = T(UP, STARTED),
        [ORCH_E_START_AGAIN] = T(PENDING, RETRY),
        [ORCH_E_START_FAILED] = T(FAILED, FAIL),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_RESTARTING] = {
        [ORCH_E_START_OK] = T(UP, RESTARTED),
        [ORCH_E_START_AGAIN] = T(BACKOFF, RETRY),
        [ORCH_E_START_FAILED] = T(FAILED, FAIL),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_UP] = {
        [ORCH_E_EXIT] = T(EXITED, NONE),
        [ORCH_E_EXIT_RESTART] = T(BACKOFF, SCHEDULE),
        [ORCH_E_EXIT_BREAKER] = T(FAILED, FAIL),
        [ORCH_E_UNHEALTHY] = T(UP, STOP),
        [ORCH_E_RESTART] = T(RESTARTING, RESTART),
        [ORCH_E_RECONFIG] = T(PENDING, RECREATE),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_BACKOFF] = {
        [ORCH_E_BACKOFF_DUE] = T(RESTARTING, START),
        [ORCH_E_RESTART] = T(RESTARTING, START),
        [ORCH_E_RECONFIG] = T(PENDING, RECREATE),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_EXITED] = {
        [ORCH_E_RESTART] = T(RESTARTING, START),
        [ORCH_E_RECONFIG] = T(PENDING, RECREATE),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_FAILED] = {
        [ORCH_E_RESTART] = T(RESTARTING, START),
        [ORCH_E_REPLAN] = T(PENDING, REPLAN),
        [ORCH_E_UP_AGAIN] = T(PENDING, REPLAN),
        [ORCH_E_RECONFIG] = T(PENDING, REPLAN),
        [ORCH_E_DOWN] = T(STOPPED, REMOVE),
    },
    [ORCH_S_STOPPED] = {
        [ORCH_E_UP_AGAIN] = T(PENDING, REPLAN),
        [ORCH_E_RECONFIG] = T(PENDING, REPLAN),
    },
};

#undef T

struct orch_transition orch__sup_step(enum orch_state state, enum orch_event ev)
{
    struct orch_transition t = {.next = state, .action = ORCH_A_IGNORE};
    if ((unsigned)state >= ORCH_STATE_COUNT || (unsigned)ev >= ORCH_EVENT_COUNT)
        return t;
    const struct orch_transition *row = &table[state][ev];
    if (row->action == ORCH_A_IGNORE)
        return t;
    return *row;
}

const char *orch__state_name(enum orch_state s)
{
    static const char *const names[ORCH_STATE_COUNT] = {
        [ORCH_S_PENDING] = "pending", [ORCH_S_STARTING] = "starting",
        [ORCH_S_RESTARTING] = "restarting", [ORCH_S_UP] = "up", [ORCH_S_BACKOFF] = "backoff",
        [ORCH_S_EXITED] = "exited", [ORCH_S_FAILED] = "failed", [ORCH_S_STOPPED] = "stopped",
    };
    return (unsigned)s < ORCH_STATE_COUNT ? names[s] : "?";
}

const char *orch__event_name(enum orch_event e)
{
    static const char *const names[ORCH_EVENT_COUNT] = {
        [ORCH_E_DEPS_READY] = "deps_ready", [ORCH_E_DEPS_BLOCKED] = "deps_blocked",
        [ORCH_E_PREPARE_FAILED] = "prepare_failed", [ORCH_E_START_OK] = "start_ok",
        [ORCH_E_START_AGAIN] = "start_again", [ORCH_E_START_FAILED] = "start_failed",
        [ORCH_E_EXIT] = "exit", [ORCH_E_EXIT_RESTART] = "exit_restart",
        [ORCH_E_EXIT_BREAKER] = "exit_breaker", [ORCH_E_UNHEALTHY] = "unhealthy",
        [ORCH_E_RESTART] = "restart", [ORCH_E_REPLAN] = "replan",
        [ORCH_E_UP_AGAIN] = "up_again",
        [ORCH_E_BACKOFF_DUE] = "backoff_due", [ORCH_E_RECONFIG] = "reconfig",
        [ORCH_E_ADOPT_RUNNING] = "adopt_running", [ORCH_E_ADOPT_DONE] = "adopt_done",
        [ORCH_E_DOWN] = "down",
    };
    return (unsigned)e < ORCH_EVENT_COUNT ? names[e] : "?";
}
