/*
 * source_metrics.c - per-source freshness and outcomes (source_metrics.h).
 */
#include "ingest/source_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/ctx.h"
#include "observe/metrics.h"
#include "store/store.h"

struct ingest_source_metrics {
    struct cc_ctx *ctx;
    struct obs_family *last_success, *failures;
};

static const char *const source_label[] = {"source", NULL};

static struct obs_family *last_success_family(struct obs_registry *r)
{
    return obs_gauge(r, "cc_source_last_success_timestamp_seconds",
                     "Unix time of the source's last successful run; 0 = none known.",
                     source_label);
}

/* Never lowers the gauge: a success this daemon saw may be newer than
 * what the store says when the last run (maybe another daemon's) failed. */
static void raise_to(struct obs_series *s, double v)
{
    if (v > obs_series_value(s))
        obs_gauge_set(s, v);
}

static void collect_source(void *arg, const struct store_source *src)
{
    struct ingest_source_metrics *m = arg;
    const char *lv[] = {src->name};
    struct obs_series *ok = obs_series_get(m->last_success, lv);
    bool last_ok = src->last_status && strcmp(src->last_status, "ok") == 0;
    raise_to(ok, last_ok ? (double)src->last_run_ms / 1000.0 : 0);
    obs_gauge_set(obs_series_get(m->failures, lv), (double)src->failures);
}

static void collect(void *arg, struct obs_registry *r)
{
    struct ingest_source_metrics *m = arg;
    struct store *st = m->ctx->store;
    (void)r;
    st->ops->source_list(st, collect_source, m);
}

struct ingest_source_metrics *ingest_source_metrics_new(struct cc_ctx *ctx)
{
    if (!ctx->metrics || !ctx->store)
        return NULL;
    struct ingest_source_metrics *m = cc_xcalloc(1, sizeof(*m));
    m->ctx = ctx;
    m->last_success = last_success_family(ctx->metrics);
    m->failures = obs_gauge(ctx->metrics, "cc_source_consecutive_failures",
                            "Failed runs of the source since its last success.",
                            source_label);
    obs_register_collector(ctx->metrics, collect, m);
    return m;
}

void ingest_source_metrics_free(struct ingest_source_metrics *m)
{
    if (!m)
        return;
    obs_unregister_collector(m->ctx->metrics, collect, m);
    free(m);
}

void ingest_source_run_counted(struct obs_registry *metrics, const char *source, bool ok,
                               int64_t ran_ms)
{
    static const char *const labels[] = {"source", "result", NULL};
    if (!metrics || !source)
        return;
    const char *lv[] = {source, ok ? "ok" : "failed"};
    obs_counter_inc(obs_series_get(obs_counter(metrics, "cc_source_runs_total",
                                               "Source runs by how they ended (ok, failed).",
                                               labels),
                                   lv));
    if (ok)
        raise_to(obs_series_get(last_success_family(metrics), (const char *[]){source}),
                 (double)ran_ms / 1000.0);
}
