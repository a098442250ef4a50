/*
 * scheduler.c - the cron loop over the store's sources.
 */
#include "ingest/scheduler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/tz.h"
#include "ingest/cron.h"
#include "ingest/queue.h"
#include "ingest/source_metrics.h"
#include "store/store.h"

#define TICK_MS 1000
#define BACKOFF_CAP_MS (6LL * 3600 * 1000)
#define PRUNE_EVERY_MS (3600LL * 1000)

struct ingest_scheduler {
    struct cc_ctx *ctx;
    struct ingest_workers *workers;
    struct ingest_scheduler_cfg cfg;
    struct ingest_source_metrics *metrics;
    int64_t next_prune_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    bool woken;
};

int64_t ingest_failure_backoff_ms(int failures)
{
    if (failures <= 0)
        return 0;
    if (failures > 20)
        return BACKOFF_CAP_MS;
    int64_t ms = (1LL << failures) * 60 * 1000;
    return ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
}

cc_err ingest_schedule_next(const char *schedule, const char *tz, int64_t after_ms,
                            int64_t *out_ms, struct cc_diag *d)
{
    struct cron_expr expr;
    cc_err err = cron_parse(schedule, &expr, d);
    if (err)
        return err;
    struct cc_tz *zone = NULL;
    if (tz && *tz && strcmp(tz, "UTC") != 0) {
        err = cc_tz_load(tz, &zone, d);
        if (err)
            return err;
    }
    int64_t next_s;
    err = cron_next(&expr, zone ? zone : cc_tz_utc(), after_ms / 1000, &next_s);
    cc_tz_free(zone);
    if (err == CC_ENOTFOUND)
        cc_diag_set(d, NULL, 0, 0, "the schedule '%s' never fires", schedule);
    if (err)
        return err;
    *out_ms = next_s * 1000;
    return CC_OK;
}

cc_err ingest_enqueue_source_run(struct cc_ctx *ctx, int64_t source_id, unsigned queue_limit,
                                 int max_attempts, int64_t *out_job, bool *out_existing)
{
    char key[64], payload[64];
    snprintf(key, sizeof(key), "source.run:%lld", (long long)source_id);
    snprintf(payload, sizeof(payload), "{\"source_id\":%lld}", (long long)source_id);
    int64_t now = cc_wall_ms(ctx->clock);
    struct store_job j = {.kind = "source.run", .source_id = source_id, .dedup_key = key,
                          .payload = payload, .payload_len = strlen(payload),
                          .max_attempts = max_attempts, .next_run_ms = now,
                          .created_ms = now, .updated_ms = now};
    int64_t id = 0;
    bool existing = false;
    cc_err err = ctx->store->ops->job_enqueue(ctx->store, &j, queue_limit, &id, &existing);
    if (err)
        return err;
    if (out_job)
        *out_job = id;
    if (out_existing)
        *out_existing = existing;
    return CC_OK;
}

struct due {
    int64_t id;
    char *schedule;
    char *tz;
    char *name;
    int failures;
    int64_t last_run_ms;
};

struct due_list {
    struct due items[64];
    size_t n;
};

static void on_due(void *arg, const struct store_source *src)
{
    struct due_list *l = arg;
    if (l->n >= sizeof(l->items) / sizeof(l->items[0]))
        return;   /* the rest are still due at the next tick */
    struct due *d = &l->items[l->n++];
    d->id = src->id;
    d->schedule = src->schedule ? cc_xstrdup(src->schedule) : NULL;
    d->tz = src->tz ? cc_xstrdup(src->tz) : NULL;
    d->name = cc_xstrdup(src->name);
    d->failures = src->failures;
    d->last_run_ms = src->last_run_ms;
}

static void schedule_one(struct ingest_scheduler *s, const struct due *d, int64_t now)
{
    struct cc_ctx *ctx = s->ctx;
    struct store *st = ctx->store;
    cc_err err = ingest_enqueue_source_run(ctx, d->id, s->cfg.queue_limit,
                                           s->cfg.max_attempts, NULL, NULL);
    if (err && err != CC_ELIMIT)
        cc_log_warn(ctx->log, "scheduler", "cannot queue a source run",
                    CC_LS("source", d->name), CC_LS("error", cc_err_str(err)));
    int64_t next = 0;
    struct cc_diag diag = {0};
    if (d->schedule && ingest_schedule_next(d->schedule, d->tz, now, &next, &diag) != CC_OK) {
        cc_log_warn(ctx->log, "scheduler", "source schedule is invalid; not scheduling it",
                    CC_LS("source", d->name), CC_LS("error", diag.msg));
        next = 0;
    }
    int64_t floor = d->last_run_ms + ingest_failure_backoff_ms(d->failures);
    if (next && next < floor)
        next = floor;
    err = st->ops->source_schedule(st, d->id, next);
    if (err)
        cc_log_warn(ctx->log, "scheduler", "cannot store the next run",
                    CC_LS("source", d->name), CC_LS("error", cc_err_str(err)));
}

static void tick(struct ingest_scheduler *s)
{
    struct store *st = s->ctx->store;
    int64_t now = cc_wall_ms(s->ctx->clock);
    struct due_list l = {.n = 0};
    cc_err err = st->ops->source_due(st, now, on_due, &l);
    if (err && err != CC_ENOTFOUND)
        cc_log_warn(s->ctx->log, "scheduler", "cannot read due sources",
                    CC_LS("error", cc_err_str(err)));
    for (size_t i = 0; i < l.n; i++) {
        schedule_one(s, &l.items[i], now);
        free(l.items[i].schedule);
        free(l.items[i].tz);
        free(l.items[i].name);
    }
    if (l.n)
        ingest_workers_wake(s->workers);
    if (now >= s->next_prune_ms) {
        s->next_prune_ms = now + PRUNE_EVERY_MS;
        int64_t n = 0;
        err = st->ops->job_prune(st, now - s->cfg.job_retention_ms, &n);
        if (err)
            cc_log_warn(s->ctx->log, "scheduler", "cannot prune finished jobs",
                        CC_LS("error", cc_err_str(err)));
        else if (n)
            cc_log_info(s->ctx->log, "scheduler", "pruned finished jobs", CC_LI("jobs", n));
    }
}

static void *scheduler_main(void *arg)
{
    struct ingest_scheduler *s = arg;
    for (;;) {
        tick(s);
        pthread_mutex_lock(&s->mu);
        if (!s->stopping && !s->woken)
            cc_wait_until(s->ctx->clock, &s->cond, &s->mu, cc_mono_ms(s->ctx->clock) + TICK_MS);
        s->woken = false;
        bool stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
    }
}

cc_err ingest_scheduler_start(struct cc_ctx *ctx, struct ingest_workers *workers,
                              const struct ingest_scheduler_cfg *cfg,
                              struct ingest_scheduler **out)
{
    struct ingest_scheduler *s = cc_xcalloc(1, sizeof(*s));
    s->ctx = ctx;
    s->workers = workers;
    s->cfg = *cfg;
    pthread_mutex_init(&s->mu, NULL);
    if (cc_clock_cond_init(&s->cond) != 0)   /* only on resource exhaustion */
        abort();
    if (pthread_create(&s->thread, NULL, scheduler_main, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return CC_EIO;
    }
    s->metrics = ingest_source_metrics_new(ctx);
    *out = s;
    return CC_OK;
}

void ingest_scheduler_wake(struct ingest_scheduler *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->woken = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

void ingest_scheduler_stop(struct ingest_scheduler *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    bool already = s->stopping;
    s->stopping = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    if (!already)
        pthread_join(s->thread, NULL);
}

void ingest_scheduler_free(struct ingest_scheduler *s)
{
    if (!s)
        return;
    ingest_source_metrics_free(s->metrics);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
