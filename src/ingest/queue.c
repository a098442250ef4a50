/*
 * queue.c - worker threads over the store's job queue, and the lease keeper.
 *
 * Per worker there is one slot: the job it runs (id, stage), guarded by the
 * slot's mutex, which the lease keeper reads to heartbeat. Workers never
 * share a job, so the store's lease check (owner = "<node>/<slot>") is what
 * stops a worker whose lease was taken over from writing a result.
 */
#include "ingest/queue.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "observe/metrics.h"

#define JOB_ARENA_BLOCK 16384
#define JOB_ARENA_LIMIT (256u << 20)   /* payload copy plus everything a job derives */

struct slot {
    pthread_t thread;
    pthread_mutex_t mu;
    int64_t job_id;                /* 0 = idle */
    char stage[16];
    char owner[96];
};

struct ingest_workers {
    struct cc_ctx *ctx;
    struct ingest_workers_cfg cfg;
    struct slot *slots;
    unsigned nslots;
    pthread_t keeper;
    bool keeper_started;
    pthread_mutex_t mu;            /* guards stopping and the wake-ups */
    pthread_cond_t cond;
    bool stopping;
    unsigned wakeups;
    struct obs_family *m_jobs;     /* counter {kind, outcome} */
    struct obs_family *m_duration; /* histogram {kind} */
    struct obs_family *m_stage;    /* histogram {stage, outcome} */
};

bool ingest_err_retryable(cc_err err)
{
    switch (err) {
    case CC_EINVAL:
    case CC_EPARSE:
    case CC_EUNSUPPORTED:
    case CC_ENOTFOUND:
    case CC_EPERM:
    case CC_EAUTH:
    case CC_ELIMIT:      /* too large stays too large */
        return false;
    default:
        return true;
    }
}

void ingest_job_errorf(struct ingest_job_ctx *jc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(jc->error, sizeof(jc->error), fmt, ap);
    va_end(ap);
}

static void observe_stage(struct ingest_job_ctx *jc, const char *outcome)
{
    struct slot *sl = &jc->workers->slots[jc->slot];
    char stage[16];
    pthread_mutex_lock(&sl->mu);
    memcpy(stage, sl->stage, sizeof(stage));
    pthread_mutex_unlock(&sl->mu);
    if (!stage[0])
        return;
    int64_t now = cc_mono_ms(jc->ctx->clock);
    const char *lv[] = {stage, outcome};
    obs_histogram_observe(obs_series_get(jc->workers->m_stage, lv),
                          (double)(now - jc->stage_started_ms) / 1000.0);
}

void ingest_job_stage(struct ingest_job_ctx *jc, const char *stage)
{
    struct slot *sl = &jc->workers->slots[jc->slot];
    observe_stage(jc, "ok");
    /* Memory only: the lease keeper writes the stage with its next
     * heartbeat, so a stage costs no store write of its own. */
    pthread_mutex_lock(&sl->mu);
    cc_strlcpy(sl->stage, stage, sizeof(sl->stage));
    pthread_mutex_unlock(&sl->mu);
    jc->stage_started_ms = cc_mono_ms(jc->ctx->clock);
}

/* ------------------------------------------------------------------ */

struct claim {
    struct cc_arena *arena;
    struct store_job job;
    bool found;
};

static const char *dup_or_null(struct cc_arena *a, const char *s)
{
    return s ? cc_arena_strdup(a, s) : NULL;
}

/* Copies the claimed job out of the store's callback into the arena. */
static void on_claim(void *arg, const struct store_job *j)
{
    struct claim *c = arg;
    c->job = *j;
    c->job.kind = dup_or_null(c->arena, j->kind);
    c->job.state = dup_or_null(c->arena, j->state);
    c->job.dedup_key = dup_or_null(c->arena, j->dedup_key);
    c->job.lease_owner = dup_or_null(c->arena, j->lease_owner);
    c->job.stage = dup_or_null(c->arena, j->stage);
    c->job.last_error = dup_or_null(c->arena, j->last_error);
    c->job.payload = NULL;
    if (j->payload && j->payload_len) {
        char *p = cc_arena_alloc(c->arena, j->payload_len + 1);
        if (p) {
            memcpy(p, j->payload, j->payload_len);
            p[j->payload_len] = '\0';
            c->job.payload = p;
        }
    }
    c->found = c->job.kind != NULL && (c->job.payload || !j->payload_len);
}

static const struct ingest_kind *find_kind(struct ingest_workers *w, const char *kind)
{
    for (size_t i = 0; i < w->cfg.nkinds; i++)
        if (strcmp(w->cfg.kinds[i].kind, kind) == 0)
            return &w->cfg.kinds[i];
    return NULL;
}

static void set_slot(struct slot *sl, int64_t job_id)
{
    pthread_mutex_lock(&sl->mu);
    sl->job_id = job_id;
    sl->stage[0] = '\0';
    pthread_mutex_unlock(&sl->mu);
}

/* Records the outcome: succeeded, failed with a retry time, or dead. */
static void finish(struct ingest_workers *w, struct ingest_job_ctx *jc, cc_err err,
                   double secs)
{
    struct store *st = w->ctx->store;
    const struct store_job *job = jc->job;
    const char *owner = w->slots[jc->slot].owner;
    int64_t now = cc_wall_ms(w->ctx->clock);
    const char *outcome = "succeeded";
    cc_err serr;
    if (!err) {
        serr = st->ops->job_succeed(st, job->id, owner, now);
    } else {
        if (!jc->error[0])
            snprintf(jc->error, sizeof(jc->error), "%s", cc_err_str(err));
        bool retry = ingest_err_retryable(err) && job->attempts < job->max_attempts;
        int64_t at = retry ? now + cc_backoff_delay_ms(&w->cfg.backoff, (unsigned)job->attempts)
                           : 0;
        outcome = retry ? "failed" : "dead";
        serr = st->ops->job_fail(st, job->id, owner, now, jc->error, at);
        cc_log_emit(w->ctx->log, retry ? CC_LOG_WARN : CC_LOG_ERROR, "jobs",
                    retry ? "job failed; will retry" : "job failed for good",
                    CC_LOG_FIELDS(CC_LI("job_id", job->id), CC_LS("kind", job->kind),
                                  CC_LI("attempt", job->attempts), CC_LS("error", jc->error)));
        if (!retry) {
            struct store_event ev = {.ts_ms = now, .kind = "job.dead", .message = jc->error};
            int64_t id;
            st->ops->event_append(st, &ev, &id);
        }
    }
    observe_stage(jc, err ? "error" : "ok");
    if (serr == CC_ESTATE)
        cc_log_warn(w->ctx->log, "jobs", "lost the job's lease before finishing; another "
                    "worker runs it again", CC_LI("job_id", job->id));
    else if (serr)
        cc_log_error(w->ctx->log, "jobs", "cannot record the job's outcome",
                     CC_LI("job_id", job->id), CC_LS("error", cc_err_str(serr)));
    const char *lv[] = {job->kind, outcome};
    obs_counter_inc(obs_series_get(w->m_jobs, lv));
    const char *dv[] = {job->kind};
    obs_histogram_observe(obs_series_get(w->m_duration, dv), secs);
}

static void run_job(struct ingest_workers *w, unsigned idx, struct claim *c)
{
    struct ingest_job_ctx jc = {.ctx = w->ctx, .workers = w, .job = &c->job,
                                .arena = c->arena, .slot = idx};
    struct slot *sl = &w->slots[idx];
    set_slot(sl, c->job.id);
    jc.stage_started_ms = cc_mono_ms(w->ctx->clock);
    int64_t t0 = jc.stage_started_ms;
    const struct ingest_kind *k = find_kind(w, c->job.kind);
    cc_err err;
    if (!k) {
        err = CC_EUNSUPPORTED;
        ingest_job_errorf(&jc, "no handler for job kind '%s' in this version", c->job.kind);
    } else {
        jc.data = k->data;
        char rid[32];
        snprintf(rid, sizeof(rid), "job-%lld", (long long)c->job.id);
        cc_log_scope_set(rid, NULL, NULL);
        err = k->run(&jc);
        cc_log_scope_set(NULL, NULL, NULL);
    }
    finish(w, &jc, err, (double)(cc_mono_ms(w->ctx->clock) - t0) / 1000.0);
    set_slot(sl, 0);
}

static bool wait_for_work(struct ingest_workers *w, unsigned *seen)
{
    pthread_mutex_lock(&w->mu);
    if (!w->stopping && w->wakeups == *seen) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (w->cfg.poll_ms % 1000) * 1000000;
        ts.tv_sec += w->cfg.poll_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&w->cond, &w->mu, &ts);
    }
    *seen = w->wakeups;
    bool stop = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return !stop;
}

struct worker_arg {
    struct ingest_workers *w;
    unsigned idx;
};

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct ingest_workers *w = wa->w;
    unsigned idx = wa->idx;
    free(wa);
    struct store *st = w->ctx->store;
    unsigned seen = 0;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        struct cc_arena arena;
        cc_arena_init(&arena, JOB_ARENA_BLOCK, JOB_ARENA_LIMIT);
        struct claim c = {.arena = &arena};
        int64_t now = cc_wall_ms(w->ctx->clock);
        cc_err err = st->ops->job_claim(st, w->slots[idx].owner, now, w->cfg.lease_ms,
                                        on_claim, &c);
        if (!err && c.found)
            run_job(w, idx, &c);
        cc_arena_release(&arena);
        if (err == CC_ENOTFOUND || (err && err != CC_EAGAIN)) {
            if (err != CC_ENOTFOUND)
                cc_log_warn(w->ctx->log, "jobs", "cannot claim a job",
                            CC_LS("error", cc_err_str(err)));
            if (!wait_for_work(w, &seen))
                break;
        }
    }
    return NULL;
}

/* Extends the leases of running jobs every lease/3. */
static void *keeper_main(void *arg)
{
    struct ingest_workers *w = arg;
    struct store *st = w->ctx->store;
    int64_t period = w->cfg.lease_ms / 3 > 0 ? w->cfg.lease_ms / 3 : 1;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (!w->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (period % 1000) * 1000000;
            ts.tv_sec += period / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&w->cond, &w->mu, &ts);
        }
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            return NULL;
        for (unsigned i = 0; i < w->nslots; i++) {
            struct slot *sl = &w->slots[i];
            pthread_mutex_lock(&sl->mu);
            int64_t id = sl->job_id;
            char stage[16];
            memcpy(stage, sl->stage, sizeof(stage));
            pthread_mutex_unlock(&sl->mu);
            if (!id)
                continue;
            int64_t until = cc_wall_ms(w->ctx->clock) + w->cfg.lease_ms;
            cc_err err = st->ops->job_heartbeat(st, id, sl->owner, until,
                                                stage[0] ? stage : NULL);
            if (err)
                cc_log_warn(w->ctx->log, "jobs", "cannot extend a job's lease",
                            CC_LI("job_id", id), CC_LS("error", cc_err_str(err)));
        }
    }
}

static void register_metrics(struct ingest_workers *w)
{
    static const char *const kind_outcome[] = {"kind", "outcome", NULL};
    static const char *const kind[] = {"kind", NULL};
    static const char *const stage_outcome[] = {"stage", "outcome", NULL};
    w->m_jobs = obs_counter(w->ctx->metrics, "cc_jobs_total",
                            "Job attempts finished, by kind and outcome "
                            "(succeeded, failed = will retry, dead).", kind_outcome);
    w->m_duration = obs_histogram(w->ctx->metrics, "cc_job_duration_seconds",
                                  "Time a job attempt ran, by kind.", kind,
                                  obs_latency_buckets, obs_latency_buckets_len);
    w->m_stage = obs_histogram(w->ctx->metrics, "cc_job_stage_duration_seconds",
                               "Time spent in each pipeline stage, by outcome.",
                               stage_outcome, obs_latency_buckets, obs_latency_buckets_len);
}

cc_err ingest_workers_start(struct cc_ctx *ctx, const struct ingest_workers_cfg *cfg,
                            struct ingest_workers **out)
{
    if (cfg->threads == 0 || cfg->lease_ms <= 0 || cfg->max_attempts < 1)
        return CC_EINVAL;
    struct ingest_workers *w = cc_xcalloc(1, sizeof(*w));
    w->ctx = ctx;
    w->cfg = *cfg;
    if (w->cfg.poll_ms <= 0)
        w->cfg.poll_ms = 1000;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    register_metrics(w);
    w->slots = cc_xcalloc(cfg->threads, sizeof(*w->slots));
    for (unsigned i = 0; i < cfg->threads; i++) {
        struct slot *sl = &w->slots[i];
        pthread_mutex_init(&sl->mu, NULL);
        snprintf(sl->owner, sizeof(sl->owner), "%s/%u", cfg->node_id ? cfg->node_id : "node", i);
        struct worker_arg *wa = cc_xmalloc(sizeof(*wa));
        wa->w = w;
        wa->idx = i;
        if (pthread_create(&sl->thread, NULL, worker_main, wa) != 0) {
            free(wa);
            ingest_workers_stop(w, 0);
            ingest_workers_free(w);
            return CC_EIO;
        }
        w->nslots = i + 1;
    }
    if (pthread_create(&w->keeper, NULL, keeper_main, w) != 0) {
        ingest_workers_stop(w, 0);
        ingest_workers_free(w);
        return CC_EIO;
    }
    w->keeper_started = true;
    *out = w;
    return CC_OK;
}

void ingest_workers_wake(struct ingest_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->wakeups++;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

static bool any_busy(struct ingest_workers *w)
{
    for (unsigned i = 0; i < w->nslots; i++) {
        pthread_mutex_lock(&w->slots[i].mu);
        bool busy = w->slots[i].job_id != 0;
        pthread_mutex_unlock(&w->slots[i].mu);
        if (busy)
            return true;
    }
    return false;
}

void ingest_workers_stop(struct ingest_workers *w, int64_t deadline_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    bool already = w->stopping;
    w->stopping = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    if (already)
        return;
    struct cc_clock *clk = w->ctx->clock;
    int64_t until = cc_mono_ms(clk) + deadline_ms;
    while (any_busy(w) && cc_mono_ms(clk) < until)
        clk->sleep_ms(clk, 20);
    /* A handler still running is waited for: cancelling a thread in the
     * middle of a store write would be worse than a late exit, and every
     * handler has its own timeouts. */
    if (any_busy(w))
        cc_log_warn(w->ctx->log, "jobs", "shutdown deadline passed; waiting for running "
                    "jobs to finish");
    for (unsigned i = 0; i < w->nslots; i++)
        pthread_join(w->slots[i].thread, NULL);
    if (w->keeper_started)
        pthread_join(w->keeper, NULL);
}

void ingest_workers_free(struct ingest_workers *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < w->nslots; i++)
        pthread_mutex_destroy(&w->slots[i].mu);
    free(w->slots);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
