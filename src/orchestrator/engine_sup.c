/*
 * engine_sup.c - the supervisor: one thread per project that is up.
 *
 * Each pass (step) it: applies a pending reconcile, adopts what the driver
 * already runs (first pass only), prepares the project's networks and
 * images, handles what other threads posted (operator restarts, restart on
 * unhealthy), inspects running instances for exits, restarts what is due
 * after its backoff, starts every pending service whose dependencies are
 * met (all at once), and launches the probes that are due (each on its own
 * short thread, so one slow probe never delays another). Then it waits on
 * the project's condition variable, on the engine's clock, until the next
 * thing is due or someone posts a request.
 *
 * A service's state changes only in orch__sup_apply, which looks the
 * transition up in the lifecycle table (supervise.c) and does its action.
 */
#include "orchestrator/engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "orchestrator/plan.h"

#define WAIT_MAX_MS 500
#define WAIT_MIN_MS 10

/* ---------------------------------------------------------------------------
 * the lifecycle table's actions
 */

/* Down: stop and remove the instance (p->mu held; released inside). */
static void remove_inst(struct orch__project *p, struct orch__svc *s)
{
    if (s->inst[0]) {
        struct orch_err de = {0};
        cc_err err = orch__stop_inst(p, s, true, &de);
        if (err)
            cc_log_warn(orch__log(p->eng), "orchestrator", "stop failed",
                        CC_LS("project", p->name), CC_LS("service", s->name),
                        CC_LS("error", de.msg));
        s->inst[0] = 0;
        orch__emit(p, "stopped", s->name, "%s stopped", s->name);
    }
    s->gen = ++p->gen_seq;
    s->message[0] = 0;
}

/* The running instance stops before a restart; false (the request stays
 * posted, retried after a backoff) when the engine cannot be reached. */
static bool stop_for_restart(struct orch__project *p, struct orch__svc *s)
{
    struct orch_err de = {0};
    if (orch__stop_inst(p, s, false, &de) != CC_EUPSTREAM)
        return true;
    orch__backoff_retry(p, s, "restart: engine unavailable", &de);
    s->posted |= ORCH__POST_RESTART;
    return false;
}

/* Restart on unhealthy: stop, then the exit is decided like any other. */
static void stop_unhealthy(struct orch__project *p, struct orch__svc *s)
{
    struct orch_err de = {0};
    orch__emit(p, "unhealthy", s->name, "%s is restarted: unhealthy %u times in a row after "
               "its grace period", s->name, s->opts.unhealthy.limit);
    orch__stop_inst(p, s, false, &de);
    orch__exited(p, s, 143, false);
}

static void start_one(struct orch__project *p, struct orch__svc *s)
{
    s->gen = ++p->gen_seq;
    orch__start_many(p, &s, 1);
}

static void perform(struct orch__project *p, struct orch__svc *s, enum orch_action a)
{
    switch (a) {
    case ORCH_A_IGNORE:
    case ORCH_A_NONE:
    case ORCH_A_RETRY:      /* the caller set retry_at (or forgot the instance) */
    case ORCH_A_SCHEDULE:   /* orch__exited set restart_at */
    case ORCH_A_ADOPT:      /* the adopter records what it found */
        break;
    case ORCH_A_START:
    case ORCH_A_RESTART:
        start_one(p, s);
        break;
    case ORCH_A_STARTED:
        orch__started(p, s);
        orch__emit(p, "started", s->name, "%s started", s->name);
        break;
    case ORCH_A_RESTARTED:
        orch__started(p, s);
        s->restarts++;
        orch__emit(p, "restarted", s->name, "%s restarted (restart %u)", s->name, s->restarts);
        break;
    case ORCH_A_FAIL:
        orch__emit(p, "failed", s->name, "%s", s->message);
        break;
    case ORCH_A_STOP:
        stop_unhealthy(p, s);
        break;
    case ORCH_A_REPLAN:
        orch__sup_reset(&s->sup);
        s->first_started_mono = 0;
        s->gen = ++p->gen_seq;
        break;
    case ORCH_A_RECREATE:
        s->first_started_mono = 0;
        s->gen = ++p->gen_seq;
        break;
    case ORCH_A_REMOVE:
        remove_inst(p, s);
        break;
    }
}

bool orch__sup_apply(struct orch__project *p, struct orch__svc *s, enum orch_event ev)
{
    struct orch_transition t = orch__sup_step(s->state, ev);
    if (t.action == ORCH_A_IGNORE)
        return false;
    if (t.action == ORCH_A_RESTART && !stop_for_restart(p, s))
        return false;
    s->state = t.next;
    perform(p, s, t.action);
    return true;
}

/* ---------------------------------------------------------------------------
 * reconcile, plan, down
 */

/* The new service n takes over o's run state; the new spec decides the rest. */
static void carry_over(struct orch__project *p, struct orch__svc *o, struct orch__svc *n)
{
    struct orch__svc fresh = *n;
    *n = *o;
    n->def = fresh.def;
    n->opts = fresh.opts;
    n->policy = fresh.policy;
    n->limits = fresh.limits;
    n->slot = fresh.slot;
    o->sup = fresh.sup;   /* the unused one, freed with the old list */
    bool changed = strcmp(fresh.hash, n->hash) != 0;
    memcpy(n->hash, fresh.hash, sizeof(n->hash));
    orch__sup_apply(p, n, changed ? ORCH_E_RECONFIG : ORCH_E_UP_AGAIN);
    n->gen = ++p->gen_seq;
    if (n->state == ORCH_S_UP)
        orch__probe_reset(&n->probe, &n->opts.probe, orch__now(p->eng));
}

/* Swaps in the spec an `up` handed over: unchanged services keep running,
 * changed ones are recreated, removed ones stopped and removed. */
static void apply_reconcile(struct orch__project *p)
{
    struct orch__svc *nv = p->next_svcs;
    size_t nn = p->next_n;
    struct orch_stack *nst = p->next_stack;
    p->next_svcs = NULL;
    p->next_stack = NULL;
    p->next_n = 0;
    p->reconcile = false;
    for (size_t i = 0; i < p->nsvcs; i++) {
        struct orch__svc *o = &p->svcs[i];
        struct orch__svc *n = NULL;
        for (size_t k = 0; k < nn && !n; k++)
            if (strcmp(nv[k].name, o->name) == 0 && nv[k].slot == o->slot)
                n = &nv[k];
        if (n) {
            carry_over(p, o, n);
        } else if (o->inst[0]) {
            struct orch_err de = {0};
            orch__stop_inst(p, o, true, &de);
            orch__emit(p, "stopped", o->name, "%s stopped and removed: no longer in the "
                       "compose file", o->name);
        }
    }
    orch__svcs_free(p->svcs, p->nsvcs);
    orch_stack_free(p->stack);
    p->svcs = nv;
    p->nsvcs = nn;
    p->stack = nst;
    p->prepared = false;
}

static void plan_states(struct orch__project *p, struct orch_plan_state *ps)
{
    for (size_t i = 0; i < p->nsvcs; i++) {
        const struct orch__svc *s = &p->svcs[i];
        const struct orch_probe_output *last = orch__probe_output(&s->probe, 0);
        ps[i] = (struct orch_plan_state){
            .started = s->first_started_mono != 0,
            .running = s->state == ORCH_S_UP,
            .healthy = s->probe.status == ORCH_HEALTH_HEALTHY,
            .has_probe = s->opts.probe.kind != ORCH_PROBE_NONE,
            .exited = s->state == ORCH_S_EXITED,
            .exit_code = s->exit_code,
            .failed = s->state == ORCH_S_FAILED,
            .started_ms = s->first_started_mono,
            .start_timeout_ms = s->opts.start_timeout_ms,
            .last_output = last ? last->text : NULL,
        };
    }
}

/* Down: reverse dependency order, each with its grace period; then the
 * project's networks (p->mu held). */
void orch__sup_down(struct orch__project *p)
{
    size_t n = p->nsvcs;
    size_t *order = cc_xcalloc(n ? n : 1, sizeof(*order));
    if (p->stack)
        orch__plan_order(p->stack, order);
    for (size_t k = n; k-- > 0;)
        orch__sup_apply(p, &p->svcs[order[k]], ORCH_E_DOWN);
    free(order);
    orch__teardown(p);
}

/* ---------------------------------------------------------------------------
 * one pass
 */

static bool restart_due(const struct orch__svc *s, int64_t now)
{
    return (s->posted & ORCH__POST_RESTART) && (s->state != ORCH_S_UP || now >= s->retry_at);
}

/* What other threads posted, exits and backoffs of one service. */
static void step_svc(struct orch__project *p, struct orch__svc *s, int64_t *next)
{
    int64_t now = orch__now(p->eng);
    if (restart_due(s, now)) {
        s->posted &= ~ORCH__POST_RESTART;
        if (s->state != ORCH_S_UP)
            s->retry_at = 0;
        orch__sup_apply(p, s, s->first_started_mono ? ORCH_E_RESTART : ORCH_E_REPLAN);
        return;
    }
    if ((s->posted & ORCH__POST_RESTART) && s->retry_at < *next)
        *next = s->retry_at;
    bool unhealthy = s->posted & ORCH__POST_UNHEALTHY;
    if (s->state == ORCH_S_UP && (now >= s->next_inspect || unhealthy))
        orch__inspect(p, s);
    if (s->state == ORCH_S_UP && (s->posted & ORCH__POST_UNHEALTHY)) {
        orch__sup_apply(p, s, ORCH_E_UNHEALTHY);
        return;
    }
    now = orch__now(p->eng);
    if (s->state == ORCH_S_BACKOFF && now >= s->restart_at && now >= s->retry_at)
        orch__sup_apply(p, s, ORCH_E_BACKOFF_DUE);
    if (s->state == ORCH_S_UP && s->next_inspect < *next)
        *next = s->next_inspect;
    if (s->state == ORCH_S_BACKOFF && s->restart_at < *next)
        *next = s->restart_at > s->retry_at ? s->restart_at : s->retry_at;
}

/* Pending services whose dependencies are met: all of them, now. */
static void step_plan(struct orch__project *p, int64_t *next)
{
    struct orch_plan_state *ps = cc_xcalloc(p->nsvcs ? p->nsvcs : 1, sizeof(*ps));
    plan_states(p, ps);
    struct orch__svc **go = cc_xcalloc(p->nsvcs ? p->nsvcs : 1, sizeof(*go));
    size_t ngo = 0;
    int64_t now = orch__now(p->eng);
    for (size_t i = 0; i < p->nsvcs; i++) {
        struct orch__svc *s = &p->svcs[i];
        if (s->state != ORCH_S_PENDING)
            continue;
        if (s->retry_at > now) {
            if (s->retry_at < *next)
                *next = s->retry_at;
            continue;
        }
        char why[512];
        enum orch_ready r = orch__plan_check(p->stack, i, ps, now, why, sizeof(why));
        if (r == ORCH_READY_GO) {
            /* the table says START; the starts are batched below */
            struct orch_transition t = orch__sup_step(s->state, ORCH_E_DEPS_READY);
            s->state = t.next;
            go[ngo++] = s;
        } else if (r == ORCH_READY_BLOCKED) {
            snprintf(s->message, sizeof(s->message), "not started: %.490s", why);
            orch__sup_apply(p, s, ORCH_E_DEPS_BLOCKED);
        } else {
            snprintf(s->message, sizeof(s->message), "%s", why);
        }
    }
    if (ngo)
        orch__start_many(p, go, ngo);
    free(go);
    free(ps);
}

static bool stopping(const struct orch__project *p)
{
    return p->down_req || p->stop_thread;
}

/* One pass; returns when the next thing is due (mono ms). */
static int64_t step(struct orch__project *p)
{
    int64_t now = orch__now(p->eng), next = now + WAIT_MAX_MS;
    p->kick = false;
    if (p->reconcile)
        apply_reconcile(p);
    if (!p->adopted)
        p->adopted = orch__adopt(p);
    if (!p->adopted)
        return now + 1000;
    if (!p->prepared) {
        if (now < p->prepare_retry_at)
            return p->prepare_retry_at;
        if (!orch__prepare(p))
            return p->prepared ? next : p->prepare_retry_at;
        p->prepare_failures = 0;
    }
    for (size_t i = 0; i < p->nsvcs && !stopping(p); i++)
        step_svc(p, &p->svcs[i], &next);
    if (p->stack && !stopping(p))
        step_plan(p, &next);
    now = orch__now(p->eng);
    for (size_t i = 0; i < p->nsvcs && !stopping(p); i++) {
        struct orch__svc *s = &p->svcs[i];
        if (s->state != ORCH_S_UP || s->opts.probe.kind == ORCH_PROBE_NONE || s->probe_busy)
            continue;
        if (now >= s->probe.next_ms)
            orch__launch_probe(p, s);
        else if (s->probe.next_ms < next)
            next = s->probe.next_ms;
    }
    return next;
}

/* Something posted that the next pass must see at once. */
static bool posted_now(const struct orch__project *p, int64_t now)
{
    for (size_t i = 0; i < p->nsvcs; i++) {
        const struct orch__svc *s = &p->svcs[i];
        if (restart_due(s, now) ||
            ((s->posted & ORCH__POST_UNHEALTHY) && s->state == ORCH_S_UP))
            return true;
    }
    return false;
}

static void *supervisor_main(void *arg)
{
    struct orch__project *p = arg;
    struct cc_clock *clk = p->eng->clock;
    pthread_mutex_lock(&p->mu);
    while (!stopping(p)) {
        int64_t due = step(p);
        pthread_mutex_unlock(&p->mu);
        orch__flush_events(p);
        pthread_mutex_lock(&p->mu);
        int64_t now = orch__now(p->eng);
        if (stopping(p) || p->reconcile || p->kick || posted_now(p, now))
            continue;
        if (due < now + WAIT_MIN_MS)
            due = now + WAIT_MIN_MS;
        if (due > now + WAIT_MAX_MS)
            due = now + WAIT_MAX_MS;
        cc_wait_until(clk, &p->cv, &p->mu, due);
    }
    if (p->down_req && !p->stop_thread)
        orch__sup_down(p);
    /* probe threads signal p->cv as they end */
    while (p->probes_inflight > 0)
        cc_wait_until(clk, &p->cv, &p->mu, orch__now(p->eng) + 100);
    pthread_mutex_unlock(&p->mu);
    orch__flush_events(p);
    return NULL;
}

cc_err orch__sup_thread_start(struct orch__project *p, struct orch_err *e)
{
    p->stop_thread = false;
    p->down_req = false;
    p->adopted = false;
    p->prepared = false;
    p->prepare_retry_at = 0;
    if (pthread_create(&p->thr, NULL, supervisor_main, p) != 0)
        return orch_errf(e, CC_ENOMEM, NULL, "cannot start the supervisor thread: %s",
                         strerror(errno));
    p->thr_running = true;
    return CC_OK;
}

void orch__sup_thread_join(struct orch__project *p)
{
    pthread_mutex_lock(&p->mu);
    bool running = p->thr_running;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (running)
        pthread_join(p->thr, NULL);
    pthread_mutex_lock(&p->mu);
    p->thr_running = false;
    pthread_mutex_unlock(&p->mu);
}
