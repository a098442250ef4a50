/*
 * plan.c - dependency conditions and start/stop order (see plan.h).
 */
#include "orchestrator/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

const char *orch__condition_str(enum orch_condition c)
{
    switch (c) {
    case ORCH_COND_HEALTHY: return "service_healthy";
    case ORCH_COND_COMPLETED: return "service_completed_successfully";
    case ORCH_COND_STARTED: break;
    }
    return "service_started";
}

static size_t index_of(const struct orch_stack *st, const char *name)
{
    for (size_t i = 0; i < st->nservices; i++)
        if (strcmp(st->services[i].name, name) == 0)
            return i;
    return st->nservices;
}

static bool met(const struct orch_dep *d, const struct orch_plan_state *s)
{
    switch (d->condition) {
    case ORCH_COND_STARTED: return s->started;
    case ORCH_COND_HEALTHY: return s->has_probe ? s->healthy && s->running : s->running;
    case ORCH_COND_COMPLETED: return s->exited && s->exit_code == 0;
    }
    return false;
}

/* Why d can never be met, or NULL while it still may be. */
static const char *blocked(const struct orch_dep *d, const struct orch_plan_state *s,
                           int64_t now_ms, char *buf, size_t bufsz)
{
    if (s->failed) {
        snprintf(buf, bufsz, "dependency %s failed", d->service);
        return buf;
    }
    if (d->condition == ORCH_COND_COMPLETED && s->exited && s->exit_code != 0) {
        snprintf(buf, bufsz, "dependency %s exited with code %d", d->service, s->exit_code);
        return buf;
    }
    if (s->started && s->start_timeout_ms > 0 && now_ms - s->started_ms >= s->start_timeout_ms) {
        const char *what = d->condition == ORCH_COND_HEALTHY ? "healthy"
                           : d->condition == ORCH_COND_COMPLETED ? "completed" : "started";
        snprintf(buf, bufsz, "dependency %s not %s after %lld s; last probe: %.200s",
                 d->service, what, (long long)(s->start_timeout_ms / 1000),
                 s->last_output && *s->last_output ? s->last_output : "none");
        return buf;
    }
    return NULL;
}

enum orch_ready orch__plan_check(const struct orch_stack *st, size_t i,
                                 const struct orch_plan_state *states, int64_t now_ms,
                                 char *why, size_t whysz)
{
    const struct orch_service *svc = &st->services[i];
    enum orch_ready r = ORCH_READY_GO;
    if (why && whysz)
        why[0] = 0;
    for (size_t k = 0; k < svc->ndeps; k++) {
        const struct orch_dep *d = &svc->depends_on[k];
        size_t j = index_of(st, d->service);
        if (j >= st->nservices) {
            if (d->required) {
                snprintf(why, whysz, "dependency %s is not defined", d->service);
                return ORCH_READY_BLOCKED;
            }
            continue;
        }
        const struct orch_plan_state *s = &states[j];
        if (met(d, s))
            continue;
        char buf[400];
        const char *b = blocked(d, s, now_ms, buf, sizeof(buf));
        if (b) {
            if (!d->required)
                continue;   /* optional: go on without it */
            snprintf(why, whysz, "%s", b);
            return ORCH_READY_BLOCKED;
        }
        if (r == ORCH_READY_GO && why)
            snprintf(why, whysz, "waiting for %s (%s)", d->service,
                     orch__condition_str(d->condition));
        r = ORCH_READY_WAIT;
    }
    return r;
}

void orch__plan_order(const struct orch_stack *st, size_t *order)
{
    size_t n = st->nservices, done = 0;
    unsigned char *placed = cc_xcalloc(n ? n : 1, 1);
    /* Kahn's algorithm by passes; n is at most 1000 and the graph a DAG. */
    while (done < n) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (placed[i])
                continue;
            bool ready = true;
            for (size_t k = 0; k < st->services[i].ndeps && ready; k++) {
                size_t j = index_of(st, st->services[i].depends_on[k].service);
                ready = j >= n || placed[j];
            }
            if (ready) {
                placed[i] = 1;
                order[done++] = i;
                progress = true;
            }
        }
        if (!progress) {   /* a cycle compose.c should have refused: keep file order */
            for (size_t i = 0; i < n; i++)
                if (!placed[i])
                    order[done++] = i;
        }
    }
    free(placed);
}
