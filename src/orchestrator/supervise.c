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
