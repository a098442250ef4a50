/*
 * queue.c - worker threads over the store's job queue, and the lease keeper.
 *
 * Per worker there is one slot: the jobs of its batch not finished yet
 * (held, whose leases the keeper extends) and the one its handler runs now
 * (id, stage), guarded by the slot's mutex. Workers never share a job, so
 * the store's lease check (owner = "<node>/<slot>") is what stops a worker
 * whose lease was taken over from writing a result.
 *
 * A batch: claim about BATCH_MS of work (judged by the worker's recent
 * jobs), at most cfg.batch jobs, in one transaction, run their
 * handlers one after another (a handler error is recorded at once), then
 * write the deferred documents and the successes in one transaction. The
 * batch is written early once its jobs' arenas hold BATCH_BYTES, so a
 * batch of large uploads does not pile up in memory, and once its
 * handlers ran for BATCH_MS, so slow jobs do not hold finished ones back.
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
#define BATCH_DEFAULT 256u
#define BATCH_FIRST 16u                /* claimed before the worker knows its jobs' times */
#define BATCH_BYTES (16u << 20)        /* arena bytes after which a batch is written early */
#define BATCH_MS 1000                  /* the work a batch is sized for, and after which
                                        * it is written early */

struct slot {
    pthread_t thread;
    pthread_mutex_t mu;
    int64_t job_id;                /* the job whose handler runs; 0 = none */
    int64_t *held;                 /* claimed, not finished: cfg.batch entries */
    size_t nheld;
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

void ingest_job_defer_doc(struct ingest_job_ctx *jc, const struct store_doc *doc, bool count,
                          ingest_written_fn written, void *arg)
{
    jc->deferred = doc;
    jc->deferred_count = count;
    jc->written = written;
    jc->written_arg = arg;
}

/* ------------------------------------------------------------------ */

/* One claimed job of a batch, with its own arena. */
struct bjob {
    struct cc_arena arena;
    struct store_job job;
    struct ingest_job_ctx jc;
    cc_err err;
    bool ok;                       /* copied out whole */
    int64_t t0;                    /* mono ms when its handler started */
    double secs;                   /* handler time */
    char rid[32];                  /* log scope "job-<id>": borrowed by the logger */
};

struct batch {
    struct bjob *jobs;
    size_t n, cap;
};

static const char *dup_or_null(struct cc_arena *a, const char *s)
{
    return s ? cc_arena_strdup(a, s) : NULL;
}

/* Copies a claimed job out of the store's callback into its own arena. */
static void on_claim(void *arg, const struct store_job *j)
{
    struct batch *b = arg;
    if (b->n == b->cap)
        return;                    /* cannot happen: the claim asks for at most cap */
    struct bjob *bj = &b->jobs[b->n++];
    memset(bj, 0, sizeof(*bj));
    cc_arena_init(&bj->arena, JOB_ARENA_BLOCK, JOB_ARENA_LIMIT);
    struct cc_arena *a = &bj->arena;
    bj->job = *j;
    bj->job.kind = dup_or_null(a, j->kind);
    bj->job.state = dup_or_null(a, j->state);
    bj->job.dedup_key = dup_or_null(a, j->dedup_key);
    bj->job.lease_owner = dup_or_null(a, j->lease_owner);
    bj->job.stage = dup_or_null(a, j->stage);
    bj->job.last_error = dup_or_null(a, j->last_error);
    bj->job.payload = NULL;
    if (j->payload && j->payload_len) {
        char *p = cc_arena_alloc(a, j->payload_len + 1);
        if (p) {
            memcpy(p, j->payload, j->payload_len);
            p[j->payload_len] = '\0';
            bj->job.payload = p;
        }
    }
    bj->ok = bj->job.kind != NULL && (bj->job.payload || !j->payload_len);
}

static const struct ingest_kind *find_kind(struct ingest_workers *w, const char *kind)
{
    for (size_t i = 0; i < w->cfg.nkinds; i++)
        if (strcmp(w->cfg.kinds[i].kind, kind) == 0)
            return &w->cfg.kinds[i];
    return NULL;
}

static void set_current(struct slot *sl, int64_t job_id)
{
    pthread_mutex_lock(&sl->mu);
    sl->job_id = job_id;
    sl->stage[0] = '\0';
    pthread_mutex_unlock(&sl->mu);
}

/* The batch's jobs become the slot's held jobs (the keeper extends them). */
static void hold(struct slot *sl, const struct batch *b)
{
    pthread_mutex_lock(&sl->mu);
    sl->nheld = 0;
    for (size_t i = 0; i < b->n; i++)
        sl->held[sl->nheld++] = b->jobs[i].job.id;
    pthread_mutex_unlock(&sl->mu);
}

static void unhold(struct slot *sl, int64_t id)
{
    pthread_mutex_lock(&sl->mu);
    for (size_t i = 0; i < sl->nheld; i++) {
        if (sl->held[i] == id) {
            sl->held[i] = sl->held[--sl->nheld];
            break;
        }
    }
    pthread_mutex_unlock(&sl->mu);
}

static void count_attempt(struct ingest_workers *w, const struct bjob *bj, const char *outcome,
                          double secs)
{
    const char *lv[] = {bj->job.kind, outcome};
    obs_counter_inc(obs_series_get(w->m_jobs, lv));
    const char *dv[] = {bj->job.kind};
    obs_histogram_observe(obs_series_get(w->m_duration, dv), secs);
}

/* A failed attempt: failed with a retry time, or dead. */
static void fail_job(struct ingest_workers *w, struct bjob *bj, cc_err err, double secs)
{
    struct store *st = w->ctx->store;
    struct ingest_job_ctx *jc = &bj->jc;
    const struct store_job *job = &bj->job;
    const char *owner = w->slots[jc->slot].owner;
    int64_t now = cc_wall_ms(w->ctx->clock);
    if (!jc->error[0])
        snprintf(jc->error, sizeof(jc->error), "%s", cc_err_str(err));
    bool retry = ingest_err_retryable(err) && job->attempts < job->max_attempts;
    int64_t at = retry ? now + cc_backoff_delay_ms(&w->cfg.backoff, (unsigned)job->attempts) : 0;
    cc_err serr = st->ops->job_fail(st, job->id, owner, now, jc->error, at);
    cc_log_emit(w->ctx->log, retry ? CC_LOG_WARN : CC_LOG_ERROR, "jobs",
                retry ? "job failed; will retry" : "job failed for good",
                CC_LOG_FIELDS(CC_LI("job_id", job->id), CC_LS("kind", job->kind),
                              CC_LI("attempt", job->attempts), CC_LS("error", jc->error)));
    if (!retry) {
        struct store_event ev = {.ts_ms = now, .kind = "job.dead", .message = jc->error};
        int64_t id;
        st->ops->event_append(st, &ev, &id);
    }
    if (serr == CC_ESTATE)
        cc_log_warn(w->ctx->log, "jobs", "lost the job's lease before finishing; another "
                    "worker runs it again", CC_LI("job_id", job->id));
    else if (serr)
        cc_log_error(w->ctx->log, "jobs", "cannot record the job's outcome",
                     CC_LI("job_id", job->id), CC_LS("error", cc_err_str(serr)));
    count_attempt(w, bj, retry ? "failed" : "dead", secs);
}

/* The logger borrows the string: it lives in the job, not on this frame. */
static void scope_set(struct bjob *bj)
{
    snprintf(bj->rid, sizeof(bj->rid), "job-%lld", (long long)bj->job.id);
    cc_log_scope_set(bj->rid, NULL, NULL);
}

/* Runs the handler of one job; a failure is recorded at once. */
static void run_handler(struct ingest_workers *w, unsigned idx, struct bjob *bj)
{
    struct slot *sl = &w->slots[idx];
    struct ingest_job_ctx *jc = &bj->jc;
    *jc = (struct ingest_job_ctx){.ctx = w->ctx, .workers = w, .job = &bj->job,
                                  .arena = &bj->arena, .slot = idx};
    set_current(sl, bj->job.id);
    bj->t0 = jc->stage_started_ms = cc_mono_ms(w->ctx->clock);
    const struct ingest_kind *k = bj->ok ? find_kind(w, bj->job.kind) : NULL;
    if (!bj->ok) {
        bj->err = CC_ENOMEM;
        ingest_job_errorf(jc, "the job does not fit in memory");
    } else if (!k) {
        bj->err = CC_EUNSUPPORTED;
        ingest_job_errorf(jc, "no handler for job kind '%s' in this version", bj->job.kind);
    } else {
        jc->data = k->data;
        scope_set(bj);
        bj->err = k->run(jc);
        cc_log_scope_set(NULL, NULL, NULL);
    }
    if (bj->err)
        jc->deferred = NULL;
    observe_stage(jc, bj->err ? "error" : "ok");
    set_current(sl, 0);
    bj->secs = (double)(cc_mono_ms(w->ctx->clock) - bj->t0) / 1000.0;
    if (bj->err) {
        fail_job(w, bj, bj->err, bj->secs);
        unhold(sl, bj->job.id);
    }
}

/* Writes jobs[from, to) that succeeded - their deferred documents and
 * their successes - in one transaction, then settles each. */
static void write_batch(struct ingest_workers *w, unsigned idx, struct bjob *jobs, size_t from,
                        size_t to)
{
    struct slot *sl = &w->slots[idx];
    struct store_doc_write items[STORE_BATCH_MAX];
    struct bjob *owners[STORE_BATCH_MAX];
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        if (jobs[i].err)
            continue;
        owners[n] = &jobs[i];
        items[n++] = (struct store_doc_write){.doc = jobs[i].jc.deferred,
                                              .count = jobs[i].jc.deferred_count,
                                              .job_id = jobs[i].job.id};
    }
    if (n == 0)
        return;
    int64_t t0 = cc_mono_ms(w->ctx->clock);
    cc_err berr = store_doc_write_batch(w->ctx->store, sl->owner, cc_wall_ms(w->ctx->clock),
                                        items, n);
    double wsecs = (double)(cc_mono_ms(w->ctx->clock) - t0) / 1000.0;
    const char *sv[] = {"commit", berr ? "error" : "ok"};
    obs_histogram_observe(obs_series_get(w->m_stage, sv), wsecs);
    if (berr)
        cc_log_warn(w->ctx->log, "jobs", "cannot write a batch of jobs",
                    CC_LI("jobs", (int64_t)n), CC_LS("error", cc_err_str(berr)));
    for (size_t i = 0; i < n; i++) {
        struct bjob *bj = owners[i];
        cc_err err = items[i].err;
        double secs = bj->secs + wsecs;
        if (bj->jc.written) {
            scope_set(bj);
            err = bj->jc.written(&bj->jc, bj->jc.written_arg, err, items[i].result,
                                 items[i].doc_id);
            cc_log_scope_set(NULL, NULL, NULL);
        }
        if (err == CC_ESTATE) {
            cc_log_warn(w->ctx->log, "jobs", "lost the job's lease before finishing; another "
                        "worker runs it again", CC_LI("job_id", bj->job.id));
            count_attempt(w, bj, "succeeded", secs);
        } else if (err) {
            if (!bj->jc.error[0])
                ingest_job_errorf(&bj->jc, "cannot record the job's result: %s",
                                  cc_err_str(err));
            fail_job(w, bj, err, secs);
        } else {
            count_attempt(w, bj, "succeeded", secs);
        }
        unhold(sl, bj->job.id);
    }
}

static bool is_stopping(struct ingest_workers *w)
{
    pthread_mutex_lock(&w->mu);
    bool stop = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

/* On shutdown the jobs of the batch not started yet are left to their
 * leases (they run again after the lease, here or on another node), so a
 * batch of slow jobs does not hold the shutdown up. */
/* Returns the handler seconds of the jobs it ran; *out_ran gets their count. */
static double run_batch(struct ingest_workers *w, unsigned idx, struct batch *b, size_t *out_ran)
{
    double secs = 0;
    *out_ran = 0;
    hold(&w->slots[idx], b);
    size_t from = 0, bytes = 0;
    int64_t since = cc_mono_ms(w->ctx->clock);
    for (size_t i = 0; i < b->n; i++) {
        if (i > from && is_stopping(w)) {
            write_batch(w, idx, b->jobs, from, i);
            for (size_t k = from; k < i; k++)
                cc_arena_release(&b->jobs[k].arena);
            from = i;
            bytes = 0;
        }
        if (is_stopping(w)) {
            for (size_t k = i; k < b->n; k++) {
                unhold(&w->slots[idx], b->jobs[k].job.id);
                cc_arena_release(&b->jobs[k].arena);
            }
            break;
        }
        run_handler(w, idx, &b->jobs[i]);
        secs += b->jobs[i].secs;
        (*out_ran)++;
        bytes += b->jobs[i].arena.used;
        int64_t now = cc_mono_ms(w->ctx->clock);
        /* Slow jobs (large PDFs) should not hold finished ones back. */
        if (bytes >= BATCH_BYTES || now - since >= BATCH_MS || i + 1 == b->n) {
            since = now;
            write_batch(w, idx, b->jobs, from, i + 1);
            for (size_t k = from; k <= i; k++)
                cc_arena_release(&b->jobs[k].arena);
            from = i + 1;
            bytes = 0;
        }
    }
    b->n = 0;
    return secs;
}

/* How many jobs to claim: about BATCH_MS of work by the mean handler time
 * of the worker's recent jobs (-1: none yet), at most cfg.batch. Quick
 * documents go in large batches (one commit for many); slow ones (PDFs) in
 * small ones, so one worker never sits on a queue the others could share. */
static size_t claim_size(const struct ingest_workers *w, double job_ms)
{
    size_t cap = w->cfg.batch;
    if (job_ms < 0)
        return cap < BATCH_FIRST ? cap : BATCH_FIRST;
    double n = (double)BATCH_MS / (job_ms > 0.001 ? job_ms : 0.001);
    return n >= (double)cap ? cap : n < 1.0 ? 1 : (size_t)n;
}

static bool wait_for_work(struct ingest_workers *w, unsigned *seen)
{
    pthread_mutex_lock(&w->mu);
    if (!w->stopping && w->wakeups == *seen)
        cc_wait_until(w->ctx->clock, &w->cond, &w->mu,
                      cc_mono_ms(w->ctx->clock) + w->cfg.poll_ms);
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
    struct batch b = {.cap = w->cfg.batch};
    b.jobs = cc_xcalloc(b.cap, sizeof(*b.jobs));
    unsigned seen = 0;
    double job_ms = -1;            /* mean handler time of recent jobs; -1 = none yet */
    for (;;) {
        pthread_mutex_lock(&w->mu);
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            break;
        int64_t now = cc_wall_ms(w->ctx->clock);
        cc_err err = store_job_claim_batch(st, w->slots[idx].owner, now, w->cfg.lease_ms,
                                           claim_size(w, job_ms), on_claim, &b);
        size_t ran = 0;
        double secs = !err && b.n ? run_batch(w, idx, &b, &ran) : 0;
        if (ran) {
            double mean = secs * 1000.0 / (double)ran;
            job_ms = job_ms < 0 ? mean : 0.5 * job_ms + 0.5 * mean;
        }
        for (size_t i = 0; i < b.n; i++)
            cc_arena_release(&b.jobs[i].arena);
        b.n = 0;
        if (err == CC_ENOTFOUND || (err && err != CC_EAGAIN)) {
            if (err != CC_ENOTFOUND)
                cc_log_warn(w->ctx->log, "jobs", "cannot claim a job",
                            CC_LS("error", cc_err_str(err)));
            if (!wait_for_work(w, &seen))
                break;
        }
    }
    free(b.jobs);
    return NULL;
}

/* Heartbeats every job the slot holds; the stage goes with the job whose
 * handler runs. */
static void keep_leases(struct ingest_workers *w, struct slot *sl)
{
    struct store *st = w->ctx->store;
    int64_t ids[STORE_BATCH_MAX];
    char stage[16];
    pthread_mutex_lock(&sl->mu);
    int64_t current = sl->job_id;
    size_t n = sl->nheld;
    memcpy(ids, sl->held, n * sizeof(*ids));
    memcpy(stage, sl->stage, sizeof(stage));
    pthread_mutex_unlock(&sl->mu);
    for (size_t k = 0; k < n; k++) {
        int64_t until = cc_wall_ms(w->ctx->clock) + w->cfg.lease_ms;
        const char *sg = ids[k] == current && stage[0] ? stage : NULL;
        cc_err err = st->ops->job_heartbeat(st, ids[k], sl->owner, until, sg);
        if (err)
            cc_log_warn(w->ctx->log, "jobs", "cannot extend a job's lease",
                        CC_LI("job_id", ids[k]), CC_LS("error", cc_err_str(err)));
    }
}

/* Extends the leases of running jobs every lease/3. */
static void *keeper_main(void *arg)
{
    struct ingest_workers *w = arg;
    int64_t period = w->cfg.lease_ms / 3 > 0 ? w->cfg.lease_ms / 3 : 1;
    int64_t due = cc_mono_ms(w->ctx->clock) + period;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        if (!w->stopping)
            cc_wait_until(w->ctx->clock, &w->cond, &w->mu, due);
        bool stop = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (stop)
            return NULL;
        /* The condition variable is shared with the workers' wake-ups:
         * heartbeat only when a period has passed. */
        int64_t now = cc_mono_ms(w->ctx->clock);
        if (now < due)
            continue;
        due = now + period;
        for (unsigned i = 0; i < w->nslots; i++)
            keep_leases(w, &w->slots[i]);
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
    if (w->cfg.batch == 0)
        w->cfg.batch = BATCH_DEFAULT;
    if (w->cfg.batch > STORE_BATCH_MAX)
        w->cfg.batch = STORE_BATCH_MAX;
    pthread_mutex_init(&w->mu, NULL);
    if (cc_clock_cond_init(&w->cond) != 0)   /* only on resource exhaustion */
        abort();
    register_metrics(w);
    w->slots = cc_xcalloc(cfg->threads, sizeof(*w->slots));
    for (unsigned i = 0; i < cfg->threads; i++) {
        struct slot *sl = &w->slots[i];
        pthread_mutex_init(&sl->mu, NULL);
        sl->held = cc_xcalloc(w->cfg.batch, sizeof(*sl->held));
        snprintf(sl->owner, sizeof(sl->owner), "%s/%u", cfg->node_id ? cfg->node_id : "node", i);
        struct worker_arg *wa = cc_xmalloc(sizeof(*wa));
        wa->w = w;
        wa->idx = i;
        if (pthread_create(&sl->thread, NULL, worker_main, wa) != 0) {
            free(wa);
            free(sl->held);
            pthread_mutex_destroy(&sl->mu);
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
        bool busy = w->slots[i].job_id != 0 || w->slots[i].nheld != 0;
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
    for (unsigned i = 0; i < w->nslots; i++) {
        pthread_mutex_destroy(&w->slots[i].mu);
        free(w->slots[i].held);
    }
    free(w->slots);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
