/*
 * engine_run.c - the supervisor's driver calls: start (several services at
 * once), stop, inspect (turning an exit into the lifecycle event the
 * restart rules decide), the probe threads, adoption of what already runs,
 * prepare and teardown.
 *
 * Every function here is called with p->mu held and unlocks it around the
 * driver call itself; the supervisor is the only thread that changes a
 * service's state, so what it read before still holds after.
 */
#include "orchestrator/engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/retry.h"

/* How often a running instance is inspected (for an exit): every 500 ms for
 * its first 10 s, which catches a crash at start at once, then every 2 s.
 * Each inspect is an Engine API call (docker) or a look at the shim's state
 * (process); at 500 ms throughout, 20 services cost the daemon about 1 % of
 * a core in inspects alone (bench/orchestration.sh). */
#define INSPECT_FAST_MS     500
#define INSPECT_FAST_FOR_MS 10000
#define INSPECT_EVERY_MS    2000
/* A driver call that failed transiently is retried after 1 s, 2 s ... 30 s. */
#define DRV_RETRY_MAX_MS 30000
#define START_PARALLEL_MAX 16

static const struct cc_backoff drv_retry = {.initial_ms = 1000, .max_ms = DRV_RETRY_MAX_MS,
                                            .multiplier = 2.0, .jitter = 0.2};

struct orch_sup_cfg orch__sup_cfg(const struct orch_engine *eng)
{
    const struct cc_config *c = eng->conf;
    return (struct orch_sup_cfg){
        .backoff_initial_ms = 1000,   /* 1 s, 2 s, 4 s ... (docs/ORCHESTRATION.md) */
        .backoff_max_ms = c->orchestrator.restart_backoff_max_ms,
        .jitter = 0.2,
        .stable_ms = c->orchestrator.restart_stable_ms,
        .breaker_restarts = c->orchestrator.breaker_restarts,
        .breaker_window_ms = c->orchestrator.breaker_window_ms,
    };
}

void orch__backoff_retry(struct orch__project *p, struct orch__svc *s, const char *what,
                         const struct orch_err *de)
{
    s->drv_failures++;
    int64_t d = cc_backoff_delay_ms(&drv_retry, s->drv_failures);
    s->retry_at = orch__now(p->eng) + d;
    snprintf(s->message, sizeof(s->message), "%s: %.300s; retrying in %lld ms", what,
             de->msg, (long long)d);
}

static int64_t grace_ns(const struct orch__svc *s)
{
    return s->def && s->def->stop_grace_ns >= 0 ? s->def->stop_grace_ns : ORCH__STOP_GRACE_NS;
}

/* ---------------------------------------------------------------------------
 * start: begin and end on the supervisor thread with p->mu held; drive makes
 * the driver calls without it (a container's create and start take about a
 * third of a second), on a thread of its own when several are due together.
 */

struct start_job {
    struct orch__project *p;
    struct orch__svc *s;
    struct orch__slot *sl;
    bool need_create;
    char old[160], id[160];
    struct orch_spec spec;
    int64_t old_grace_ns;
    cc_err err;
    struct orch_err de;
};

static void inst_id_cb(void *arg, const struct orch_inst *i)
{
    snprintf(arg, 160, "%s", i->id);
}

static void start_begin(struct orch__project *p, struct orch__svc *s, struct start_job *j)
{
    memset(j, 0, sizeof(*j));
    j->p = p;
    j->s = s;
    j->sl = s->slot;
    j->need_create = !s->inst[0] || strcmp(s->inst_hash, s->hash) != 0;
    snprintf(j->old, sizeof(j->old), "%s", s->inst);
    snprintf(j->id, sizeof(j->id), "%s", s->inst);
    j->spec = (struct orch_spec){.project = p->name, .stack = p->stack, .svc = s->def,
                                 .config_hash = s->hash, .limits = s->limits};
    j->old_grace_ns = s->def->stop_grace_ns > 0 ? s->def->stop_grace_ns : ORCH__STOP_GRACE_NS;
}

static void *start_drive(void *arg)
{
    struct start_job *j = arg;
    struct orch__slot *sl = j->sl;
    if (!orch__slot_allow(sl, &j->de)) {
        j->err = CC_EUPSTREAM;
        return NULL;
    }
    if (j->need_create) {
        if (j->old[0]) {   /* a changed config: the old instance goes first */
            sl->ops->stop(sl->drv, j->old, j->old_grace_ns, NULL);
            sl->ops->remove(sl->drv, j->old, NULL);
        }
        j->id[0] = 0;
        j->err = sl->ops->create(sl->drv, &j->spec, inst_id_cb, j->id, &j->de);
    }
    if (!j->err) {
        struct orch__project *p = j->p;
        struct orch__svc *s = j->s;
        pthread_mutex_lock(&p->mu);
        if (j->need_create) {
            snprintf(s->inst, sizeof(s->inst), "%s", j->id);
            memcpy(s->inst_hash, s->hash, sizeof(s->inst_hash));
            orch__emit(p, "created", s->name, "%s created (%s)", s->name, j->id);
        }
        pthread_mutex_unlock(&p->mu);
        j->err = sl->ops->start(sl->drv, j->id, &j->de);
    }
    orch__slot_note(sl, j->err, &j->de);
    return NULL;
}

static void start_end(struct start_job *j)
{
    struct orch__project *p = j->p;
    struct orch__svc *s = j->s;
    struct orch_err *de = &j->de;
    if (j->err == CC_EUPSTREAM) {
        orch__backoff_retry(p, s, "engine unavailable", de);
        orch__sup_apply(p, s, ORCH_E_START_AGAIN);
    } else if (j->err == CC_ENOTFOUND && !j->need_create) {   /* removed behind our back */
        s->inst[0] = 0;
        s->retry_at = 0;
        orch__sup_apply(p, s, ORCH_E_START_AGAIN);
    } else if (j->err) {
        snprintf(s->message, sizeof(s->message), "%s: %.300s%s%.150s", cc_err_str(j->err),
                 de->msg, de->hint[0] ? "; " : "", de->hint);
        orch__sup_apply(p, s, ORCH_E_START_FAILED);
    } else {
        orch__sup_apply(p, s, ORCH_E_START_OK);
    }
}

/* Services in STARTING or RESTARTING are started at once (p->mu held;
 * released inside): the driver calls run on threads of their own, in
 * waves of START_PARALLEL_MAX; a thread that cannot start runs its job
 * inline, and so does a wave of one. */
void orch__start_many(struct orch__project *p, struct orch__svc **go, size_t n)
{
    for (size_t base = 0; base < n && !p->down_req && !p->stop_thread;
         base += START_PARALLEL_MAX) {
        size_t m = n - base < START_PARALLEL_MAX ? n - base : START_PARALLEL_MAX;
        struct start_job jobs[START_PARALLEL_MAX];
        pthread_t th[START_PARALLEL_MAX];
        bool started[START_PARALLEL_MAX] = {false};
        bool take[START_PARALLEL_MAX] = {false};
        for (size_t k = 0; k < m; k++) {
            struct orch__svc *s = go[base + k];
            take[k] = s->state == ORCH_S_STARTING || s->state == ORCH_S_RESTARTING;
            if (take[k])
                start_begin(p, s, &jobs[k]);
        }
        pthread_mutex_unlock(&p->mu);
        for (size_t k = 0; k < m && n > 1; k++)
            if (take[k])
                started[k] = pthread_create(&th[k], NULL, start_drive, &jobs[k]) == 0;
        for (size_t k = 0; k < m; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else if (take[k])
                start_drive(&jobs[k]);
        }
        pthread_mutex_lock(&p->mu);
        for (size_t k = 0; k < m; k++)
            if (take[k])
                start_end(&jobs[k]);
    }
}

cc_err orch__stop_inst(struct orch__project *p, struct orch__svc *s, bool remove,
                       struct orch_err *de)
{
    struct orch__slot *sl = s->slot;
    char id[160];
    snprintf(id, sizeof(id), "%s", s->inst);
    int64_t grace = grace_ns(s);
    pthread_mutex_unlock(&p->mu);
    cc_err err = CC_OK;
    if (!orch__slot_allow(sl, de)) {
        err = CC_EUPSTREAM;
    } else {
        err = sl->ops->stop(sl->drv, id, grace, de);
        if (err == CC_ENOTFOUND)
            err = CC_OK;
        if (!err && remove) {
            err = sl->ops->remove(sl->drv, id, de);
            if (err == CC_ENOTFOUND)
                err = CC_OK;
        }
        orch__slot_note(sl, err, de);
    }
    pthread_mutex_lock(&p->mu);
    return err;
}

/* ---------------------------------------------------------------------------
 * exits
 */

struct inspect_out {
    bool found;
    enum orch_run_state state;
    int exit_code;
    bool oom;
};

static void inspect_cb(void *arg, const struct orch_inst *i)
{
    struct inspect_out *o = arg;
    o->found = true;
    o->state = i->state;
    o->exit_code = i->exit_code;
    o->oom = i->oom_killed;
}

/* The instance exited: recorded, then the restart rules turn it into
 * EXIT, EXIT_RESTART or EXIT_BREAKER for the table. */
void orch__exited(struct orch__project *p, struct orch__svc *s, int code, bool oom)
{
    int64_t now = orch__now(p->eng);
    s->exit_code = code;
    s->oom = oom;
    s->gen = ++p->gen_seq;     /* any probe in flight is now stale */
    if (oom)
        orch__emit(p, "oom", s->name, "%s was killed: out of memory (limit %lld bytes)",
                   s->name, (long long)s->limits.memory);
    orch__emit(p, "exited", s->name, "%s exited with code %d", s->name, code);
    struct orch_sup_cfg sc = orch__sup_cfg(p->eng);
    struct orch_sup_decision d =
        s->posted & ORCH__POST_UNHEALTHY
            ? orch__sup_on_restart_unhealthy(&s->sup, &sc, s->started_mono, now)
            : orch__sup_on_exit(&s->sup, &sc, &s->policy, code, false, s->started_mono, now);
    s->posted &= ~ORCH__POST_UNHEALTHY;
    snprintf(s->message, sizeof(s->message), "%s", d.why);
    enum orch_event ev = ORCH_E_EXIT;
    if (d.action == ORCH_SUP_RESTART) {
        s->restart_at = now + d.delay_ms;
        ev = ORCH_E_EXIT_RESTART;
    } else if (d.action == ORCH_SUP_FAIL) {
        ev = ORCH_E_EXIT_BREAKER;
    }
    orch__sup_apply(p, s, ev);
}

void orch__inspect(struct orch__project *p, struct orch__svc *s)
{
    struct orch__slot *sl = s->slot;
    struct orch_err de = {0};
    struct inspect_out o = {0};
    char id[160];
    snprintf(id, sizeof(id), "%s", s->inst);
    unsigned gen = s->gen;
    pthread_mutex_unlock(&p->mu);
    cc_err err = CC_EUPSTREAM;
    if (orch__slot_allow(sl, &de)) {
        err = sl->ops->inspect(sl->drv, id, inspect_cb, &o, &de);
        orch__slot_note(sl, err, &de);
    }
    pthread_mutex_lock(&p->mu);
    int64_t now = orch__now(p->eng);
    s->next_inspect = now + (now - s->started_mono < INSPECT_FAST_FOR_MS ? INSPECT_FAST_MS
                                                                          : INSPECT_EVERY_MS);
    if (gen != s->gen || s->state != ORCH_S_UP)
        return;
    if (err == CC_EUPSTREAM)
        return;   /* cannot tell; the breaker answers API calls meanwhile */
    if (err == CC_ENOTFOUND || (!err && !o.found)) {
        s->inst[0] = 0;
        orch__exited(p, s, -1, false);
        char why[sizeof(s->message)];
        memcpy(why, s->message, sizeof(why));
        snprintf(s->message, sizeof(s->message), "instance %.100s disappeared; %.300s", id, why);
        return;
    }
    if (!err && o.state == ORCH_RUN_EXITED)
        orch__exited(p, s, o.exit_code, o.oom);
}

/* A start succeeded. The first inspection comes soon: a crash at start shows. */
void orch__started(struct orch__project *p, struct orch__svc *s)
{
    int64_t now = orch__now(p->eng);
    s->drv_failures = 0;
    s->retry_at = 0;
    s->exit_code = 0;
    s->oom = false;
    s->started_mono = now;
    s->started_wall = orch__now_wall(p->eng);
    if (!s->first_started_mono)
        s->first_started_mono = now;
    s->gen = ++p->gen_seq;
    s->next_inspect = now + INSPECT_FAST_MS / 5;
    orch__probe_reset(&s->probe, &s->opts.probe, now);
    s->message[0] = 0;
    s->posted &= ~ORCH__POST_UNHEALTHY;   /* about an instance that is gone */
    pthread_cond_broadcast(&p->cv);   /* log streams wait for a new instance */
}

/* ---------------------------------------------------------------------------
 * probes: one short thread per due probe
 */

struct probe_job {
    struct orch__project *p;
    char svc[128];
    unsigned gen, seq;
    char inst[160];
    struct orch__slot *slot;
    struct orch_probe_cfg cfg;
};

/* A result for the generation it probed (p->mu held). */
static void probe_record(struct orch__project *p, struct orch__svc *s, cc_err err,
                         const struct orch_probe_result *r)
{
    struct orch_engine *eng = p->eng;
    int64_t now = orch__now(eng);
    if (!err && !r->ok)
        s->next_inspect = now;   /* a failing probe may mean it exited: look before judging */
    if (err) {
        /* cannot tell (engine unreachable): not a failure; try again later */
        s->probe.next_ms = now + s->opts.probe.interval_ms;
        return;
    }
    if (s->state != ORCH_S_UP)
        return;
    enum orch_probe_change ch = orch__probe_record(&s->probe, &s->opts.probe, r->ok, r->code,
                                                   r->text, now, orch__now_wall(eng));
    if (ch == ORCH_PROBE_TO_HEALTHY)
        orch__emit(p, "healthy", s->name, "%s is healthy: %.300s", s->name, r->text);
    else if (ch == ORCH_PROBE_TO_UNHEALTHY)
        orch__emit(p, "unhealthy", s->name, "%s is unhealthy after %u failed probes: %.300s",
                   s->name, s->probe.failing_streak, r->text);
    if (orch__sup_on_probe(&s->sup, &s->opts.unhealthy, r->ok,
                           s->probe.status == ORCH_HEALTH_UNHEALTHY, s->started_mono, now))
        s->posted |= ORCH__POST_UNHEALTHY;
}

static void *probe_main(void *arg)
{
    struct probe_job *j = arg;
    struct orch__project *p = j->p;
    struct orch_probe_result r;
    struct orch_err de = {0};
    cc_err err = CC_EUPSTREAM;
    if (orch__slot_allow(j->slot, &de)) {
        err = orch__probe_run(&j->cfg, j->slot->ops, j->slot->drv, j->inst, &r, &de);
        orch__slot_note(j->slot, err, &de);
    }
    pthread_mutex_lock(&p->mu);
    struct orch__svc *s = orch__svc_find(p, j->svc);
    if (s && s->probe_seq == j->seq)
        s->probe_busy = false;
    if (s && s->gen == j->gen)
        probe_record(p, s, err, &r);
    pthread_mutex_unlock(&p->mu);
    orch__flush_events(p);
    orch__probe_cfg_release(&j->cfg);
    free(j);
    /* the last touch of p: once none is in flight, the project may go */
    pthread_mutex_lock(&p->mu);
    p->probes_inflight--;
    p->kick = true;   /* also seen when the supervisor is not waiting right now */
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void orch__launch_probe(struct orch__project *p, struct orch__svc *s)
{
    struct probe_job *j = cc_xcalloc(1, sizeof(*j));
    j->p = p;
    snprintf(j->svc, sizeof(j->svc), "%s", s->name);
    snprintf(j->inst, sizeof(j->inst), "%s", s->inst);
    j->gen = s->gen;
    j->seq = ++s->probe_seq;
    j->slot = s->slot;
    orch__probe_cfg_copy(&j->cfg, &s->opts.probe);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &a, probe_main, j) != 0) {
        orch__probe_cfg_release(&j->cfg);
        free(j);
        s->probe.next_ms = orch__now(p->eng) + 1000;
    } else {
        s->probe_busy = true;
        p->probes_inflight++;
    }
    pthread_attr_destroy(&a);
}

/* ---------------------------------------------------------------------------
 * adoption, prepare, teardown
 */

struct adopt_ctx {
    struct orch__project *p;
    int64_t now, wall;
};

/* Running with the same config: supervised as it is, probed again at once. */
static void adopt_running(struct adopt_ctx *a, struct orch__svc *s, const struct orch_inst *i)
{
    int64_t age = i->started_ms > 0 && a->wall > i->started_ms ? a->wall - i->started_ms : 0;
    s->started_mono = a->now - age;
    s->first_started_mono = s->started_mono ? s->started_mono : 1;
    s->started_wall = i->started_ms;
    s->gen = ++a->p->gen_seq;
    s->next_inspect = a->now;
    orch__probe_reset(&s->probe, &s->opts.probe, a->now);
    s->probe.next_ms = a->now;
    snprintf(s->message, sizeof(s->message), "adopted running instance");
}

static void adopt_cb(void *arg, const struct orch_inst *i)
{
    struct adopt_ctx *a = arg;
    struct orch__svc *s = orch__svc_find(a->p, i->service);
    if (!s || s->inst[0])
        return;
    snprintf(s->inst, sizeof(s->inst), "%s", i->id);
    snprintf(s->inst_hash, sizeof(s->inst_hash), "%s", i->config_hash ? i->config_hash : "");
    if (strcmp(s->inst_hash, s->hash) != 0)
        return;   /* changed: created anew when its turn comes */
    if (i->state == ORCH_RUN_RUNNING) {
        if (orch__sup_apply(a->p, s, ORCH_E_ADOPT_RUNNING))
            adopt_running(a, s, i);
    } else if (i->state == ORCH_RUN_EXITED && i->exit_code == 0 &&
               s->policy.kind != ORCH_RESTART_ALWAYS &&
               s->policy.kind != ORCH_RESTART_UNLESS_STOPPED) {
        /* a one-shot that completed while we were away */
        if (orch__sup_apply(a->p, s, ORCH_E_ADOPT_DONE)) {
            s->exit_code = 0;
            s->first_started_mono = a->now;
            s->started_wall = i->started_ms;
        }
    }
}

/* Each distinct slot of the project's services once, in order; NULL at the end. */
static struct orch__slot *next_slot(struct orch__project *p, size_t *i,
                                    struct orch__slot *const *done, size_t ndone)
{
    for (; *i < p->nsvcs; (*i)++) {
        struct orch__slot *sl = p->svcs[*i].slot;
        bool seen = !sl;
        for (size_t k = 0; k < ndone && !seen; k++)
            seen = done[k] == sl;
        if (!seen)
            return sl;
    }
    return NULL;
}

bool orch__adopt(struct orch__project *p)
{
    struct orch__slot *done[ORCH__DRIVERS_MAX];
    size_t ndone = 0, i = 0;
    struct orch__slot *sl;
    while ((sl = next_slot(p, &i, done, ndone))) {
        struct orch_err de = {0};
        struct adopt_ctx a = {.p = p, .now = orch__now(p->eng), .wall = orch__now_wall(p->eng)};
        /* list's callback fills services: safe, only this thread changes them,
         * but readers need the lock, so it is held through the call. The
         * list call is a single round trip. */
        cc_err err = CC_EUPSTREAM;
        if (orch__slot_allow(sl, &de)) {
            err = sl->ops->list(sl->drv, p->name, adopt_cb, &a, &de);
            orch__slot_note(sl, err, &de);
        }
        if (err) {
            cc_log_warn(orch__log(p->eng), "orchestrator", "cannot list instances to adopt",
                        CC_LS("project", p->name), CC_LS("error", de.msg));
            return false;
        }
        done[ndone++] = sl;
    }
    return true;
}

/* Progress of prepare (image builds, networks): logged, and its last line
 * shown in health while it runs (what `up --wait` prints on a terminal).
 * Called without p->mu. */
static void build_progress(void *arg, const char *line)
{
    struct orch__project *p = arg;
    cc_log_info(orch__log(p->eng), "orchestrator", "preparing", CC_LS("project", p->name),
                CC_LS("line", line));
    pthread_mutex_lock(&p->mu);
    snprintf(p->progress, sizeof(p->progress), "%.250s", line);
    pthread_mutex_unlock(&p->mu);
}

static void prepare_failed(struct orch__project *p, const struct orch_err *de)
{
    for (size_t k = 0; k < p->nsvcs; k++) {
        struct orch__svc *s = &p->svcs[k];
        if (s->state != ORCH_S_PENDING)
            continue;
        snprintf(s->message, sizeof(s->message), "preparing the project failed: %.300s%s%.150s",
                 de->msg, de->hint[0] ? "; " : "", de->hint);
        orch__sup_apply(p, s, ORCH_E_PREPARE_FAILED);
    }
    p->prepared = true;
}

bool orch__prepare(struct orch__project *p)
{
    struct orch__slot *done[ORCH__DRIVERS_MAX];
    size_t ndone = 0, i = 0;
    struct orch__slot *sl;
    while ((sl = next_slot(p, &i, done, ndone))) {
        struct orch_err de = {0};
        const struct orch_stack *st = p->stack;
        pthread_mutex_unlock(&p->mu);
        cc_err err = CC_EUPSTREAM;
        if (orch__slot_allow(sl, &de)) {
            err = sl->ops->prepare(sl->drv, p->name, st, build_progress, p, &de);
            orch__slot_note(sl, err, &de);
        }
        pthread_mutex_lock(&p->mu);
        p->progress[0] = 0;
        if (err == CC_EUPSTREAM) {
            p->prepare_retry_at = orch__now(p->eng) +
                                  cc_backoff_delay_ms(&drv_retry, ++p->prepare_failures);
            return false;
        }
        if (err) {
            prepare_failed(p, &de);
            return false;
        }
        done[ndone++] = sl;
    }
    p->prepared = true;
    return true;
}

void orch__teardown(struct orch__project *p)
{
    struct orch__slot *done[ORCH__DRIVERS_MAX];
    size_t ndone = 0, i = 0;
    struct orch__slot *sl;
    while ((sl = next_slot(p, &i, done, ndone))) {
        done[ndone++] = sl;
        const struct orch_stack *st = p->stack;
        pthread_mutex_unlock(&p->mu);
        struct orch_err de = {0};
        if (orch__slot_allow(sl, &de)) {
            cc_err err = sl->ops->teardown(sl->drv, p->name, st, &de);
            orch__slot_note(sl, err, &de);
        }
        pthread_mutex_lock(&p->mu);
    }
}
