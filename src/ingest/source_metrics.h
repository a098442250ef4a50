/*
 * source_metrics.h - how fresh and how healthy each knowledge source is,
 * as metrics an operator can alert on (docs/OBSERVABILITY.md):
 *
 *   cc_source_runs_total{source,result}              counter, result ok|failed:
 *                                                    runs as they end in this daemon
 *   cc_source_last_success_timestamp_seconds{source} gauge: Unix time of the last
 *                                                    successful run; 0 = none known
 *   cc_source_consecutive_failures{source}           gauge: failed runs since the
 *                                                    last success (the store's count)
 *
 * The gauges come from the store at scrape time (a collector), so they
 * survive a restart and include runs of other daemons on the same
 * PostgreSQL database; a success recorded by this daemon is also set at
 * once. The store keeps only the last run's time and status, so after a
 * restart a source whose last run failed reads 0 until it succeeds again.
 * Labels are source names: bounded by the sources that exist.
 */
#ifndef CC_INGEST_SOURCE_METRICS_H
#define CC_INGEST_SOURCE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct cc_ctx;
struct obs_registry;
struct ingest_source_metrics;

/* Registers the families and the collector over ctx->store; NULL when
 * ctx has no metrics registry. Free with ingest_source_metrics_free. */
struct ingest_source_metrics *ingest_source_metrics_new(struct cc_ctx *ctx);
/* Unregisters the collector (it is not running when this returns). NULL-safe. */
void ingest_source_metrics_free(struct ingest_source_metrics *m);

/* A source run ended (its last part, for a run in several parts). Only
 * touches the registry: safe from any thread, `metrics` may be NULL. */
void ingest_source_run_counted(struct obs_registry *metrics, const char *source, bool ok,
                               int64_t ran_ms);

#endif
