/*
 * engine_logs.c - log streams of a service that follow across restarts:
 * when the instance stops, the stream waits for the service to run again
 * (a new generation) and continues after the last line it sent, so no line
 * repeats and none is lost. Also what a stream asks before it starts
 * (orch_engine_reachable), answered without calling the driver.
 */
#include "orchestrator/engine_int.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"

/* How often a waiting stream looks at its cancel flag (set by a client
 * that went away, without a signal). */
#define FOLLOW_POLL_MS 200

struct log_relay {
    orch_log_cb cb;
    void *arg;
    int64_t last_ts;
    bool stopped;
};

static bool relay_cb(void *arg, const struct orch_log_line *l)
{
    struct log_relay *r = arg;
    if (l->ts_ns > r->last_ts)
        r->last_ts = l->ts_ns;
    if (!r->cb(r->arg, l)) {
        r->stopped = true;
        return false;
    }
    return true;
}

static cc_err no_project(const char *name, struct orch_err *e)
{
    return orch_errf(e, CC_ENOTFOUND, "list projects to see the names", "no project %s",
                     name ? name : "");
}

cc_err orch_engine_reachable(struct orch_engine *eng, const char *name, const char *service,
                             struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
    if (!p)
        return no_project(name, e);
    pthread_mutex_lock(&p->mu);
    struct orch__svc *s = service ? orch__svc_find(p, service) : NULL;
    struct orch__slot *sl = s && s->slot ? s->slot : p->slot;
    if (!sl && strcmp(p->want_driver, ORCH_DRIVER_AUTO) != 0)   /* never started */
        sl = orch__slot_lookup(eng, p->want_driver);             /* the one it asks for */
    pthread_mutex_unlock(&p->mu);
    orch__project_put(p);
    /* Open breaker: refused without spending a half-open trial. */
    if (sl && cc_breaker_retry_after_ms(&sl->br) > 0)
        return orch__slot_unreachable(sl, e);
    return CC_OK;
}

static bool cancelled(const struct orch_log_query *q)
{
    return q->cancel && atomic_load(q->cancel);
}

/* Waits (p->mu held) until service runs an instance other than inst of
 * generation gen, it is gone, or the stream is cancelled. */
static void wait_next_instance(struct orch__project *p, const char *service, const char *inst,
                               unsigned gen, const struct orch_log_query *q)
{
    while (!cancelled(q)) {
        struct orch__svc *s = orch__svc_find(p, service);
        if (!s)
            break;
        if (s->state == ORCH_S_UP && (s->gen != gen || !inst[0] || strcmp(s->inst, inst) != 0))
            break;
        cc_wait_until(p->eng->clock, &p->cv, &p->mu, orch__now(p->eng) + FOLLOW_POLL_MS);
    }
}

/* One driver call for the instance inst of service; CC_OK when it ended. */
static cc_err stream_once(struct orch__slot *sl, const char *inst, struct orch_log_query *lq,
                          struct log_relay *r, const struct orch_log_query *q,
                          struct orch_err *e)
{
    if (!orch__slot_allow(sl, e))
        return CC_EUPSTREAM;
    cc_err err = sl->ops->logs(sl->drv, inst, lq, relay_cb, r, e);
    orch__slot_note(sl, err, e);
    if (err == CC_ENOTFOUND && q->follow)
        err = CC_OK;   /* recreated meanwhile: pick the new one up */
    return err;
}

cc_err orch_engine_logs(struct orch_engine *eng, const char *name, const char *service,
                        const struct orch_log_query *q, orch_log_cb cb, void *arg,
                        struct orch_err *e)
{
    struct orch__project *p = orch__project_ref(eng, name);
    if (!p)
        return no_project(name, e);
    struct log_relay r = {.cb = cb, .arg = arg};
    struct orch_log_query lq = *q;
    cc_err err = CC_OK;
    bool first = true;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        struct orch__svc *s = orch__svc_find(p, service);
        if (!s) {
            pthread_mutex_unlock(&p->mu);
            err = orch_errf(e, CC_ENOTFOUND, "see ps for the services", "project %s has no "
                            "service %s", p->name, service ? service : "");
            break;
        }
        char inst[160];
        snprintf(inst, sizeof(inst), "%s", s->inst);
        struct orch__slot *sl = s->slot;
        unsigned gen = s->gen;
        pthread_mutex_unlock(&p->mu);
        if (inst[0] && sl) {
            if (!first) {   /* continue after the last line seen, nothing twice */
                lq.tail = -1;
                if (r.last_ts)
                    lq.since_ns = r.last_ts + 1;
            }
            first = false;
            if ((err = stream_once(sl, inst, &lq, &r, q, e)))
                break;
        }
        if (!q->follow || r.stopped || cancelled(q))
            break;
        pthread_mutex_lock(&p->mu);
        wait_next_instance(p, service, inst, gen, q);
        pthread_mutex_unlock(&p->mu);
        if (cancelled(q))
            break;
    }
    orch__project_put(p);
    return err;
}
